package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins"
	"github.com/qunguan/qunguan/plugins/export"
	"github.com/qunguan/qunguan/plugins/export/archive"
	"github.com/qunguan/qunguan/store"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// exportCmd is `qunguan export --group NAME --out DIR`: the same archive
// /export writes, from the command line, with a progress bar. The bot
// must be stopped (the database is one process's at a time); while it
// runs, /export in chat does the same.
func exportCmd(b Build, e Env, args []string) error {
	fs := newFlags(e, "export")
	cfgPath := fs.String("config", "config.yaml", "config file")
	dataDir := fs.String("data-dir", "", "data dir (overrides the config)")
	group := fs.String("group", "", "the group: its name, an earlier name, or its id (g_...)")
	out := fs.String("out", ".", "folder the archive is written into")
	formats := fs.String("formats", "", "jsonl,csv,xlsx,html,media or all (default: the config's plugins.export.formats)")
	redact := fs.Bool("redact", false, "mask phone and ID numbers (also on when the config says so)")
	var recipients stringList
	fs.Var(&recipients, "recipient", "age public key to encrypt to (repeatable; adds to the config's)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if _, err := parseFlags(e, fs, "export", args, 0); err != nil {
		return err
	}
	if *group == "" {
		return &usageError{"--group is required", usageOf(fs, "export")}
	}
	global, err := loadOffline(e, *cfgPath)
	if err != nil {
		if *dataDir == "" || fileExists(*cfgPath) {
			return err
		}
		// No config file but a data dir: the defaults will do.
		if global, err = bot.ParseConfig("(defaults)", []byte("platform: sim\n"), plugins.All()); err != nil {
			return err
		}
	}
	dir := global.DataPath()
	if *dataDir != "" {
		dir = *dataDir
	}
	db, err := store.Open(dir, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: the running bot holds the database (one process at a time). Stop the bot and run this again, or ask the running bot: /导出 in the group, or /导出 @群名 by DM (/export @GROUP)", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	g, err := findExportGroup(ctx, db, *group)
	if err != nil {
		return err
	}
	cfg, _ := global.PluginConfig("export", groupConfigName(global, g)).(*export.Config)
	if cfg == nil {
		cfg = export.DefaultConfig()
	}
	opts, err := export.Settings(cfg, global, b.Version)
	if err != nil {
		return err
	}
	if *formats != "" {
		if opts.Formats, err = archive.ParseFormats(*formats); err != nil {
			return err
		}
	}
	opts.Redact = opts.Redact || *redact
	opts.Recipients = append(opts.Recipients, recipients...)
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	opts.Dir = *out

	var bar *progressbar.ProgressBar
	scanned := false
	if !*quiet {
		opts.Progress = func(done, total int) {
			if scanned {
				return
			}
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(e.Stderr), progressbar.OptionSetDescription("导出 / exporting"),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("msg"),
					progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetPredictTime(true))
			}
			if total > bar.GetMax() {
				bar.ChangeMax(total)
			}
			_ = bar.Set(done)
			if done >= total {
				// The history is read; what follows reads the archive back.
				scanned = true
				_ = bar.Finish()
				fmt.Fprintln(e.Stderr, "\n写入完成，正在重新读取校验并打包 / written; verifying and zipping…")
			}
		}
	}
	fmt.Fprintf(e.Stderr, "exporting %s (%s) into %s\n", g.Name, g.ID, *out)
	res, err := archive.Write(ctx, archive.FromStore(db, g.ID), opts)
	if bar != nil && !scanned {
		_ = bar.Finish()
		fmt.Fprintln(e.Stderr)
	}
	if err != nil {
		_, _ = db.AppendAudit(ctx, bot.AuditEntry{Group: g.ID, GroupName: g.Name, Actor: "cli", Action: "export.failed", Detail: "export failed: " + err.Error()})
		return err
	}
	o, err := export.NewOutcome(export.Job{ID: "cli", Group: g.ID, By: "cli", Reason: "cli"}, res)
	if err != nil {
		return err
	}
	if _, err := db.AppendAudit(ctx, bot.AuditEntry{Group: g.ID, GroupName: g.Name, Actor: "cli", Action: "export.done",
		Detail: fmt.Sprintf("archive %s written and verified: %d records", o.Name, o.Records),
		Data: map[string]string{"reason": "cli", "manifest_sha256": o.ManifestSHA256, "file_sha256": o.FileSHA256,
			"records": strconv.FormatInt(o.Records, 10), "reconciled": strconv.FormatBool(o.Reconciled), "archive": o.Name}}); err != nil {
		return err
	}
	printOutcome(e.Stdout, g, o, res, global.Location)
	return nil
}

