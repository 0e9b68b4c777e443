package stats_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/stats"
	"github.com/qunguan/qunguan/store"
)

// benchGroups and benchDays are the closing note's size: 1,000 groups with
// 90 days of history each.
const (
	benchGroups = 1000
	benchDays   = 90
)

var (
	benchOnce sync.Once
	benchDB   *store.DB
	benchDir  string
	benchNow  time.Time
	benchErr  error
	benchRecs int
)

// benchStore builds (once per process) a store with benchGroups groups of
// 20 members and benchDays days of messages, joins and leaves: 5-29
// messages a day per group from a varying set of speakers, about 1.5
// million records, plus moderation audit entries.
func benchStore(b *testing.B) (*store.DB, time.Time) {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "qunguan-stats-bench-")
		if benchErr != nil {
			return
		}
		loc := time.FixedZone("CST", 8*3600)
		benchNow = time.Date(2026, 6, 1, 9, 0, 0, 0, loc)
		start := benchNow.AddDate(0, 0, -benchDays)
		benchDB, benchErr = store.Open(benchDir, store.Options{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return benchNow }})
		if benchErr != nil {
			return
		}
		ctx := context.Background()
		for g := 0; g < benchGroups; g++ {
			gid := bot.GroupID(fmt.Sprintf("g_%05d", g))
			if benchErr = benchDB.PutGroup(ctx, bot.GroupRecord{ID: gid, Name: fmt.Sprintf("群%04d", g), FirstSeen: start, LastSeen: benchNow, MemberCount: 20, BotPresent: true}); benchErr != nil {
				return
			}
			for d := 0; d < benchDays; d++ {
				day := start.AddDate(0, 0, d)
				msgs := 5 + (g*7+d*3)%25
				for m := 0; m < msgs; m++ {
					u := bot.UserID(fmt.Sprintf("u_%02d", (m*3+d+g)%(4+(g+d)%12)))
					benchDB.AppendRecord(bot.Record{Group: gid, Time: day.Add(time.Duration(m) * 7 * time.Minute), Kind: bot.EventMessage, Sender: u, MsgType: bot.MsgText, Text: "早上好，今天讨论什么"})
					benchRecs++
				}
				if (g+d)%9 == 0 {
					benchDB.AppendRecord(bot.Record{Group: gid, Time: day.Add(5 * time.Hour), Kind: bot.EventMemberJoined, Sender: "u_new"})
					benchRecs++
				}
				if (g+d)%13 == 0 {
					benchDB.AppendRecord(bot.Record{Group: gid, Time: day.Add(6 * time.Hour), Kind: bot.EventMemberLeft, Sender: "u_03"})
					benchRecs++
				}
			}
		}
		if benchErr = benchDB.Sync(ctx); benchErr != nil {
			return
		}
		for i := 0; i < 300; i++ {
			if _, benchErr = benchDB.AppendAudit(ctx, bot.AuditEntry{Time: start.Add(time.Duration(i) * 7 * time.Hour), Group: bot.GroupID(fmt.Sprintf("g_%05d", i*3%benchGroups)), Actor: "plugin:moderation", Action: "moderation.warn", Detail: "bench"}); benchErr != nil {
				return
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDB, benchNow
}

func benchGroupsOf(b *testing.B, db *store.DB) []bot.GroupRecord {
	gs, err := db.Groups(context.Background())
	if err != nil || len(gs) != benchGroups {
		b.Fatalf("groups: %d, %v", len(gs), err)
	}
	return gs
}

func reportOnce(b *testing.B, a *stats.Analyzer, gs []bot.GroupRecord) string {
	cfg := stats.DefaultConfig()
	as, err := a.AssessAll(context.Background(), gs, func(bot.GroupRecord) (stats.Thresholds, int) { return cfg.Thresholds(), 28 })
	if err != nil {
		b.Fatal(err)
	}
	cat := stats.New().Texts()
	return stats.Report(as, stats.ReportInput{Now: a.Now(), Loc: a.Loc, Render: func(k string, v map[string]string) string { return bot.Render(cat[k].In(bot.LangZH), v) },
		Config: func(bot.GroupID) *stats.Config { return cfg }})
}

// BenchmarkWeeklyReport measures the weekly report over 1,000 groups with
// 90 days of history: "cold" counts every day from the raw records (the
// first report after installing, or with the cache lost); "warm" reads the
// daily aggregates the daily job keeps and counts only today live (every
// later report).
func BenchmarkWeeklyReport(b *testing.B) {
	db, now := benchStore(b)
	gs := benchGroupsOf(b, db)
	loc := now.Location()
	b.Logf("%d groups, %d days, %d records", benchGroups, benchDays, benchRecs)
	b.Run("cold", func(b *testing.B) {
		a := &stats.Analyzer{Store: db, Loc: loc, Now: func() time.Time { return now }, Live: true}
		b.ReportAllocs()
		for b.Loop() {
			reportOnce(b, a, gs)
		}
	})
	b.Run("warm", func(b *testing.B) {
		a := &stats.Analyzer{Store: db, KV: db.KV("stats-bench"), Loc: loc, Now: func() time.Time { return now }, Live: true}
		reportOnce(b, a, gs) // the daily job has filled the cache
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			reportOnce(b, a, gs)
		}
	})
}

// BenchmarkAssess measures the health computation alone: 1,000 groups of
// 90 in-memory days each.
func BenchmarkAssess(b *testing.B) {
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	series := make([][]stats.Day, benchGroups)
	for g := range series {
		for d := 0; d <= benchDays; d++ {
			series[g] = append(series[g], stats.Day{Date: 20260301 + d, Messages: 5 + (g+d)%25, Active: 3 + (g*d)%9, Leaves: (g + d) % 13 / 12, Observed: true})
		}
	}
	f := stats.Facts{Now: now, Members: 20, LastHuman: now.Add(-time.Hour), FirstSeen: now.AddDate(0, 0, -benchDays), Coverage: 1}
	th := stats.DefaultThresholds()
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range series {
			stats.Assess(s, f, th)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDB != nil {
		benchDB.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// BenchmarkDays90 reads the full 90 days of every group, as /stats 90d
// would for each: "cold" counts all 1.5 million records, "warm" reads the
// cache (90 finished days per group) and counts today live.
func BenchmarkDays90(b *testing.B) {
	db, now := benchStore(b)
	gs := benchGroupsOf(b, db)
	run := func(b *testing.B, a *stats.Analyzer) {
		for _, g := range gs {
			if _, err := a.Days(context.Background(), g, benchDays); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("cold", func(b *testing.B) {
		a := &stats.Analyzer{Store: db, Loc: now.Location(), Now: func() time.Time { return now }, Live: true}
		b.ReportAllocs()
		for b.Loop() {
			run(b, a)
		}
	})
	b.Run("warm", func(b *testing.B) {
		a := &stats.Analyzer{Store: db, KV: db.KV("stats-bench-90"), Loc: now.Location(), Now: func() time.Time { return now }, Live: true}
		run(b, a)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			run(b, a)
		}
	})
}
