// Package stats tells operators how their groups are doing. From the
// store's records it counts, per group and day (in the configured zone),
// messages, distinct active members, joins, leaves, media and moderation
// hits; per member, how often they speak (core, ordinary, silent). It
// turns those into a health score and a stage from the seeds' decline model
// (daily active members falling three weeks in a row, fewer than 5
// messages a day, more than 15 % of members leaving in a month, 7 days
// without a human message), explained in words.
//
// /stats answers in a group with a summary and a PNG chart; a daily job
// caches finished days and alerts operators when a group's stage changes;
// a weekly report ranks every managed group by health with suggestions.
// `qunguan stats` reads the same numbers from the command line.
package stats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Config is the stats plugin's config section. Thresholds, tiers,
// suggestions, the /stats period and alert_on_change may be overridden per
// group; the cron specs and report_limit are global.
type Config struct {
	// DeclineWeeks: the weekly average of daily active members falling
	// this many weeks in a row is early decline.
	DeclineWeeks int `yaml:"decline_weeks"`
	// MinDailyMessages: fewer member messages a day (last 7 days) is early decline.
	MinDailyMessages float64 `yaml:"min_daily_messages"`
	// MaxLeavePercent: more than this percentage of members leaving within
	// 30 days is mid decline.
	MaxLeavePercent float64 `yaml:"max_leave_percent"`
	// DeadAfter: no member message for this long is terminal.
	DeadAfter bot.Duration `yaml:"dead_after"`
	// TierWindow is the window member tiers are computed over.
	TierWindow bot.Duration `yaml:"tier_window"`
	// CoreDays: members who spoke on at least this many days of the
	// window are core; those who spoke at all are ordinary; the rest silent.
	CoreDays int `yaml:"core_days"`
	// SplitAbove: larger groups get a suggestion to split.
	SplitAbove int `yaml:"split_above"`
	// WakeSilentPercent: a larger share of silent members gets a
	// suggestion to wake them.
	WakeSilentPercent float64 `yaml:"wake_silent_percent"`
	// Period is what /stats covers without an argument; MaxPeriod caps it.
	Period    bot.Duration `yaml:"period"`
	MaxPeriod bot.Duration `yaml:"max_period"`
	// DailyCron caches yesterday and alerts on stage changes.
	DailyCron string `yaml:"daily_cron"`
	// AlertOnChange raises a health_change alert when a stage changes.
	AlertOnChange bool `yaml:"alert_on_change"`
	// ReportCron sends the weekly report to operators; "" turns it off.
	ReportCron string `yaml:"report_cron"`
	// ReportLimit is how many groups (lowest health first) the report lists one by one.
	ReportLimit int `yaml:"report_limit"`
}

// GlobalOnlyKeys implements bot.GlobalOnly: the daily job and the weekly
// report run once for all groups.
func (c *Config) GlobalOnlyKeys() []string {
	return []string{"daily_cron", "report_cron", "report_limit"}
}

