package stats

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Stage is where a group stands in the seeds' decline model (流失阶段).
type Stage int

// Stages, healthiest first. The order matters: a later stage is worse.
const (
	StageHealthy  Stage = iota + 1 // 健康
	StageEarly                     // 初期衰退: daily active falling for weeks, or few messages
	StageMid                       // 中期瓦解: many members leaving within a month
	StageTerminal                  // 终期消亡: no human message for a week
)

var stageKeys = map[Stage]string{
	StageHealthy: "healthy", StageEarly: "early_decline", StageMid: "mid_decline", StageTerminal: "terminal",
}

// String returns the stage's stable English key ("early_decline").
func (s Stage) String() string {
	if k, ok := stageKeys[s]; ok {
		return k
	}
	return "unknown"
}

// ParseStage parses a stage key written by String.
func ParseStage(s string) (Stage, bool) {
	for st, k := range stageKeys {
		if k == s {
			return st, true
		}
	}
	return 0, false
}

// textKey is the stage's catalog key.
func (s Stage) textKey() string { return "stats.stage." + s.String() }

// Thresholds are the health rules, from the seeds unless configured.
type Thresholds struct {
	// DeclineWeeks: the weekly average of daily active members falling
	// this many weeks in a row is early decline (seeds: 3).
	DeclineWeeks int
	// MinDailyMessages: fewer human messages a day over the last week is
	// early decline (seeds: 5).
	MinDailyMessages float64
	// MaxLeavePercent: more than this share of members leaving within 30
	// days is mid decline (seeds: 15).
	MaxLeavePercent float64
	// DeadAfter: no human message for this long is terminal (seeds: 7 days).
	DeadAfter time.Duration
	// MinCoverage is the share of the silent stretch the bot must have been
	// online for silence to count: silence while offline proves nothing.
	MinCoverage float64
}

// DefaultThresholds are the seeds' numbers.
func DefaultThresholds() Thresholds {
	return Thresholds{DeclineWeeks: 3, MinDailyMessages: 5, MaxLeavePercent: 15, DeadAfter: 7 * 24 * time.Hour, MinCoverage: 0.8}
}

// Facts are what health needs besides the days.
type Facts struct {
	Now       time.Time
	Members   int
	LastHuman time.Time
	FirstSeen time.Time
	// Coverage is the share of time the bot was online since the later of
	// LastHuman and FirstSeen (1 when it never went offline).
	Coverage float64
	// Loc is the zone calendar days are cut in (Now's when nil): the last
	// message is told as today, yesterday or so many days ago.
	Loc *time.Location
}

// Reason is one signal behind a health score, rendered from the catalog.
type Reason struct {
	// Key is the catalog key ("stats.why.trend").
	Key  string
	Vars map[string]string
	// Bad marks a signal that crossed its threshold.
	Bad bool
}

// Health is a group's health score (0-100), stage and the reasons for both.
type Health struct {
	Score int
	Stage Stage
	// MsgsPerDay is the average of human messages over the last 7
	// finished days (fewer when the group is younger).
	MsgsPerDay float64
	// WeeklyActive are the average daily active members of the last
	// DeclineWeeks+1 finished weeks, oldest first.
	WeeklyActive []float64
	// Falling is how many weeks in a row WeeklyActive fell.
	Falling int
	// Leaves over the last 30 days and the share of members they were.
	Leaves       int
	LeavePercent float64
	// Silent is the time since the last human message.
	Silent time.Duration
	// ObservedDays is how many finished days the bot has seen the group.
	ObservedDays int
	Members      int
	Reasons      []Reason
}

// weekAverages returns the average daily active members of the last n
// finished weeks (7-day runs ending yesterday), oldest first, or nil when
// fewer observed days exist.
func weekAverages(finished []Day, n int) []float64 {
	if len(finished) < 7*n {
		return nil
	}
	tail := finished[len(finished)-7*n:]
	out := make([]float64, n)
	for w := 0; w < n; w++ {
		sum := 0
		for _, d := range tail[w*7 : w*7+7] {
			if !d.Observed {
				return nil
			}
			sum += d.Active
		}
		out[w] = float64(sum) / 7
	}
	return out
}

