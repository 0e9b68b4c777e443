package stats

import (
	"sort"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Tier is a member's participation level (用户分层, seed 003).
type Tier int

// Tiers, most engaged first.
const (
	TierCore     Tier = iota + 1 // 核心: speaks on most days
	TierOrdinary                 // 普通: speaks now and then (weekly)
	TierSilent                   // 沉默: only reads
)

func (t Tier) String() string {
	switch t {
	case TierCore:
		return "core"
	case TierOrdinary:
		return "ordinary"
	}
	return "silent"
}

func (t Tier) textKey() string { return "stats.tier." + t.String() }

// MemberStat is one present member with activity over the tier window.
type MemberStat struct {
	User bot.UserID
	Name string
	// LastSpoke and Messages are all-time, from the member record.
	LastSpoke time.Time
	Messages  int64
	// ActiveDays and WindowMessages count the tier window and today.
	ActiveDays     int
	WindowMessages int
	Tier           Tier
}

// TierCounts counts present members per tier.
type TierCounts struct{ Core, Ordinary, Silent int }

// tierDays returns the days member tiers look at: the last window
// finished days of days and today (its last entry), so that a member who
// spoke today is not called silent.
func tierDays(days []Day, window int) []Day {
	if len(days) > window+1 {
		return days[len(days)-window-1:]
	}
	return days
}

// Tiers classifies present members over the last window finished days of
// days and today (the last entry, counted so far when it was counted):
// core when active on at least coreDays of them, ordinary when active at
// least once, silent otherwise. Members come from the store; days supply
// who spoke when.
func Tiers(members []bot.MemberRecord, days []Day, window, coreDays int) ([]MemberStat, TierCounts) {
	activeDays := map[bot.UserID]int{}
	msgs := map[bot.UserID]int{}
	for _, d := range tierDays(days, window) {
		for u, n := range d.Speakers {
			activeDays[u]++
			msgs[u] += n
		}
	}
	var out []MemberStat
	var c TierCounts
	for _, m := range members {
		if !m.Present || m.User == bot.SelfID {
			continue
		}
		s := MemberStat{User: m.User, Name: m.DisplayName(), LastSpoke: m.LastSpoke, Messages: m.Messages,
			ActiveDays: activeDays[m.User], WindowMessages: msgs[m.User]}
		switch {
		case s.ActiveDays >= coreDays:
			s.Tier = TierCore
			c.Core++
		case s.ActiveDays > 0:
			s.Tier = TierOrdinary
			c.Ordinary++
		default:
			s.Tier = TierSilent
			c.Silent++
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Tier != out[j].Tier {
			return out[i].Tier < out[j].Tier
		}
		if out[i].ActiveDays != out[j].ActiveDays {
			return out[i].ActiveDays > out[j].ActiveDays
		}
		return out[i].User < out[j].User
	})
	return out, c
}

// distinctSpeakers counts the people who spoke on the days tiers look at.
func distinctSpeakers(days []Day, window int) int {
	seen := map[bot.UserID]bool{}
	for _, d := range tierDays(days, window) {
		for u := range d.Speakers {
			seen[u] = true
		}
	}
	return len(seen)
}