// Validate checks the config.
func (c *Config) Validate() error {
	switch {
	case c.DeclineWeeks < 1 || c.DeclineWeeks > 8:
		return &bot.FieldError{Path: "decline_weeks", Msg: "must be between 1 and 8"}
	case c.MinDailyMessages < 0:
		return &bot.FieldError{Path: "min_daily_messages", Msg: "must not be negative"}
	case c.MaxLeavePercent <= 0 || c.MaxLeavePercent > 100:
		return &bot.FieldError{Path: "max_leave_percent", Msg: "must be above 0 and at most 100"}
	case c.DeadAfter.D() < 24*time.Hour:
		return &bot.FieldError{Path: "dead_after", Msg: "must be at least 1d"}
	case c.TierWindow.D() < 7*24*time.Hour || c.TierWindow.D() > 35*24*time.Hour:
		return &bot.FieldError{Path: "tier_window", Msg: "must be between 7d and 35d"}
	case c.CoreDays < 1 || c.CoreDays > days(c.TierWindow):
		return &bot.FieldError{Path: "core_days", Msg: "must be between 1 and the days of tier_window"}
	case c.SplitAbove < 2:
		return &bot.FieldError{Path: "split_above", Msg: "must be at least 2"}
	case c.WakeSilentPercent <= 0 || c.WakeSilentPercent > 100:
		return &bot.FieldError{Path: "wake_silent_percent", Msg: "must be above 0 and at most 100"}
	case c.Period.D() < 24*time.Hour || c.MaxPeriod.D() < c.Period.D():
		return &bot.FieldError{Path: "period", Msg: "must be at least 1d and not above max_period"}
	case days(c.MaxPeriod) > keepDays:
		return &bot.FieldError{Path: "max_period", Msg: fmt.Sprintf("must be at most %dd", keepDays)}
	case c.ReportLimit < 1:
		return &bot.FieldError{Path: "report_limit", Msg: "must be at least 1"}
	}
	if _, err := bot.ParseCron(c.DailyCron); err != nil {
		return &bot.FieldError{Path: "daily_cron", Msg: err.Error()}
	}
	if c.ReportCron != "" {
		if _, err := bot.ParseCron(c.ReportCron); err != nil {
			return &bot.FieldError{Path: "report_cron", Msg: err.Error()}
		}
	}
	return nil
}

// Thresholds returns the health rules of this config.
func (c *Config) Thresholds() Thresholds {
	th := DefaultThresholds()
	th.DeclineWeeks, th.MinDailyMessages, th.MaxLeavePercent, th.DeadAfter = c.DeclineWeeks, c.MinDailyMessages, c.MaxLeavePercent, c.DeadAfter.D()
	return th
}

// MaxDays is the longest period /stats (and `qunguan stats --days`) covers.
func (c *Config) MaxDays() int { return days(c.MaxPeriod) }

// TierDays is the tier window in days.
func (c *Config) TierDays() int { return days(c.TierWindow) }

func days(d bot.Duration) int { return int(d.D() / (24 * time.Hour)) }

// DefaultConfig returns the seeds' thresholds and a Monday 09:00 report.
func DefaultConfig() *Config {
	return &Config{
		DeclineWeeks: 3, MinDailyMessages: 5, MaxLeavePercent: 15, DeadAfter: bot.Duration(7 * 24 * time.Hour),
		TierWindow: bot.Duration(28 * 24 * time.Hour), CoreDays: 14, SplitAbove: 300, WakeSilentPercent: 60,
		Period: bot.Duration(30 * 24 * time.Hour), MaxPeriod: bot.Duration(90 * 24 * time.Hour),
		DailyCron: "10 0 * * *", AlertOnChange: true, ReportCron: "0 9 * * 1", ReportLimit: 30,
	}
}

// Plugin is the stats plugin.
type Plugin struct {
	env      *bot.Env
	chartDir string

	mu       sync.Mutex
	shared   *batch
	sharedAt time.Time
}

// New returns the plugin.
func New() *Plugin { return &Plugin{} }

// Name implements bot.Plugin.
func (p *Plugin) Name() string { return "stats" }

// DefaultConfig implements bot.Configurable.
func (p *Plugin) DefaultConfig() any { return DefaultConfig() }

// Texts implements bot.Texter.
func (p *Plugin) Texts() bot.Catalog { return texts }

// Init implements bot.Initializer: a private folder for chart files and
// the daily and weekly jobs.
func (p *Plugin) Init(env *bot.Env) error {
	p.env = env
	dir, err := os.MkdirTemp("", "qunguan-charts-")
	if err != nil {
		return fmt.Errorf("chart folder: %w", err)
	}
	p.chartDir = dir
	return p.arm()
}

// arm (re)registers the cron jobs from the global config.
func (p *Plugin) arm() error {
	cfg := bot.ConfigFor[Config](p.env, "")
	if err := p.env.Cron("daily", cfg.DailyCron, p.daily); err != nil {
		return err
	}
	if cfg.ReportCron == "" {
		p.env.RemoveCron("report")
		return nil
	}
	return p.env.Cron("report", cfg.ReportCron, p.weekly)
}

