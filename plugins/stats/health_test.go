package stats

import (
	"github.com/qunguan/qunguan/bot"
	"testing"
	"time"
)

// history builds n finished days plus today, with active members and
// messages per day from f, leaves from l.
func history(n int, f func(i int) (active, msgs int), l func(i int) int) []Day {
	var out []Day
	for i := 0; i <= n; i++ {
		a, m := f(i)
		d := Day{Date: 20260101 + i, Active: a, Messages: m, Observed: true}
		if l != nil {
			d.Leaves = l(i)
		}
		out = append(out, d)
	}
	return out
}

func TestAssess(t *testing.T) {
	now := time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)
	steady := func(int) (int, int) { return 6, 20 }
	falling := func(i int) (int, int) { return 8 - i/7, 20 }
	th := DefaultThresholds()
	facts := Facts{Now: now, Members: 100, LastHuman: now.Add(-2 * time.Hour), FirstSeen: now.AddDate(0, -2, 0), Coverage: 1}
	cases := []struct {
		name  string
		days  []Day
		facts func(Facts) Facts
		stage Stage
		falls int
		bad   []string
	}{
		{name: "steady", days: history(35, steady, nil), stage: StageHealthy},
		{name: "falling three weeks", days: history(28, falling, nil), stage: StageEarly, falls: 3, bad: []string{"stats.why.trend_falling"}},
		{name: "falling two weeks only", days: history(28, func(i int) (int, int) { return 8 - max(i/7, 1), 20 }, nil), stage: StageHealthy, falls: 2},
		{name: "few messages", days: history(35, func(int) (int, int) { return 3, 4 }, nil), stage: StageEarly, bad: []string{"stats.why.msgs_low"}},
		{name: "young group is not judged on few messages", days: history(3, func(int) (int, int) { return 1, 1 }, nil), stage: StageHealthy},
		{name: "many leaving", days: history(35, steady, func(i int) int {
			if i%5 == 0 {
				return 3
			}
			return 0
		}), stage: StageMid, bad: []string{"stats.why.leaves_high"}},
		{name: "silent a week", days: history(35, steady, nil), facts: func(f Facts) Facts { f.LastHuman = now.Add(-8 * 24 * time.Hour); return f },
			stage: StageTerminal, bad: []string{"stats.why.silent_dead"}},
		{name: "silent while the bot was offline", days: history(35, steady, nil), facts: func(f Facts) Facts {
			f.LastHuman, f.Coverage = now.Add(-8*24*time.Hour), 0.3
			return f
		}, stage: StageHealthy},
		{name: "never spoke since first seen a week ago", days: history(8, func(int) (int, int) { return 0, 0 }, nil), facts: func(f Facts) Facts {
			f.LastHuman, f.FirstSeen = time.Time{}, now.Add(-8*24*time.Hour)
			return f
		}, stage: StageTerminal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := facts
			if c.facts != nil {
				f = c.facts(f)
			}
			h := Assess(c.days, f, th)
			if h.Stage != c.stage {
				t.Errorf("stage %s, want %s (reasons %+v)", h.Stage, c.stage, h.Reasons)
			}
			if h.Falling != c.falls {
				t.Errorf("falling %d weeks, want %d (%v)", h.Falling, c.falls, h.WeeklyActive)
			}
			for _, k := range c.bad {
				found := false
				for _, r := range h.Reasons {
					found = found || (r.Key == k && r.Bad)
				}
				if !found {
					t.Errorf("no bad reason %s in %+v", k, h.Reasons)
				}
			}
			limit := map[Stage]int{StageHealthy: 100, StageEarly: 65, StageMid: 40, StageTerminal: 10}[h.Stage]
			if h.Score < 0 || h.Score > limit {
				t.Errorf("score %d outside 0..%d for %s", h.Score, limit, h.Stage)
			}
		})
	}
}

func TestAssessScoreOrder(t *testing.T) {
	now := time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)
	f := Facts{Now: now, Members: 50, LastHuman: now.Add(-time.Hour), FirstSeen: now.AddDate(0, -2, 0), Coverage: 1}
	busy := Assess(history(35, func(int) (int, int) { return 20, 80 }, nil), f, DefaultThresholds())
	quiet := Assess(history(35, func(int) (int, int) { return 4, 6 }, nil), f, DefaultThresholds())
	if busy.Score <= quiet.Score {
		t.Errorf("a busy group scores %d, a quiet one %d", busy.Score, quiet.Score)
	}
}

func TestCoverage(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	// Online two days, offline one, then an open session last alive a day later.
	ss := []bot.Session{{Start: t0, End: t0.Add(2 * day)}, {Start: t0.Add(3 * day), LastAlive: t0.Add(4 * day)}}
	if got := coverage(ss, t0, t0.Add(5*day), true); got != 0.8 {
		t.Errorf("live: %v, want 0.8", got)
	}
	if got := coverage(ss, t0, t0.Add(5*day), false); got != 0.6 {
		t.Errorf("stopped: %v, want 0.6", got)
	}
}
