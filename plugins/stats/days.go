package stats

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Day is one group's activity on one calendar day in the configured zone,
// counted from the store's records (and moderation audit entries).
type Day struct {
	// Date is the day as yyyymmdd in the configured zone.
	Date int
	// Messages are messages from people; Bot those the bot account sent.
	Messages int
	Bot      int
	// Media are the images and files among Messages.
	Media  int
	Joins  int
	Leaves int
	// ModHits are moderation hits from the audit log (see IsModerationHit).
	ModHits int
	// Active is the number of distinct people who sent a message.
	Active int
	// Speakers maps each person who spoke to their message count. It is
	// kept for recent days only (member tiers need four weeks).
	Speakers map[bot.UserID]int
	// Observed is false for days before the bot first saw the group.
	Observed bool
}

// speakerDays is how many recent days keep their Speakers in the cache.
const speakerDays = 35

// keepDays is how many days of aggregates the cache keeps per group.
const keepDays = 120

// settleDelay is how long after a day ends it is cached: records are
// written by a group-commit writer, so the last ones of a day may land a
// moment after midnight.
const settleDelay = 5 * time.Minute

// Analyzer turns the store's records into daily aggregates, member tiers
// and health. The plugin and `qunguan stats` share it. Finished days are
// cached in KV (when set), so a weekly report over many groups reads one
// small value per group instead of every message.
type Analyzer struct {
	Store bot.StoreReader
	// KV caches finished days; nil computes everything from records.
	KV  bot.KV
	Loc *time.Location
	Now func() time.Time
	// Live says the open session is the running bot's (it reaches until
	// now); the CLI reads a stopped bot's store and ends it at its last
	// heartbeat instead.
	Live bool
	Log  *slog.Logger
}

// DateOf returns t's day as yyyymmdd in the analyzer's zone.
func (a *Analyzer) DateOf(t time.Time) int {
	y, m, d := t.In(a.Loc).Date()
	return y*10000 + int(m)*100 + d
}

// DayStart returns the start of the day yyyymmdd in the analyzer's zone.
func (a *Analyzer) DayStart(date int) time.Time {
	return time.Date(date/10000, time.Month(date/100%100), date%100, 0, 0, 0, 0, a.Loc)
}

// addDays returns the date n days after date (n may be negative).
func (a *Analyzer) addDays(date, n int) int {
	return a.DateOf(a.DayStart(date).AddDate(0, 0, n).Add(time.Hour))
}

// startOfDay returns the start of t's day in the analyzer's zone.
func (a *Analyzer) startOfDay(t time.Time) time.Time {
	return a.DayStart(a.DateOf(t))
}

// batch shares moderation counts between the groups of one report, so the
// audit log is read once, not once per group.
type batch struct {
	since time.Time
	all   bool
	mod   map[bot.GroupID]map[int]int
}

// notHits are moderation audit actions that record what followed a hit
// (or a configuration change), not a hit: counting them would count one
// offence several times.
var notHits = map[string]bool{
	"moderation.unwarn": true, "moderation.kick": true, "moderation.kick_failed": true,
	"moderation.removed": true, "moderation.lists": true,
}

// IsModerationHit reports whether an audit action is a moderation hit:
// moderation.hit (keywords, detectors), .flood, .repeat, .wave, .warn and
// any other moderation.* action except the consequences in notHits.
func IsModerationHit(action string) bool {
	return strings.HasPrefix(action, "moderation.") && !notHits[action]
}

// modHits returns g's moderation hits per day since from.
func (a *Analyzer) modHits(ctx context.Context, b *batch, g bot.GroupID, from time.Time) (map[int]int, error) {
	if b != nil && b.all && !from.Before(b.since) {
		return b.mod[g], nil
	}
	f := bot.AuditFilter{Action: "moderation.", Since: from}
	if b == nil {
		f.Group = g
	}
	es, err := a.Store.AuditEntries(ctx, f)
	if err != nil {
		return nil, err
	}
	mod := map[bot.GroupID]map[int]int{}
	for _, e := range es {
		if !IsModerationHit(e.Action) {
			continue
		}
		if mod[e.Group] == nil {
			mod[e.Group] = map[int]int{}
		}
		mod[e.Group][a.DateOf(e.Time)]++
	}
	if b != nil {
		b.all, b.since, b.mod = true, from, mod
	}
	return mod[g], nil
}

// Days returns n days of g ending with today (partial), oldest first. Days
// before the bot first saw the group are present with Observed false.
func (a *Analyzer) Days(ctx context.Context, g bot.GroupRecord, n int) ([]Day, error) {
	return a.days(ctx, nil, g, n, true)
}