// Reload implements bot.Reloader: the cron specs may have changed.
func (p *Plugin) Reload(ctx context.Context) error { return p.arm() }

// Stop implements bot.Stopper: chart files that were not sent yet go.
func (p *Plugin) Stop(ctx context.Context) error {
	return os.RemoveAll(p.chartDir)
}

// analyzer returns an Analyzer on the plugin's store, cache and clock.
func (p *Plugin) analyzer() *Analyzer {
	return &Analyzer{Store: p.env.Store, KV: p.env.KV, Loc: p.env.Global().Location, Now: p.env.Now, Live: true, Log: p.env.Log}
}

func (p *Plugin) render(lang bot.Lang) func(string, map[string]string) string {
	return func(key string, vars map[string]string) string { return p.env.T(lang, key, vars) }
}

// Commands implements bot.Commander.
func (p *Plugin) Commands() []*bot.Command {
	return []*bot.Command{{
		Name: "stats", Aliases: []string{"统计", "群统计"},
		Args:  []bot.Arg{{Name: "period", Label: bot.Text{ZH: "天数", EN: "period"}, Kind: bot.ArgDuration, Optional: true}},
		Help:  bot.Text{ZH: "本群统计摘要和近 30 天走势图，如 /统计 7天", EN: "This group's summary and a 30-day chart, e.g. /stats 7d"},
		Perm:  bot.RoleAdmin,
		Scope: bot.ScopeGroup,
		Run:   p.statsCmd,
		Subcommands: []*bot.Command{{
			Name: "members", Aliases: []string{"成员", "分层"}, Perm: bot.RoleAdmin, Run: p.membersCmd,
			Help: bot.Text{ZH: "成员分层：核心、普通、沉默，含最后发言时间", EN: "Member tiers (core, ordinary, silent) with when each last spoke"},
		}},
	}}
}

// periodDays turns the /stats argument into a day count.
func (p *Plugin) periodDays(c *bot.Call, cfg *Config) (int, error) {
	n := days(cfg.Period)
	if c.Args.Has("period") {
		d := c.Args.Duration("period")
		n = int((d + 24*time.Hour - 1) / (24 * time.Hour))
	}
	if n < 1 {
		return 0, bot.Errorf("too_short", "%s", c.T("stats.too_short", nil))
	}
	if n > cfg.MaxDays() {
		return 0, bot.Errorf("too_long", "%s", c.T("stats.too_long", map[string]string{"max": strconv.Itoa(cfg.MaxDays())}))
	}
	return n, nil
}

func (p *Plugin) statsCmd(ctx context.Context, c *bot.Call) error {
	cfg := bot.ConfigFor[Config](p.env, c.Group)
	n, err := p.periodDays(c, cfg)
	if err != nil {
		return err
	}
	g, err := p.env.Store.Group(ctx, c.Group)
	if err != nil {
		return err
	}
	a := p.analyzer()
	as, err := a.Assess(ctx, g, cfg.Thresholds(), days(cfg.TierWindow))
	if err != nil {
		return err
	}
	period, err := a.Days(ctx, g, n)
	if err != nil {
		return err
	}
	members, err := p.env.Store.Members(ctx, c.Group)
	if err != nil {
		return err
	}
	_, tiers := Tiers(members, as.Days, days(cfg.TierWindow), cfg.CoreDays)
	c.Reply(ctx, Summary(p.render(c.Lang), g, period, as.Health, tiers))
	path, err := p.writeChart(g, period, n, c.Lang)
	if err != nil {
		p.env.Log.Error("chart not drawn", "group_id", string(g.ID), "err", err)
		return nil
	}
	p.env.SendFile(ctx, c.ReplyTarget(), bot.File{Path: path, Image: true}, bot.PrioReply, func(err error) {
		if err != nil {
			p.env.Log.Warn("chart not sent", "group_id", string(g.ID), "err", err)
		}
		if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			p.env.Log.Warn("chart file not removed", "path", path, "err", rerr)
		}
	})
	return nil
}