func printOutcome(w io.Writer, g bot.GroupRecord, o *export.Outcome, res *archive.Result, loc *time.Location) {
	fmt.Fprintf(w, "archive of %s (%s): written, re-read and verified\n", g.Name, g.ID)
	if o.Dir != "" {
		fmt.Fprintf(w, "  folder    %s\n  zip       %s\n", o.Dir, o.Zip)
	} else {
		fmt.Fprintf(w, "  encrypted %s\n", o.Encrypted)
	}
	days := "days"
	if o.Days == 1 {
		days = "day"
	}
	fmt.Fprintf(w, "  records   %d (%d messages from people) over %d %s\n", o.Records, o.Messages, o.Days, days)
	fmt.Fprintf(w, "  covers    %s to %s\n", o.WindowStart.In(loc).Format("2006-01-02 15:04"), o.WindowEnd.In(loc).Format("2006-01-02 15:04"))
	if len(o.Gaps) > 0 {
		fmt.Fprintf(w, "  offline   %d period(s), %s in all: those messages are not in the archive\n", len(o.Gaps), bot.FormatDuration(time.Duration(o.OfflineSeconds)*time.Second, bot.LangEN))
	}
	rec := "yes"
	if !o.Reconciled {
		rec = "NO: per-day counts differ from the database (see manifest.json)"
	}
	fmt.Fprintf(w, "  reconciled %s\n", rec)
	if o.Redacted >= 0 {
		fmt.Fprintf(w, "  redacted  %d numbers\n", o.Redacted)
	}
	fmt.Fprintf(w, "  manifest  sha256 %s\n", o.ManifestSHA256)
	fmt.Fprintf(w, "  took      %s (write %s, verify %s, zip %s)\n", res.Timings.Total.Round(time.Millisecond),
		res.Timings.Write.Round(time.Millisecond), res.Timings.Verify.Round(time.Millisecond), res.Timings.Zip.Round(time.Millisecond))
}

// findExportGroup finds a group as `qunguan stats` does (id, then name:
// exact, prefix, substring), and else by an earlier name: a group renamed
// (or given the freeze prefix) is still found by the name people knew.
func findExportGroup(ctx context.Context, db *store.DB, query string) (bot.GroupRecord, error) {
	gs, err := db.Groups(ctx)
	if err != nil {
		return bot.GroupRecord{}, err
	}
	g, err := findGroup(gs, query)
	if err == nil || strings.Contains(err.Error(), "several") {
		return g, err
	}
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(bot.FoldWidth(s)), "")) }
	var earlier []bot.GroupRecord
	for _, g := range gs {
		for _, h := range g.NameHistory {
			if norm(h.Name) == norm(query) {
				earlier = append(earlier, g)
				break
			}
		}
	}
	if len(earlier) == 1 {
		return earlier[0], nil
	}
	if len(earlier) > 1 {
		sort.Slice(earlier, func(i, j int) bool { return earlier[i].ID < earlier[j].ID })
		var b strings.Builder
		for _, g := range earlier {
			fmt.Fprintf(&b, "\n  %s  %s", g.ID, g.Name)
		}
		return bot.GroupRecord{}, fmt.Errorf("%q was the name of several groups; give the id with --group:%s", query, b.String())
	}
	return bot.GroupRecord{}, fmt.Errorf("%w; the bot knows only the groups it has seen", err)
}

// groupConfigName is the name the config's group entries know g by.
func groupConfigName(cfg *bot.Config, g bot.GroupRecord) string {
	if cfg.EntryFor(g.Name) >= 0 {
		return g.Name
	}
	for i := len(g.NameHistory) - 1; i >= 0; i-- {
		if cfg.EntryFor(g.NameHistory[i].Name) >= 0 {
			return g.NameHistory[i].Name
		}
	}
	return g.Name
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

var _ flag.Value = (*stringList)(nil)
