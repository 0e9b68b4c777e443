// Package cli implements the qunguan command line: run, demo,
// check-config, audit verify, export, stats, db check|compact|backup|backups|restore
// and version. cmd/qunguan only calls Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/qunguan/qunguan"
	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/internal/app"
	"github.com/qunguan/qunguan/internal/demo"
	"github.com/qunguan/qunguan/plugins"
	"github.com/qunguan/qunguan/store"
)

// Build describes the binary (stamped with -ldflags -X by the Makefile).
type Build struct {
	Version, Commit string
	// Platforms are the platform factories compiled in.
	Platforms map[string]app.PlatformFactory
}

// Env is the process environment the CLI runs in.
type Env struct {
	Args           []string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

const usage = `qunguan — WeChat group management bot (群管)

Usage:
  qunguan run [--config FILE] [--log-level info]  run the bot (platform from config)
  qunguan demo [--interactive]                    the bot on the simulated platform
  qunguan check-config [--config FILE]            validate a config file
  qunguan check-config --example                  print the commented example config
  qunguan audit verify [--config FILE]            verify the audit log's hash chain
  qunguan export --group NAME [--out DIR]         export a group's history (bot stopped)
        [--formats jsonl,csv,...] [--redact] [--recipient age1...]
  qunguan stats --group NAME [--days 30] [--csv] [--members] [--config FILE]
                                                  a group's statistics and health (bot stopped)
  qunguan db check [--config FILE]                check the database file
  qunguan db compact [--config FILE]              give unused space back (bot stopped)
  qunguan db backup [--config FILE]               write a backup now (bot stopped)
  qunguan db backups [--config FILE]              list backups, newest first
  qunguan db restore BACKUP [--config FILE]       put a backup in place (bot stopped)
  qunguan version                                 print the version
`

// Main runs the CLI and returns the process exit code.
func Main(b Build, e Env) int {
	if len(e.Args) < 2 {
		fmt.Fprint(e.Stderr, usage)
		return 2
	}
	cmd, args := e.Args[1], e.Args[2:]
	var err error
	switch cmd {
	case "run":
		err = runCmd(b, e, args)
	case "demo":
		err = demoCmd(e, args)
	case "check-config":
		err = checkConfigCmd(e, args)
	case "audit":
		err = auditCmd(e, args)
	case "export":
		err = exportCmd(b, e, args)
	case "stats":
		err = statsCmd(e, args)
	case "db":
		err = dbCmd(e, args)
	case "version", "--version", "-v":
		fmt.Fprintf(e.Stdout, "qunguan %s %s\n", b.Version, b.Commit)
	case "help", "-h", "--help":
		fmt.Fprint(e.Stdout, usage)
	default:
		fmt.Fprintf(e.Stderr, "qunguan: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "qunguan: %v\n", err)
		return 1
	}
	return 0
}

func newFlags(e Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("qunguan "+name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	return fs
}

func logger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func runCmd(b Build, e Env, args []string) error {
	fs := newFlags(e, "run")
	cfgPath := fs.String("config", "config.yaml", "config file")
	level := fs.String("log-level", "info", "debug, info, warn or error (message bodies are logged only at debug)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := logger(e.Stderr, *level)
	if err != nil {
		return err
	}
	if _, err := os.Stat(*cfgPath); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no config file %s; start from the example: qunguan check-config --example > %s", *cfgPath, *cfgPath)
	}
	platforms := map[string]app.PlatformFactory{}
	for k, v := range b.Platforms {
		platforms[k] = v
	}
	platforms["sim"] = demo.SimPlatform(e.Stdin, e.Stdout)
	err = app.Run(context.Background(), app.Options{ConfigPath: *cfgPath, Logger: log, Version: b.Version, Platforms: platforms})
	if errors.Is(err, app.ErrNoPlatform) {
		return fmt.Errorf("%w; this build cannot log in to WeChat. Use platform: sim to try the bot, or `qunguan demo`", err)
	}
	return err
}

func demoCmd(e Env, args []string) error {
	fs := newFlags(e, "demo")
	interactive := fs.Bool("interactive", false, "type as any simulated member or operator and watch the bot answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "qunguan-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *interactive {
		return demo.Interactive(dir, e.Stdin, e.Stdout)
	}
	return demo.Scripted(dir, e.Stdout)
}

func checkConfigCmd(e Env, args []string) error {
	fs := newFlags(e, "check-config")
	cfgPath := fs.String("config", "config.yaml", "config file")
	example := fs.Bool("example", false, "print the commented example config")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *example {
		_, err := e.Stdout.Write(qunguan.ExampleConfig)
		return err
	}
	cfg, err := bot.LoadConfig(*cfgPath, plugins.All())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "%s: ok (platform %s, %d group entries, %d operators, data dir %s)\n",
		cfg.Path, cfg.Platform, len(cfg.Groups), len(cfg.Operators), app.DataDir(cfg))
	return nil
}

// dataDirFrom loads just enough of the config to find the data dir, and
// the zone to show times in: the config's, or the machine's with
// --data-dir.
func dataDirFrom(e Env, name string, args []string) (string, *time.Location, []string, error) {
	fs := newFlags(e, name)
	cfgPath := fs.String("config", "config.yaml", "config file")
	dir := fs.String("data-dir", "", "data dir (overrides the config)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return "", nil, nil, err
	}
	if *dir != "" {
		return *dir, time.Local, rest, nil
	}
	cfg, err := bot.LoadConfig(*cfgPath, plugins.All())
	if err != nil {
		return "", nil, nil, err
	}
	return app.DataDir(cfg), cfg.Location, rest, nil
}

// parseInterspersed parses flags anywhere among the arguments ("db restore
// BACKUP --config FILE"), which the flag package alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func auditCmd(e Env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("usage: qunguan audit verify [--config FILE]")
	}
	dir, _, _, err := dataDirFrom(e, "audit verify", args[1:])
	if err != nil {
		return err
	}
	db, err := store.Open(dir, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := db.VerifyAudit(context.Background())
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("audit chain BROKEN at entry %d of %d%s: %s", rep.BrokenAt, rep.Entries, describeEntry(db, rep.BrokenAt), rep.Reason)
	}
	fmt.Fprintf(e.Stdout, "audit chain ok: %d entries, head %s\n", rep.Entries, rep.Head)
	return nil
}

// describeEntry names an audit entry by its time and action, when it can
// still be read, so the broken one can be found.
func describeEntry(db *store.DB, seq uint64) string {
	es, err := db.AuditEntries(context.Background(), bot.AuditFilter{})
	if err != nil {
		return ""
	}
	for _, e := range es {
		if e.Seq == seq {
			return fmt.Sprintf(" (%s %s %s)", e.Time.UTC().Format(time.RFC3339), e.Action, e.GroupName)
		}
	}
	return ""
}

func dbCmd(e Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: qunguan db check|compact|backup|backups|restore")
	}
	sub := args[0]
	dir, loc, rest, err := dataDirFrom(e, "db "+sub, args[1:])
	if err != nil {
		return err
	}
	switch sub {
	case "check":
		if err := store.Check(dir); err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "%s: database ok\n", dir)
	case "compact":
		before, after, err := store.Compact(dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "compacted: %.1f MB -> %.1f MB\n", float64(before)/1e6, float64(after)/1e6)
	case "backup":
		db, err := store.Open(dir, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return err
		}
		path, err := db.Backup(context.Background(), "manual")
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.Stdout, path)
	case "backups":
		bs, err := store.ListBackups(dir)
		if err != nil {
			return err
		}
		if len(bs) == 0 {
			fmt.Fprintln(e.Stdout, "no backups")
			return nil
		}
		return writeBackups(e.Stdout, bs, loc)
	case "restore":
		if len(rest) != 1 {
			return fmt.Errorf("usage: qunguan db restore BACKUP [--config FILE]")
		}
		aside, err := store.Restore(dir, rest[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "restored %s into %s\n", rest[0], dir)
		if aside != "" {
			fmt.Fprintf(e.Stdout, "the file it replaced is kept as %s\n", aside)
		}
	default:
		return fmt.Errorf("unknown db command %q (check, compact, backup, backups, restore)", sub)
	}
	return nil
}

// writeBackups prints backups as a table in the order given (ListBackups
// lists them newest first), with times in loc.
func writeBackups(w io.Writer, bs []store.Backup, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\ttaken\tkind\tsize\tstatus")
	for _, b := range bs {
		status := "ok"
		if b.Err != nil {
			status = "damaged: " + strings.TrimPrefix(b.Err.Error(), store.ErrDamaged.Error()+": ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Path, b.Time.In(loc).Format("2006-01-02 15:04:05 MST"), b.Reason, humanSize(b.Size), status)
	}
	return tw.Flush()
}

// humanSize renders a byte count in decimal units, like db compact's MB.
func humanSize(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		v /= 1000
		if v < 999.95 || unit == "TB" {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	return ""
}
