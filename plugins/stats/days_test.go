package stats_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/stats"
	"github.com/qunguan/qunguan/store"
)

func TestDaysCountAndCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 3, 5, 10, 0, 0, 0, loc)
	db, err := store.Open(t.TempDir(), store.Options{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := bot.GroupRecord{ID: "g_1", Name: "技术群", FirstSeen: time.Date(2026, 3, 2, 9, 0, 0, 0, loc), BotPresent: true, MemberCount: 5}
	if err := db.PutGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	add := func(r bot.Record) {
		t.Helper()
		r.Group = g.ID
		if err := <-db.AppendRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, loc) }
	// 03-02: two people, three messages (one image), a join. 23:30 local is
	// 15:30 UTC: still 03-02 in the zone.
	add(bot.Record{Time: at(2, 10), Kind: bot.EventMessage, Sender: "u_a", MsgType: bot.MsgText})
	add(bot.Record{Time: at(2, 11), Kind: bot.EventMessage, Sender: "u_a", MsgType: bot.MsgImage})
	add(bot.Record{Time: at(2, 23).Add(30 * time.Minute), Kind: bot.EventMessage, Sender: "u_b", MsgType: bot.MsgText})
	add(bot.Record{Time: at(2, 12), Kind: bot.EventMemberJoined, Sender: "u_c"})
	add(bot.Record{Time: at(2, 13), Kind: bot.EventMessage, Sender: bot.SelfID, FromBot: true, MsgType: bot.MsgText})
	// 03-03 00:30 local is 03-02 16:30 UTC: counted on 03-03.
	add(bot.Record{Time: at(3, 0).Add(30 * time.Minute), Kind: bot.EventMessage, Sender: "u_b", MsgType: bot.MsgText})
	add(bot.Record{Time: at(3, 9), Kind: bot.EventMemberLeft, Sender: "u_c"})
	// Today.
	add(bot.Record{Time: at(5, 9), Kind: bot.EventMessage, Sender: "u_a", MsgType: bot.MsgFile})
	if _, err := db.AppendAudit(ctx, bot.AuditEntry{Time: at(3, 8), Group: g.ID, Action: "moderation.warn", Detail: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendAudit(ctx, bot.AuditEntry{Time: at(3, 8), Group: "g_other", Action: "moderation.warn", Detail: "x"}); err != nil {
		t.Fatal(err)
	}
	// What followed the hit is not another hit.
	if _, err := db.AppendAudit(ctx, bot.AuditEntry{Time: at(3, 8), Group: g.ID, Action: "moderation.kick_failed", Detail: "x"}); err != nil {
		t.Fatal(err)
	}

	a := &stats.Analyzer{Store: db, KV: db.KV("stats"), Loc: loc, Now: func() time.Time { return now }, Live: true}
	days, err := a.Days(ctx, g, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []stats.Day{
		{Date: 20260301},
		{Date: 20260302, Messages: 3, Bot: 1, Media: 1, Joins: 1, Active: 2, Observed: true},
		{Date: 20260303, Messages: 1, Leaves: 1, ModHits: 1, Active: 1, Observed: true},
		{Date: 20260304, Observed: true},
		{Date: 20260305, Messages: 1, Media: 1, Active: 1, Observed: true},
	}
	check := func(what string, got []stats.Day) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d days, want %d", what, len(got), len(want))
		}
		for i := range want {
			if d := cmp.Diff(want[i], got[i], cmpopts.IgnoreFields(stats.Day{}, "Speakers")); d != "" {
				t.Errorf("%s: day %d (-want +got):\n%s", what, i, d)
			}
		}
	}
	check("first read", days)
	if d := cmp.Diff(map[bot.UserID]int{"u_a": 2, "u_b": 1}, days[1].Speakers); d != "" {
		t.Errorf("03-02 speakers (-want +got):\n%s", d)
	}

	// A record slipped into a finished, cached day is not seen: the cache
	// is used. Without the cache it is.
	add(bot.Record{Time: at(2, 15), Kind: bot.EventMessage, Sender: "u_z", MsgType: bot.MsgText})
	days, err = a.Days(ctx, g, 5)
	if err != nil {
		t.Fatal(err)
	}
	check("cached read", days)
	uncached := &stats.Analyzer{Store: db, Loc: loc, Now: func() time.Time { return now }, Live: true}
	days, err = uncached.Days(ctx, g, 5)
	if err != nil {
		t.Fatal(err)
	}
	if days[1].Messages != 4 || days[1].Active != 3 {
		t.Errorf("uncached read: %+v", days[1])
	}

	// Another zone cuts days differently: the cache is rebuilt, not reused.
	utc := &stats.Analyzer{Store: db, KV: db.KV("stats"), Loc: time.UTC, Now: func() time.Time { return now }, Live: true}
	days, err = utc.Days(ctx, g, 5)
	if err != nil {
		t.Fatal(err)
	}
	// In UTC, 03-02 23:30 CST and 03-03 00:30 CST both fall on 03-02.
	if days[1].Date != 20260302 || days[1].Messages != 5 {
		t.Errorf("utc 03-02: %+v", days[1])
	}

	tot := stats.Sum(want)
	if tot.Days != 4 || tot.Messages != 5 || tot.Speakers != 0 || tot.ModHits != 1 {
		t.Errorf("sum: %+v", tot)
	}
	// 03-01, before the bot saw the group, is left out: not a day of zeros.
	csv := stats.CSV(want[:2])
	if csv != "date,messages,active_members,joins,leaves,media,moderation_hits,bot_messages\n2026-03-02,3,2,1,0,1,0,1\n" {
		t.Errorf("csv:\n%s", csv)
	}
}