// days is Days; without today, today's entry is left empty instead of
// counted (health looks at finished days only, and a report over a
// thousand groups saves a thousand scans).
func (a *Analyzer) days(ctx context.Context, b *batch, g bot.GroupRecord, n int, withToday bool) ([]Day, error) {
	if n < 1 {
		n = 1
	}
	now := a.Now()
	today := a.DateOf(now)
	first := a.addDays(today, -(n - 1))
	firstSeen := today
	if !g.FirstSeen.IsZero() {
		firstSeen = a.DateOf(g.FirstSeen)
	}
	cached, err := a.loadCache(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	// Finished days that are observed but not cached yet.
	settled := a.addDays(today, -1)
	if now.Sub(a.DayStart(today)) < settleDelay {
		settled = a.addDays(today, -2)
	}
	var missing []int
	for d := max(first, firstSeen); d <= settled; d = a.addDays(d, 1) {
		if _, ok := cached[d]; !ok {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		from, to := a.DayStart(missing[0]), a.DayStart(a.addDays(missing[len(missing)-1], 1))
		fresh, err := a.count(ctx, b, g.ID, from, to)
		if err != nil {
			return nil, err
		}
		for _, d := range missing {
			day := fresh[d]
			day.Date, day.Observed = d, true
			cached[d] = day
		}
		if a.KV != nil {
			if err := a.saveCache(ctx, g.ID, cached, today); err != nil {
				return nil, err
			}
		}
	}
	// Days after the settled ones (today, and yesterday just after
	// midnight) are counted live and never cached.
	var live map[int]Day
	liveFrom, liveTo := a.addDays(settled, 1), time.Time{}
	if !withToday {
		liveTo = a.DayStart(today)
	}
	if liveFrom <= today && (withToday || liveFrom < today) {
		live, err = a.count(ctx, b, g.ID, a.DayStart(max(liveFrom, firstSeen)), liveTo)
		if err != nil {
			return nil, err
		}
	}
	out := make([]Day, 0, n)
	for d := first; d <= today; d = a.addDays(d, 1) {
		day, ok := cached[d]
		if !ok {
			day = live[d]
		}
		day.Date = d
		day.Observed = d >= firstSeen
		out = append(out, day)
	}
	return out, nil
}

// count reads g's records in [from, to) (to zero: up to now) and returns
// per-day aggregates, including moderation hits.
func (a *Analyzer) count(ctx context.Context, b *batch, g bot.GroupID, from, to time.Time) (map[int]Day, error) {
	acc := map[int]*Day{}
	get := func(t time.Time) *Day {
		d := a.DateOf(t)
		p := acc[d]
		if p == nil {
			p = &Day{Date: d, Observed: true}
			acc[d] = p
		}
		return p
	}
	err := a.Store.ScanRecords(ctx, g, from, to, func(r bot.Record) error {
		switch r.Kind {
		case bot.EventMessage:
			d := get(r.Time)
			if r.FromBot || r.Sender == bot.SelfID {
				d.Bot++
				return nil
			}
			d.Messages++
			if r.MsgType == bot.MsgImage || r.MsgType == bot.MsgFile {
				d.Media++
			}
			if r.Sender != "" {
				if d.Speakers == nil {
					d.Speakers = map[bot.UserID]int{}
				}
				d.Speakers[r.Sender]++
			}
		case bot.EventMemberJoined:
			get(r.Time).Joins++
		case bot.EventMemberLeft:
			get(r.Time).Leaves++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count records of %s: %w", g, err)
	}
	mod, err := a.modHits(ctx, b, g, from)
	if err != nil {
		return nil, fmt.Errorf("moderation hits of %s: %w", g, err)
	}
	for date, n := range mod {
		if !to.IsZero() && !a.DayStart(date).Before(to) {
			continue
		}
		if a.DayStart(date).Before(a.startOfDay(from)) {
			continue
		}
		d := acc[date]
		if d == nil {
			d = &Day{Date: date, Observed: true}
			acc[date] = d
		}
		d.ModHits += n
	}
	out := make(map[int]Day, len(acc))
	for date, d := range acc {
		d.Active = len(d.Speakers)
		out[date] = *d
	}
	return out, nil
}

// FormatDate renders yyyymmdd as "03-02" (short) or "2026-03-02".
func FormatDate(date int, long bool) string {
	if long {
		return fmt.Sprintf("%04d-%02d-%02d", date/10000, date/100%100, date%100)
	}
	return fmt.Sprintf("%02d-%02d", date/100%100, date%100)
}

// Totals sums a run of days.
type Totals struct {
	Days, Messages, Media, Joins, Leaves, ModHits int
	// ActiveSum is the sum of daily active members (for the average).
	ActiveSum int
	// Speakers are the distinct people who spoke in the run.
	Speakers int
}

// Sum adds up the observed days.
func Sum(days []Day) Totals {
	var t Totals
	seen := map[bot.UserID]bool{}
	for _, d := range days {
		if !d.Observed {
			continue
		}
		t.Days++
		t.Messages += d.Messages
		t.Media += d.Media
		t.Joins += d.Joins
		t.Leaves += d.Leaves
		t.ModHits += d.ModHits
		t.ActiveSum += d.Active
		for u := range d.Speakers {
			seen[u] = true
		}
	}
	t.Speakers = len(seen)
	return t
}

// CSV renders days as CSV with a header line, one line per recorded day:
// days before the bot first saw the group are left out (they would read
// as days of zeros).
func CSV(days []Day) string {
	var b strings.Builder
	b.WriteString("date,messages,active_members,joins,leaves,media,moderation_hits,bot_messages\n")
	for _, d := range days {
		if !d.Observed {
			continue
		}
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%d,%d,%d\n", FormatDate(d.Date, true), d.Messages, d.Active, d.Joins, d.Leaves, d.Media, d.ModHits, d.Bot)
	}
	return b.String()
}
