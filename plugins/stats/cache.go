package stats

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/qunguan/qunguan/bot"
)

// The cache keeps one value per group under "days/<group id>": the
// finished days of the last keepDays days, with their speakers for the
// last speakerDays. A weekly report over a thousand groups decodes a
// thousand of them, so the format is compact binary rather than JSON:
//
//	version    byte (cacheVersion)
//	zone       uvarint length, bytes: the zone the days were cut in
//	ids        uvarint count, then per id: uvarint length, bytes
//	days       uvarint count, then per day, oldest first:
//	           uvarint date (yyyymmdd), messages, bot, media, joins,
//	           leaves, moderation hits, active, speaker count, then per
//	           speaker: uvarint index into ids, uvarint messages
//
// A value of another version or zone is ignored and rebuilt from records.
const cacheVersion = 2

func cacheKey(g bot.GroupID) string { return "days/" + string(g) }

// loadCache returns g's cached days by date (empty when none or stale).
func (a *Analyzer) loadCache(ctx context.Context, g bot.GroupID) (map[int]Day, error) {
	out := map[int]Day{}
	if a.KV == nil {
		return out, nil
	}
	raw, err := a.KV.Get(ctx, cacheKey(g))
	if errors.Is(err, bot.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read cached days of %s: %w", g, err)
	}
	days, err := decodeCache(raw, a.Loc.String())
	if err != nil {
		// Another version, another zone or damage: rebuilt from the records.
		if a.Log != nil {
			a.Log.Info("stats cache rebuilt", "group_id", string(g), "reason", err.Error())
		}
		return out, nil
	}
	for _, d := range days {
		out[d.Date] = d
	}
	return out, nil
}

// saveCache stores days (trimmed to keepDays, speakers to speakerDays).
func (a *Analyzer) saveCache(ctx context.Context, g bot.GroupID, days map[int]Day, today int) error {
	oldest := a.addDays(today, -keepDays)
	speakersFrom := a.addDays(today, -speakerDays)
	var list []Day
	for date, d := range days {
		if date < oldest {
			continue
		}
		if date < speakersFrom {
			d.Speakers = nil
		}
		list = append(list, d)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Date < list[j].Date })
	if err := a.KV.Put(ctx, cacheKey(g), encodeCache(list, a.Loc.String())); err != nil {
		return fmt.Errorf("cache days of %s: %w", g, err)
	}
	return nil
}

func encodeCache(days []Day, zone string) []byte {
	index := map[bot.UserID]int{}
	var ids []bot.UserID
	for _, d := range days {
		for u := range d.Speakers {
			if _, ok := index[u]; !ok {
				index[u] = len(ids)
				ids = append(ids, u)
			}
		}
	}
	b := []byte{cacheVersion}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(n int) { b = binary.AppendUvarint(b, uint64(n)) }
	str(zone)
	num(len(ids))
	for _, u := range ids {
		str(string(u))
	}
	num(len(days))
	for _, d := range days {
		for _, n := range []int{d.Date, d.Messages, d.Bot, d.Media, d.Joins, d.Leaves, d.ModHits, d.Active, len(d.Speakers)} {
			num(n)
		}
		// Speakers in id order, so equal days encode equally.
		us := make([]int, 0, len(d.Speakers))
		for u := range d.Speakers {
			us = append(us, index[u])
		}
		sort.Ints(us)
		for _, i := range us {
			num(i)
			num(d.Speakers[ids[i]])
		}
	}
	return b
}

var errCache = errors.New("unreadable cache value")

func decodeCache(b []byte, zone string) ([]Day, error) {
	if len(b) == 0 || b[0] != cacheVersion {
		return nil, fmt.Errorf("cache version %v, want %d", firstByte(b), cacheVersion)
	}
	b = b[1:]
	bad := false
	num := func() int {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > 1<<31 {
			bad = true
			b = nil
			return 0
		}
		b = b[n:]
		return int(v)
	}
	str := func() string {
		n := num()
		if bad || n > len(b) {
			bad = true
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	if z := str(); bad || z != zone {
		return nil, fmt.Errorf("cached in zone %q, now %q", z, zone)
	}
	ids := make([]bot.UserID, num())
	for i := range ids {
		ids[i] = bot.UserID(str())
	}
	n := num()
	if bad || n > len(b) {
		return nil, errCache
	}
	days := make([]Day, n)
	for i := range days {
		d := &days[i]
		d.Date, d.Messages, d.Bot, d.Media, d.Joins, d.Leaves, d.ModHits, d.Active = num(), num(), num(), num(), num(), num(), num(), num()
		d.Observed = true
		if k := num(); k > 0 && !bad {
			d.Speakers = make(map[bot.UserID]int, k)
			for j := 0; j < k && !bad; j++ {
				idx, msgs := num(), num()
				if idx >= len(ids) {
					return nil, errCache
				}
				d.Speakers[ids[idx]] = msgs
			}
		}
		if bad {
			return nil, errCache
		}
	}
	if bad || len(b) != 0 {
		return nil, errCache
	}
	return days, nil
}

func firstByte(b []byte) any {
	if len(b) == 0 {
		return "none"
	}
	return b[0]
}
