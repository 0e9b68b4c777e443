package stats

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qunguan/qunguan/bot"
)

// presentGroups returns the managed groups the bot is still in, fresh from
// the store (LastHuman is kept there by the record writer), and how many
// managed groups it is no longer in.
func (p *Plugin) presentGroups(ctx context.Context) ([]bot.GroupRecord, int, error) {
	managed := map[bot.GroupID]bool{}
	for _, g := range p.env.ManagedGroups() {
		managed[g.ID] = true
	}
	all, err := p.env.Store.Groups(ctx)
	if err != nil {
		return nil, 0, err
	}
	var out []bot.GroupRecord
	absent := 0
	for _, g := range all {
		if !managed[g.ID] {
			continue
		}
		if g.Gone || !g.BotPresent {
			absent++
			continue
		}
		out = append(out, g)
	}
	return out, absent, nil
}

func (p *Plugin) rules(g bot.GroupRecord) (Thresholds, int) {
	cfg := bot.ConfigFor[Config](p.env, g.ID)
	return cfg.Thresholds(), days(cfg.TierWindow)
}

// assessAll assesses every managed group the bot is in.
func (p *Plugin) assessAll(ctx context.Context) ([]Assessment, int, error) {
	groups, absent, err := p.presentGroups(ctx)
	if err != nil {
		return nil, 0, err
	}
	as, err := p.analyzer().AssessAll(ctx, groups, p.rules)
	return as, absent, err
}

// daily caches yesterday for every group (so the weekly report reads
// small values) and alerts operators about groups whose stage changed. The
// work runs in the background: over a thousand groups it takes seconds,
// which must not hold up event handling.
func (p *Plugin) daily(context.Context) { p.env.Go("daily", p.dailyWork) }

func (p *Plugin) dailyWork(ctx context.Context) {
	as, _, err := p.assessAll(ctx)
	if err != nil {
		p.env.Log.Error("daily health failed", "err", err)
		return
	}
	for _, a := range as {
		key := "stage/" + string(a.Group.ID)
		prev, had := p.loadStage(ctx, key)
		p.saveStage(ctx, key, a.Health)
		if !had || prev.Stage == a.Health.Stage.String() || !bot.ConfigFor[Config](p.env, a.Group.ID).AlertOnChange {
			continue
		}
		from, _ := ParseStage(prev.Stage)
		lang := p.env.Lang(a.Group.ID)
		r := p.render(lang)
		p.env.Log.Info("health stage changed", "group_id", string(a.Group.ID), "from", prev.Stage, "to", a.Health.Stage.String())
		p.env.Alert(ctx, bot.Alert{
			Kind: bot.AlertHealthChange, Group: a.Group.ID, Key: "health/" + string(a.Group.ID) + "/" + a.Health.Stage.String(),
			Data: map[string]string{"from": prev.Stage, "to": a.Health.Stage.String(), "score": strconv.Itoa(a.Health.Score)},
			Text: r("stats.alert_change", map[string]string{"group": a.Group.Name, "id": string(a.Group.ID), "from": StageName(r, from),
				"to": StageName(r, a.Health.Stage), "score": strconv.Itoa(a.Health.Score), "why": strings.Join(a.Health.Explain(r), "\n")}),
		})
	}
}

// weekly sends the weekly report to the operators, in the background like daily.
func (p *Plugin) weekly(context.Context) { p.env.Go("weekly", p.weeklyWork) }

func (p *Plugin) weeklyWork(ctx context.Context) {
	as, absent, err := p.assessAll(ctx)
	if err != nil {
		p.env.Log.Error("weekly report failed", "err", err)
		return
	}
	if len(as) == 0 && absent == 0 {
		p.env.Log.Info("weekly report skipped: no managed groups")
		return
	}
	prev := map[bot.GroupID]Stage{}
	first := true
	for _, a := range as {
		if rec, ok := p.loadStage(ctx, "reported/"+string(a.Group.ID)); ok {
			first = false
			if st, ok := ParseStage(rec.Stage); ok {
				prev[a.Group.ID] = st
			}
		}
	}
	if first {
		prev = nil
	}
	lang := p.env.Global().Language
	text := Report(as, ReportInput{Previous: prev, Absent: absent, Now: p.env.Now(), Loc: p.env.Global().Location,
		Render: p.render(lang), Config: func(g bot.GroupID) *Config { return bot.ConfigFor[Config](p.env, g) }})
	for _, part := range SplitMessage(text, maxMessageRunes) {
		p.env.NotifyOperators(ctx, part, bot.PrioBulk)
	}
	for _, a := range as {
		p.saveStage(ctx, "reported/"+string(a.Group.ID), a.Health)
	}
	p.env.Log.Info("weekly report sent", "groups", len(as))
}

// maxMessageRunes keeps each report message well under what WeChat shows
// in one bubble.
const maxMessageRunes = 1800

// ReportInput is what a report needs besides the assessments.
type ReportInput struct {
	// Previous are the stages of the last report; nil for the first one.
	Previous map[bot.GroupID]Stage
	// Absent counts managed groups the bot is no longer in.
	Absent int
	Now    time.Time
	Loc    *time.Location
	Render func(string, map[string]string) string
	// Config returns a group's stats config (for suggestions and the limit).
	Config func(bot.GroupID) *Config
}