// Summary renders the /stats text: totals over period (today included),
// daily averages over its finished days (today is left out, and the text
// says so; with no finished day recorded it says that instead of showing
// zeros), today so far, member tiers and health with its reasons.
func Summary(r func(string, map[string]string) string, g bot.GroupRecord, period []Day, h Health, tiers TierCounts) string {
	tot := Sum(period)
	today := period[len(period)-1]
	full := Sum(period[:len(period)-1])
	since := ""
	if !period[0].Observed {
		for _, d := range period {
			if d.Observed {
				since = r("stats.summary_since", map[string]string{"date": FormatDate(d.Date, false)})
				break
			}
		}
	}
	vars := map[string]string{"days": strconv.Itoa(full.Days), "today_msgs": strconv.Itoa(today.Messages), "today_active": strconv.Itoa(today.Active)}
	avgKey := "stats.summary_avg"
	switch {
	case h.ObservedDays == 0:
		avgKey = "stats.summary_avg_new"
	case full.Days == 0:
		avgKey = "stats.summary_avg_today"
	default:
		vars["avg"] = fmt1(float64(full.Messages) / float64(full.Days))
		vars["active"] = fmt1(float64(full.ActiveSum) / float64(full.Days))
	}
	return r("stats.summary", map[string]string{
		"group": g.Name, "n": strconv.Itoa(len(period)), "since": since, "msgs": strconv.Itoa(tot.Messages), "averages": r(avgKey, vars),
		"joins": strconv.Itoa(tot.Joins), "leaves": strconv.Itoa(tot.Leaves), "media": strconv.Itoa(tot.Media), "mod": strconv.Itoa(tot.ModHits),
		"members": strconv.Itoa(g.MemberCount), "core": strconv.Itoa(tiers.Core), "ordinary": strconv.Itoa(tiers.Ordinary), "silent": strconv.Itoa(tiers.Silent),
		"score": strconv.Itoa(h.Score), "stage": StageName(r, h.Stage), "why": strings.Join(h.Explain(r), "\n"),
	})
}

// ChartLabelsFor returns the chart's labels, checked against the font
// (covers): characters of the group name the font lacks are dropped (the
// id stands in when none are left), and labels it cannot draw (an
// operator's override, say) fall back to English, which it always can. It
// never returns a label that would draw a box; notes say what changed.
func ChartLabelsFor(local, english func(string, map[string]string) string, groupName, fallbackName string, n int, covers func(string) bool) (ChartLabels, []string) {
	var notes []string
	name := keepCovered(groupName, covers)
	if name != groupName {
		notes = append(notes, "group name")
	}
	if name == "" {
		name = fallbackName
	}
	build := func(r func(string, map[string]string) string) ChartLabels {
		return ChartLabels{
			Title: r("stats.chart.title", map[string]string{"group": name, "n": strconv.Itoa(n)}), Messages: r("stats.chart.messages", nil),
			Active: r("stats.chart.active", nil), Joins: r("stats.chart.joins", nil), Leaves: r("stats.chart.leaves", nil),
			YLeft: r("stats.chart.y_left", nil), YRight: r("stats.chart.y_right", nil),
			Today: r("stats.chart.today", nil), Unobserved: r("stats.chart.unobserved", nil),
		}
	}
	labels := build(local)
	if !allCovered(labels, covers) {
		labels, notes = build(english), append(notes, "labels")
	}
	if !allCovered(labels, covers) {
		// Even English overridden with characters the font lacks: plain ASCII.
		labels, notes = ChartLabels{Title: fmt.Sprintf("%s · %dd", fallbackName, n), Messages: "messages", Active: "active", Joins: "joined", Leaves: "left", YLeft: "messages", YRight: "people", Today: "today (so far)", Unobserved: "not recorded"}, append(notes, "ascii")
	}
	return labels, notes
}