// Assess computes health from days (oldest first, the last one today and
// partial) and facts. It needs about five weeks of days to judge the trend
// and the monthly churn; with less history it says so and judges what it can.
func Assess(days []Day, f Facts, th Thresholds) Health {
	h := Health{Members: f.Members}
	finished := days
	if len(finished) > 0 {
		finished = finished[:len(finished)-1] // today is partial
	}
	var observed []Day
	for _, d := range finished {
		if d.Observed {
			observed = append(observed, d)
		}
	}
	h.ObservedDays = len(observed)
	score := 100.0

	// Messages per day over the last week.
	week := observed
	if len(week) > 7 {
		week = week[len(week)-7:]
	}
	if len(week) > 0 {
		sum := 0
		for _, d := range week {
			sum += d.Messages
		}
		h.MsgsPerDay = float64(sum) / float64(len(week))
	}
	lowMsgs := len(week) >= 7 && h.MsgsPerDay < th.MinDailyMessages
	if len(week) > 0 && th.MinDailyMessages > 0 {
		score -= 25 * (1 - math.Min(1, h.MsgsPerDay/(2*th.MinDailyMessages)))
	}
	switch {
	case len(week) == 0:
		h.Reasons = append(h.Reasons, Reason{Key: "stats.why.msgs_none"})
	case len(week) < 7:
		h.Reasons = append(h.Reasons, Reason{Key: "stats.why.msgs_young", Vars: map[string]string{"avg": fmt1(h.MsgsPerDay), "days": strconv.Itoa(len(week))}})
	case lowMsgs:
		h.Reasons = append(h.Reasons, Reason{Key: "stats.why.msgs_low", Bad: true, Vars: map[string]string{"avg": fmt1(h.MsgsPerDay), "min": fmt1(th.MinDailyMessages)}})
	default:
		h.Reasons = append(h.Reasons, Reason{Key: "stats.why.msgs_ok", Vars: map[string]string{"avg": fmt1(h.MsgsPerDay), "min": fmt1(th.MinDailyMessages)}})
	}

	// Daily active members, week over week.
	trendBad := false
	if th.DeclineWeeks > 0 {
		h.WeeklyActive = weekAverages(finished, th.DeclineWeeks+1)
		if h.WeeklyActive == nil {
			h.Reasons = append(h.Reasons, Reason{Key: "stats.why.trend_young", Vars: map[string]string{"weeks": strconv.Itoa(th.DeclineWeeks + 1)}})
		} else {
			for i := len(h.WeeklyActive) - 1; i > 0 && h.WeeklyActive[i] < h.WeeklyActive[i-1]; i-- {
				h.Falling++
			}
			score -= 25 * math.Min(1, float64(h.Falling)/float64(th.DeclineWeeks))
			parts := make([]string, len(h.WeeklyActive))
			for i, v := range h.WeeklyActive {
				parts[i] = fmt1(v)
			}
			vars := map[string]string{"weeks": strconv.Itoa(h.Falling), "series": strings.Join(parts, " → "), "limit": strconv.Itoa(th.DeclineWeeks)}
			switch {
			case h.Falling >= th.DeclineWeeks:
				trendBad = true
				h.Reasons = append(h.Reasons, Reason{Key: "stats.why.trend_falling", Bad: true, Vars: vars})
			case h.Falling > 0:
				h.Reasons = append(h.Reasons, Reason{Key: "stats.why.trend_dipping", Vars: vars})
			default:
				h.Reasons = append(h.Reasons, Reason{Key: "stats.why.trend_ok", Vars: vars})
			}
		}
	}

	// Members leaving within 30 days.
	month := observed
	if len(month) > 30 {
		month = month[len(month)-30:]
	}
	joins := 0
	for _, d := range month {
		h.Leaves += d.Leaves
		joins += d.Joins
	}
	startMembers := f.Members + h.Leaves - joins
	if startMembers < 1 {
		startMembers = max(f.Members, 1)
	}
	h.LeavePercent = 100 * float64(h.Leaves) / float64(startMembers)
	churnBad := len(month) >= 7 && h.LeavePercent > th.MaxLeavePercent
	if th.MaxLeavePercent > 0 {
		score -= 25 * math.Min(1, h.LeavePercent/(2*th.MaxLeavePercent))
	}
	lv := map[string]string{"n": strconv.Itoa(h.Leaves), "pct": fmt1(h.LeavePercent), "limit": fmt1(th.MaxLeavePercent), "days": strconv.Itoa(len(month))}
	switch {
	case len(month) == 0:
		h.Reasons = append(h.Reasons, Reason{Key: "stats.why.leaves_none"})
	case churnBad:
		h.Reasons = append(h.Reasons, Reason{Key: "stats.why.leaves_high", Bad: true, Vars: lv})
	default:
		h.Reasons = append(h.Reasons, Reason{Key: "stats.why.leaves_ok", Vars: lv})
	}

	// Time since the last human message; silence only counts while the
	// bot was watching.
	since := f.LastHuman
	if since.IsZero() || since.Before(f.FirstSeen) {
		since = f.FirstSeen
	}
	dead := false
	if !since.IsZero() {
		h.Silent = max(f.Now.Sub(since), 0)
		if th.DeadAfter > 0 {
			score -= 25 * math.Min(1, float64(h.Silent)/float64(th.DeadAfter))
		}
		sv := map[string]string{"days": fmt1(h.Silent.Hours() / 24), "limit": fmt1(th.DeadAfter.Hours() / 24), "coverage": strconv.Itoa(int(math.Round(f.Coverage * 100)))}
		switch {
		case h.Silent >= th.DeadAfter && f.Coverage >= th.MinCoverage:
			dead = true
			h.Reasons = append(h.Reasons, Reason{Key: "stats.why.silent_dead", Bad: true, Vars: sv})
		case h.Silent >= th.DeadAfter:
			h.Reasons = append(h.Reasons, Reason{Key: "stats.why.silent_offline", Vars: sv})
		case f.LastHuman.IsZero() && h.Silent < 24*time.Hour:
			h.Reasons = append(h.Reasons, Reason{Key: "stats.why.silent_never_new"})
		case f.LastHuman.IsZero():
			sv["days"] = strconv.Itoa(int(math.Round(h.Silent.Hours() / 24)))
			h.Reasons = append(h.Reasons, Reason{Key: "stats.why.silent_never", Vars: sv})
		default:
			h.Reasons = append(h.Reasons, lastMessage(f))
		}
	}

	h.Stage = StageHealthy
	switch {
	case dead:
		h.Stage = StageTerminal
		score = math.Min(score, 10)
	case churnBad:
		h.Stage = StageMid
		score = math.Min(score, 40)
	case trendBad || lowMsgs:
		h.Stage = StageEarly
		score = math.Min(score, 65)
	}
	h.Score = int(math.Round(math.Max(0, math.Min(100, score))))
	return h
}

