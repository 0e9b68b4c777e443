package stats

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Assessment is one group's health with what it was computed from.
type Assessment struct {
	Group bot.GroupRecord
	// Days end with today: counted so far by Analyzer.Assess (member
	// tiers count it), left empty by AssessAll (health looks at finished
	// days only, and a report over many groups saves a scan per group).
	Days   []Day
	Health Health
	// Silent estimates the members who did not speak in the tier window
	// (present members minus distinct speakers), without reading members.
	Silent int
}

// historyDays is how many days (with today) health needs: the trend's
// weeks plus a day, and at least the 30 days of churn.
func historyDays(th Thresholds) int {
	return max(7*(th.DeclineWeeks+1), 30) + 1
}

// Assess computes one group's health. g should be fresh from the store
// (LastHuman is moved by the record writer, not the runtime's cache).
func (a *Analyzer) Assess(ctx context.Context, g bot.GroupRecord, th Thresholds, tierWindow int) (Assessment, error) {
	ss, err := a.Store.Sessions(ctx, time.Time{}, a.Now())
	if err != nil {
		return Assessment{}, fmt.Errorf("sessions: %w", err)
	}
	return a.assess(ctx, nil, g, th, tierWindow, ss, true)
}

func (a *Analyzer) assess(ctx context.Context, b *batch, g bot.GroupRecord, th Thresholds, tierWindow int, ss []bot.Session, withToday bool) (Assessment, error) {
	days, err := a.days(ctx, b, g, max(historyDays(th), tierWindow+1), withToday)
	if err != nil {
		return Assessment{}, err
	}
	now := a.Now()
	since := g.LastHuman
	if since.IsZero() || since.Before(g.FirstSeen) {
		since = g.FirstSeen
	}
	f := Facts{Now: now, Members: g.MemberCount, LastHuman: g.LastHuman, FirstSeen: g.FirstSeen, Coverage: coverage(ss, since, now, a.Live), Loc: a.Loc}
	h := Assess(days, f, th)
	silent := g.MemberCount - distinctSpeakers(days, tierWindow)
	return Assessment{Group: g, Days: days, Health: h, Silent: max(silent, 0)}, nil
}

// AssessAll assesses every group, sharing one read of the audit log and
// the sessions, worst first (lowest score, then name). rules gives each
// group's thresholds and tier window in days (groups may override them).
func (a *Analyzer) AssessAll(ctx context.Context, groups []bot.GroupRecord, rules func(bot.GroupRecord) (Thresholds, int)) ([]Assessment, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	ss, err := a.Store.Sessions(ctx, time.Time{}, a.Now())
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	b := &batch{}
	out := make([]Assessment, 0, len(groups))
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		th, window := rules(g)
		as, err := a.assess(ctx, b, g, th, window, ss, false)
		if err != nil {
			return nil, fmt.Errorf("group %s: %w", g.ID, err)
		}
		out = append(out, as)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Health.Score != out[j].Health.Score {
			return out[i].Health.Score < out[j].Health.Score
		}
		return out[i].Group.Name < out[j].Group.Name
	})
	return out, nil
}