func allCovered(l ChartLabels, covers func(string) bool) bool {
	for _, s := range l.all() {
		if !covers(s) {
			return false
		}
	}
	return true
}

// keepCovered keeps the runes of s that covers accepts one by one.
func keepCovered(s string, covers func(string) bool) string {
	var b strings.Builder
	for _, r := range s {
		if covers(string(r)) {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// writeChart renders the chart into the plugin's folder and returns the path.
func (p *Plugin) writeChart(g bot.GroupRecord, period []Day, n int, lang bot.Lang) (string, error) {
	font, err := CJKFont()
	if err != nil {
		return "", err
	}
	covers := func(s string) bool { return Covers(font, s) }
	labels, notes := ChartLabelsFor(p.render(lang), p.render(bot.LangEN), g.Name, string(g.ID), n, covers)
	if len(notes) > 0 {
		p.env.Log.Info("chart text adjusted to the font", "group_id", string(g.ID), "adjusted", strings.Join(notes, ", "))
	}
	var buf bytes.Buffer
	if err := RenderChart(&buf, period, labels, font); err != nil {
		return "", err
	}
	name := fmt.Sprintf("stats-%s-%d-%dd.png", g.ID, period[len(period)-1].Date, n)
	path := filepath.Join(p.chartDir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return "", err
	}
	return path, nil
}

func (p *Plugin) membersCmd(ctx context.Context, c *bot.Call) error {
	cfg := bot.ConfigFor[Config](p.env, c.Group)
	g, err := p.env.Store.Group(ctx, c.Group)
	if err != nil {
		return err
	}
	window := days(cfg.TierWindow)
	ds, err := p.analyzer().Days(ctx, g, window+1)
	if err != nil {
		return err
	}
	members, err := p.env.Store.Members(ctx, c.Group)
	if err != nil {
		return err
	}
	list, counts := Tiers(members, ds, window, cfg.CoreDays)
	var b strings.Builder
	b.WriteString(c.T("stats.members_header", map[string]string{"group": g.Name, "window": strconv.Itoa(window),
		"core": strconv.Itoa(counts.Core), "ordinary": strconv.Itoa(counts.Ordinary), "silent": strconv.Itoa(counts.Silent)}))
	const maxLines = 40
	for i, m := range list {
		if i == maxLines {
			b.WriteString("\n" + c.T("stats.member_more", map[string]string{"n": strconv.Itoa(len(list) - maxLines)}))
			break
		}
		b.WriteString("\n" + MemberLine(p.render(c.Lang), m, p.env.Global().Location))
	}
	c.Reply(ctx, b.String())
	return nil
}

// MemberLine renders one member's tier line.
func MemberLine(r func(string, map[string]string) string, m MemberStat, loc *time.Location) string {
	last := r("stats.never", nil)
	if !m.LastSpoke.IsZero() {
		last = m.LastSpoke.In(loc).Format("2006-01-02 15:04")
	}
	return r("stats.member_line", map[string]string{"tier": r(m.Tier.textKey(), nil), "name": m.Name, "id": string(m.User),
		"days": strconv.Itoa(m.ActiveDays), "wmsgs": strconv.Itoa(m.WindowMessages), "msgs": strconv.FormatInt(m.Messages, 10), "last": last})
}

// stageRecord is what the daily job remembers per group under "stage/<id>".
type stageRecord struct {
	Stage string    `json:"stage"`
	Score int       `json:"score"`
	At    time.Time `json:"at"`
}

func (p *Plugin) loadStage(ctx context.Context, key string) (stageRecord, bool) {
	raw, err := p.env.KV.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, bot.ErrNotFound) {
			p.env.Log.Error("stage not read", "key", key, "err", err)
		}
		return stageRecord{}, false
	}
	var r stageRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		p.env.Log.Error("stage record unreadable", "key", key, "err", err)
		return stageRecord{}, false
	}
	return r, true
}