// lastMessage tells when the last member message was in calendar days:
// today, yesterday or so many days ago (never "0 days ago").
func lastMessage(f Facts) Reason {
	loc := f.Loc
	if loc == nil {
		loc = f.Now.Location()
	}
	date := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	}
	switch n := int(math.Round(date(f.Now).Sub(date(f.LastHuman)).Hours() / 24)); {
	case n <= 0:
		return Reason{Key: "stats.why.silent_today"}
	case n == 1:
		return Reason{Key: "stats.why.silent_yesterday"}
	default:
		return Reason{Key: "stats.why.silent_ok", Vars: map[string]string{"days": strconv.Itoa(n)}}
	}
}

func fmt1(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

// coverage returns the share of [from, to) covered by sessions; an open
// session reaches until now when live, else until its last heartbeat.
func coverage(ss []bot.Session, from, to time.Time, live bool) float64 {
	if !to.After(from) {
		return 1
	}
	var on time.Duration
	for _, s := range ss {
		end := s.End
		if end.IsZero() {
			end = s.LastAlive
			if live {
				end = to
			}
		}
		a, b := s.Start, end
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			on += b.Sub(a)
		}
	}
	return math.Min(1, float64(on)/float64(to.Sub(from)))
}

// Explain renders the reasons as lines, problems first.
func (h Health) Explain(render func(key string, vars map[string]string) string) []string {
	var bad, ok []string
	for _, r := range h.Reasons {
		line := render(r.Key, r.Vars)
		if r.Bad {
			bad = append(bad, "⚠ "+line)
		} else {
			ok = append(ok, "· "+line)
		}
	}
	return append(bad, ok...)
}

// StageName renders the stage in lang with the plugin's catalog.
func StageName(render func(key string, vars map[string]string) string, s Stage) string {
	return render(s.textKey(), nil)
}

// percentOf formats part/whole as a whole percentage.
func percentOf(part, whole int) string {
	if whole <= 0 {
		return "0"
	}
	return fmt.Sprintf("%d", int(math.Round(100*float64(part)/float64(whole))))
}