// Report renders the weekly report: counts per stage, the groups that
// crossed a threshold since the last report, every group ranked by health
// (lowest first, up to the configured limit) and suggestions from the
// seeds. as must be sorted lowest first (AssessAll does).
func Report(as []Assessment, in ReportInput) string {
	r := in.Render
	count := map[Stage]int{}
	for _, a := range as {
		count[a.Health.Stage]++
	}
	var b strings.Builder
	b.WriteString(r("stats.report.header", map[string]string{"date": in.Now.In(in.Loc).Format("2006-01-02"), "n": strconv.Itoa(len(as)),
		"healthy": strconv.Itoa(count[StageHealthy]), "early": strconv.Itoa(count[StageEarly]), "mid": strconv.Itoa(count[StageMid]), "terminal": strconv.Itoa(count[StageTerminal])}))
	if in.Absent > 0 {
		b.WriteString("\n" + r("stats.report.absent", map[string]string{"n": strconv.Itoa(in.Absent)}))
	}

	b.WriteString("\n\n")
	switch {
	case in.Previous == nil:
		b.WriteString(r("stats.report.crossed_first", nil))
	default:
		var lines []string
		for _, a := range as {
			prev, ok := in.Previous[a.Group.ID]
			if !ok || prev == a.Health.Stage {
				continue
			}
			lines = append(lines, r("stats.report.crossed", map[string]string{"group": a.Group.Name, "id": string(a.Group.ID),
				"from": StageName(r, prev), "to": StageName(r, a.Health.Stage)}))
		}
		if len(lines) == 0 {
			b.WriteString(r("stats.report.crossed_none", nil))
		} else {
			b.WriteString(r("stats.report.crossed_header", nil) + "\n" + strings.Join(lines, "\n"))
		}
	}

	limit := 30
	if in.Config != nil {
		limit = in.Config("").ReportLimit
	}
	if len(as) > 0 {
		b.WriteString("\n\n" + r("stats.report.rank_header", nil))
	}
	for i, a := range as {
		if i == limit {
			b.WriteString("\n" + r("stats.report.more", map[string]string{"n": strconv.Itoa(len(as) - limit),
				"low": strconv.Itoa(as[limit].Health.Score), "high": strconv.Itoa(as[len(as)-1].Health.Score)}))
			break
		}
		// A group seen for less than a day has no daily average yet, not one of 0.
		key := "stats.report.rank"
		if a.Health.ObservedDays == 0 {
			key = "stats.report.rank_new"
		}
		b.WriteString("\n" + r(key, map[string]string{"i": strconv.Itoa(i + 1), "group": a.Group.Name, "id": string(a.Group.ID),
			"score": strconv.Itoa(a.Health.Score), "stage": StageName(r, a.Health.Stage), "members": strconv.Itoa(a.Group.MemberCount), "avg": fmt1(a.Health.MsgsPerDay)}))
		if a.Health.Stage != StageHealthy {
			for _, rs := range a.Health.Reasons {
				if rs.Bad {
					b.WriteString("\n" + r("stats.report.why", map[string]string{"why": r(rs.Key, rs.Vars)}))
				}
			}
		}
	}

	var sug []string
	for i, a := range as {
		if i == limit {
			break
		}
		sug = append(sug, suggestions(a, in, r)...)
	}
	b.WriteString("\n\n")
	if len(sug) == 0 {
		b.WriteString(r("stats.report.suggest_none", nil))
	} else {
		b.WriteString(r("stats.report.suggest_header", nil) + "\n" + strings.Join(sug, "\n"))
	}
	return b.String()
}

// suggestions are the seeds' remedies for one group.
func suggestions(a Assessment, in ReportInput, r func(string, map[string]string) string) []string {
	cfg := DefaultConfig()
	if in.Config != nil {
		cfg = in.Config(a.Group.ID)
	}
	g, h := a.Group, a.Health
	vars := map[string]string{"group": g.Name, "members": strconv.Itoa(g.MemberCount)}
	var out []string
	switch h.Stage {
	case StageTerminal:
		vars["days"] = fmt1(h.Silent.Hours() / 24)
		out = append(out, r("stats.suggest.countdown", vars))
		return out
	case StageMid:
		out = append(out, r("stats.suggest.mid", vars))
	case StageEarly:
		if h.Falling >= cfg.DeclineWeeks {
			out = append(out, r("stats.suggest.early", vars))
		} else {
			vars["avg"] = fmt1(h.MsgsPerDay)
			out = append(out, r("stats.suggest.quiet", vars))
		}
	}
	if g.MemberCount > cfg.SplitAbove {
		vars["limit"] = strconv.Itoa(cfg.SplitAbove)
		out = append(out, r("stats.suggest.split", vars))
	}
	if g.MemberCount > 0 && h.ObservedDays >= days(cfg.TierWindow) {
		pct := 100 * float64(a.Silent) / float64(g.MemberCount)
		if pct > cfg.WakeSilentPercent {
			vars["pct"], vars["silent"] = percentOf(a.Silent, g.MemberCount), strconv.Itoa(a.Silent)
			out = append(out, r("stats.suggest.wake", vars))
		}
	}
	return out
}

// SplitMessage cuts text into parts of at most max runes at line breaks
// (a single longer line is cut where it must).
func SplitMessage(text string, max int) []string {
	if utf8.RuneCountInString(text) <= max {
		return []string{text}
	}
	var parts []string
	var cur strings.Builder
	n := 0
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, strings.TrimRight(cur.String(), "\n"))
			cur.Reset()
			n = 0
		}
	}
	for _, line := range strings.Split(text, "\n") {
		ln := utf8.RuneCountInString(line) + 1
		if n+ln > max {
			flush()
		}
		for ln > max {
			rs := []rune(line)
			parts = append(parts, string(rs[:max]))
			line = string(rs[max:])
			ln = utf8.RuneCountInString(line) + 1
		}
		cur.WriteString(line + "\n")
		n += ln
	}
	flush()
	return parts
}