func (p *Plugin) saveStage(ctx context.Context, key string, h Health) {
	raw, _ := json.Marshal(stageRecord{Stage: h.Stage.String(), Score: h.Score, At: p.env.Now()})
	if err := p.env.KV.Put(ctx, key, raw); err != nil {
		p.env.Log.Error("stage not stored", "key", key, "err", err)
	}
}

// GroupStatus implements bot.StatusReporter: the health line of /groups.
// It is computed now, sharing one read of the audit log between the groups
// of one listing; groups the bot is no longer in get no line.
func (p *Plugin) GroupStatus(ctx context.Context, g bot.GroupID, lang bot.Lang) string {
	r := p.render(lang)
	as, err := p.assessOne(ctx, g, false)
	if errors.Is(err, errNotTracked) {
		return ""
	}
	if err != nil {
		p.env.Log.Warn("health not computed", "group_id", string(g), "err", err)
		return r("stats.status_none", nil)
	}
	return r("stats.status", map[string]string{"score": strconv.Itoa(as.Health.Score), "stage": StageName(r, as.Health.Stage)})
}

// errNotTracked is returned for groups the bot is no longer in.
var errNotTracked = errors.New("the bot is not in the group")

// listingBatchTTL is how long one read of the audit log is shared by the
// per-group calls of a console listing.
const listingBatchTTL = time.Minute

// listingBatch returns the batch shared by calls within listingBatchTTL.
func (p *Plugin) listingBatch() *batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.env.Now()
	if p.shared == nil || now.Sub(p.sharedAt) > listingBatchTTL || now.Before(p.sharedAt) {
		p.shared, p.sharedAt = &batch{}, now
	}
	return p.shared
}

// assessOne assesses g for the console; withToday counts today's
// records too (member tiers need them, the health line does not).
func (p *Plugin) assessOne(ctx context.Context, g bot.GroupID, withToday bool) (Assessment, error) {
	rec, err := p.env.Store.Group(ctx, g)
	if err != nil {
		return Assessment{}, err
	}
	if rec.Gone || !rec.BotPresent {
		return Assessment{}, errNotTracked
	}
	ss, err := p.env.Store.Sessions(ctx, time.Time{}, p.env.Now())
	if err != nil {
		return Assessment{}, err
	}
	th, window := p.rules(rec)
	return p.analyzer().assess(ctx, p.listingBatch(), rec, th, window, ss, withToday)
}

// GroupDetail adds the health explanation and member tiers to the operator
// console's /group NAME.
func (p *Plugin) GroupDetail(ctx context.Context, g bot.GroupID, lang bot.Lang) string {
	as, err := p.assessOne(ctx, g, true)
	if errors.Is(err, errNotTracked) {
		return ""
	}
	if err != nil {
		p.env.Log.Warn("health not computed", "group_id", string(g), "err", err)
		return p.env.T(lang, "stats.status_none", nil)
	}
	members, err := p.env.Store.Members(ctx, g)
	if err != nil {
		p.env.Log.Warn("members not read", "group_id", string(g), "err", err)
	}
	cfg := bot.ConfigFor[Config](p.env, g)
	_, tiers := Tiers(members, as.Days, days(cfg.TierWindow), cfg.CoreDays)
	r := p.render(lang)
	return r("stats.detail", map[string]string{"score": strconv.Itoa(as.Health.Score), "stage": StageName(r, as.Health.Stage),
		"core": strconv.Itoa(tiers.Core), "ordinary": strconv.Itoa(tiers.Ordinary), "silent": strconv.Itoa(tiers.Silent),
		"why": strings.Join(as.Health.Explain(r), "\n")})
}

var (
	_ bot.Commander      = (*Plugin)(nil)
	_ bot.Configurable   = (*Plugin)(nil)
	_ bot.Initializer    = (*Plugin)(nil)
	_ bot.Reloader       = (*Plugin)(nil)
	_ bot.Stopper        = (*Plugin)(nil)
	_ bot.StatusReporter = (*Plugin)(nil)
	_ bot.Texter         = (*Plugin)(nil)
)
