package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/internal/app"
	"github.com/qunguan/qunguan/plugins/stats"
	"github.com/qunguan/qunguan/store"
)

// now is the clock of `qunguan stats` (tests fix it).
var now = time.Now

// errStoreBusy explains why `qunguan stats` cannot read a running bot's store.
var errStoreBusy = errors.New("the running bot holds the database (one process at a time: the store keeps an exclusive lock). " +
	"Stop the bot and run this again, or ask the running bot in a DM: /统计 @群名 30天 (/stats @GROUP 30d)")

// statsCmd prints a group's statistics from the store: the summary with
// health and tiers and a table of days, or CSV.
func statsCmd(e Env, args []string) error {
	fs := newFlags(e, "stats")
	cfgPath := fs.String("config", "config.yaml", "config file (time zone, thresholds, language)")
	dataDir := fs.String("data-dir", "", "data dir (overrides the config)")
	group := fs.String("group", "", "the group: its name, the start or a part of it, or its id")
	n := fs.Int("days", 30, "days to cover, ending today (at most the stats plugin's max_period, 90 by default)")
	csv := fs.Bool("csv", false, "print CSV (one line per day; with --members one per member)")
	members := fs.Bool("members", false, "list the members with their tier, days spoken, messages and when they last spoke")
	if _, err := parseFlags(e, fs, "stats", args, 0); err != nil {
		return err
	}
	if *group == "" {
		return &usageError{"--group is required", usageOf(fs, "stats")}
	}
	cfg, err := loadOffline(e, *cfgPath)
	if err != nil {
		return err
	}
	dir := app.DataDir(cfg)
	if *dataDir != "" {
		dir = *dataDir
	}
	db, err := store.Open(dir, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: %w", err, errStoreBusy)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	gs, err := db.Groups(ctx)
	if err != nil {
		return err
	}
	g, err := findGroup(gs, *group)
	if err != nil {
		return err
	}
	scfg, _ := cfg.PluginConfig("stats", g.Name).(*stats.Config)
	if scfg == nil {
		scfg = stats.DefaultConfig()
	}
	// The same limit as /stats in the chat.
	if maxDays := scfg.MaxDays(); *n < 1 || *n > maxDays {
		return fmt.Errorf("--days must be between 1 and %d (max_period of the stats plugin)", maxDays)
	}
	a := &stats.Analyzer{Store: db, KV: db.KV("stats"), Loc: cfg.Location, Now: now, Live: false}
	as, err := a.Assess(ctx, g, scfg.Thresholds(), scfg.TierDays())
	if err != nil {
		return err
	}
	lang := cfg.Language
	cat := stats.New().Texts()
	render := func(key string, vars map[string]string) string {
		if t, ok := cfg.Texts[key]; ok {
			return bot.Render(t.In(lang), vars)
		}
		return bot.Render(cat[key].In(lang), vars)
	}
	ms, err := db.Members(ctx, g.ID)
	if err != nil {
		return err
	}
	list, tiers := stats.Tiers(ms, as.Days, scfg.TierDays(), scfg.CoreDays)
	out := e.Stdout
	if *members {
		if *csv {
			fmt.Fprintln(out, "user,name,tier,active_days,window_messages,messages,last_spoke")
			for _, m := range list {
				last := ""
				if !m.LastSpoke.IsZero() {
					last = m.LastSpoke.In(cfg.Location).Format(time.RFC3339)
				}
				fmt.Fprintf(out, "%s,%s,%s,%d,%d,%d,%s\n", m.User, csvField(m.Name), m.Tier, m.ActiveDays, m.WindowMessages, m.Messages, last)
			}
			return nil
		}
		fmt.Fprintln(out, render("stats.members_header", map[string]string{"group": g.Name, "window": strconv.Itoa(scfg.TierDays()),
			"core": strconv.Itoa(tiers.Core), "ordinary": strconv.Itoa(tiers.Ordinary), "silent": strconv.Itoa(tiers.Silent)}))
		for _, m := range list {
			fmt.Fprintln(out, stats.MemberLine(render, m, cfg.Location))
		}
		return nil
	}
	period, err := a.Days(ctx, g, *n)
	if err != nil {
		return err
	}
	if *csv {
		_, err := io.WriteString(out, stats.CSV(period))
		return err
	}
	fmt.Fprintf(out, "%s（%s）\n", g.Name, g.ID)
	fmt.Fprintln(out, stats.Summary(render, g, period, as.Health, tiers))
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "date\tmessages\tactive\tjoins\tleaves\tmedia\tmoderation\t")
	for _, d := range period {
		if !d.Observed {
			continue // before the bot saw the group: the summary says since when
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", stats.FormatDate(d.Date, true), d.Messages, d.Active, d.Joins, d.Leaves, d.Media, d.ModHits)
	}
	return tw.Flush()
}

// findGroup matches q against ids and names like the bot does in chat:
// exact, then prefix, then substring, ignoring width, case and spaces.
func findGroup(gs []bot.GroupRecord, q string) (bot.GroupRecord, error) {
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(bot.FoldWidth(s))), "") }
	nq := norm(q)
	var exact, prefix, sub []bot.GroupRecord
	for _, g := range gs {
		n := norm(g.Name)
		switch {
		case string(g.ID) == q || bot.ShortID(string(g.ID)) == q || n == nq:
			exact = append(exact, g)
		case strings.HasPrefix(n, nq):
			prefix = append(prefix, g)
		case strings.Contains(n, nq):
			sub = append(sub, g)
		}
	}
	for _, c := range [][]bot.GroupRecord{exact, prefix, sub} {
		switch len(c) {
		case 0:
			continue
		case 1:
			return c[0], nil
		}
		sort.Slice(c, func(i, j int) bool { return c[i].Name < c[j].Name })
		var names []string
		for _, g := range c {
			names = append(names, fmt.Sprintf("%s（%s）", g.Name, g.ID))
		}
		return bot.GroupRecord{}, fmt.Errorf("%q matches several groups; use a fuller name or the id: %s", q, strings.Join(names, "、"))
	}
	return bot.GroupRecord{}, fmt.Errorf("no group matches %q", q)
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
