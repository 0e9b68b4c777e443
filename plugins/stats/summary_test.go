package stats

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
)

func renderIn(lang bot.Lang) func(string, map[string]string) string {
	return func(key string, vars map[string]string) string {
		tx, ok := texts[key]
		if !ok {
			panic("no text " + key)
		}
		return bot.Render(tx.In(lang), vars)
	}
}

// zeroPhrases are what a summary must never say: windows of no days,
// averages of days that do not exist, "0 days ago".
var zeroPhrases = []string{"近 0 天", "过去 0 天", "前 0 天", "0 天前", "（约 0 天）", "日均 0）", "over 0 ", "in 0 days", "the 0 ", "0 days ago", "about 0 days"}

func checkNoZeroPhrases(t *testing.T, what, s string) {
	t.Helper()
	for _, p := range zeroPhrases {
		if strings.Contains(s, p) {
			t.Errorf("%s says %q:\n%s", what, p, s)
		}
	}
	if strings.Contains(s, "{") {
		t.Errorf("%s has a placeholder left:\n%s", what, s)
	}
}

// TestSummaryDays checks the /stats text around the current day: no
// averages before a full day is recorded (and it says so), averages that
// leave today out say so, today's numbers are shown apart, and the days
// before recording began are named.
func TestSummaryDays(t *testing.T) {
	now := time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC)
	g := bot.GroupRecord{ID: "g_1", Name: "技术群", MemberCount: 6}
	today := Day{Date: 20260107, Messages: 4, Active: 4, Observed: true, Speakers: map[bot.UserID]int{"a": 1, "b": 1, "c": 1, "d": 1}}
	fresh := append(history(6, func(int) (int, int) { return 0, 0 }, nil)[:6], today)
	for i := range fresh[:6] {
		fresh[i].Observed = false
	}
	week := append(history(6, func(int) (int, int) { return 3, 11 }, nil)[:6], today)
	cases := []struct {
		name   string
		period []Day
		facts  Facts
		zh, en []string
	}{
		{name: "first day", period: fresh, facts: Facts{Now: now, Members: 6, FirstSeen: now.Add(-6 * time.Hour), LastHuman: now.Add(-time.Hour), Coverage: 1},
			zh: []string{"（01-07 起有记录）", "记录不足一天，暂无日均；今天至今 4 条、4 人发言", "记录不足一天，消息量暂不判断", "记录不足一天，退群比例暂不判断", "今天有成员发言"},
			en: []string{"(recorded since 01-07)", "no daily averages yet; today so far 4 message(s) from 4 people", "Members spoke today"}},
		{name: "a week", period: week, facts: Facts{Now: now, Members: 6, FirstSeen: now.AddDate(0, 0, -7), LastHuman: now.Add(-30 * time.Hour), Coverage: 1},
			zh: []string{"日均（前 6 天，不含今天）：消息 11 条，活跃 3 人；今天至今 4 条、4 人发言", "过去 6 天日均 11 条成员消息（不含今天；", "最近一条成员消息在昨天"},
			en: []string{"Daily average over the 6 full day(s) before today: 11 messages, 3 active members", "The last member message was yesterday"}},
		{name: "today alone", period: week[6:], facts: Facts{Now: now, Members: 6, FirstSeen: now.AddDate(0, 0, -7), LastHuman: now.AddDate(0, 0, -3), Coverage: 1},
			zh: []string{"今天还没结束，不计日均；今天至今 4 条、4 人发言", "最近一条成员消息在 3 天前"},
			en: []string{"Today is not over, so no daily average", "3 days ago"}},
	}
	for _, c := range cases {
		// Health looks at finished days only: today is left empty for it.
		hist := append([]Day(nil), c.period...)
		if len(c.period) == 1 {
			hist = append([]Day(nil), week...)
		}
		hist[len(hist)-1] = Day{Date: today.Date, Observed: true}
		h := Assess(hist, c.facts, DefaultThresholds())
		_, tiers := Tiers([]bot.MemberRecord{{User: "a", Present: true}, {User: "b", Present: true}, {User: "c", Present: true}, {User: "d", Present: true}, {User: "e", Present: true}}, c.period, 28, 14)
		for lang, want := range map[bot.Lang][]string{bot.LangZH: c.zh, bot.LangEN: c.en} {
			s := Summary(renderIn(lang), g, c.period, h, tiers)
			checkNoZeroPhrases(t, c.name, s)
			for _, w := range want {
				if !strings.Contains(s, w) {
					t.Errorf("%s (%s): no %q in:\n%s", c.name, lang, w, s)
				}
			}
		}
		if tiers.Silent != 1 || tiers.Ordinary != 4 {
			t.Errorf("%s: tiers %+v, want the four who spoke today ordinary", c.name, tiers)
		}
	}
}

// TestExplainNeverZero sweeps the first days of a group's record and
// every silence up to the dead limit: no reason, in either language, talks
// of zero days or of averages over nothing.
func TestExplainNeverZero(t *testing.T) {
	now := time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)
	for observed := 0; observed <= 9; observed++ {
		for _, silentHours := range []int{0, 1, 8, 10, 23, 24, 25, 34, 47, 49, 100, 160, 170, 200} {
			for _, spoke := range []bool{false, true} {
				days := history(observed, func(int) (int, int) { return 2, 5 }, nil)
				f := Facts{Now: now, Members: 10, FirstSeen: now.Add(-time.Duration(max(observed*24, silentHours)) * time.Hour), Coverage: 1}
				if spoke {
					f.LastHuman = now.Add(-time.Duration(silentHours) * time.Hour)
				}
				h := Assess(days, f, DefaultThresholds())
				for _, lang := range []bot.Lang{bot.LangZH, bot.LangEN} {
					s := strings.Join(h.Explain(renderIn(lang)), "\n")
					what := fmt.Sprintf("%d days observed, silent %dh, spoke %v", observed, silentHours, spoke)
					checkNoZeroPhrases(t, what, s)
					if approx.MatchString(s) {
						t.Errorf("%s: an approximate count of days with a fraction:\n%s", what, s)
					}
				}
			}
		}
	}
}

// approx matches "约 6.6 天" and "about 6.6 days": an approximation is
// a whole number.
var approx = regexp.MustCompile(`(约|about) \d+\.\d`)

// TestTiersCountToday: a member who spoke only today is ordinary, one who
// spoke only before the window is silent, and core counts the window's
// finished days and today.
func TestTiersCountToday(t *testing.T) {
	days := make([]Day, 36)
	for i := range days {
		days[i] = Day{Date: 20260101 + i, Observed: true, Speakers: map[bot.UserID]int{}}
		if i >= 22 {
			days[i].Speakers["core"] = 2 // the last 13 finished days and today
		}
	}
	days[35].Speakers["today"] = 1
	days[6].Speakers["long_ago"] = 5 // 29 days before today: outside 28
	var members []bot.MemberRecord
	for _, u := range []bot.UserID{"core", "today", "long_ago", "never"} {
		members = append(members, bot.MemberRecord{User: u, Present: true})
	}
	list, c := Tiers(members, days, 28, 14)
	if c != (TierCounts{Core: 1, Ordinary: 1, Silent: 2}) {
		t.Errorf("tiers %+v", c)
	}
	want := map[bot.UserID]Tier{"core": TierCore, "today": TierOrdinary, "long_ago": TierSilent, "never": TierSilent}
	for _, m := range list {
		if m.Tier != want[m.User] {
			t.Errorf("%s: %s, want %s", m.User, m.Tier, want[m.User])
		}
	}
	if n := distinctSpeakers(days, 28); n != 2 {
		t.Errorf("distinct speakers %d, want 2", n)
	}
}

func TestLastMessage(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 3, 30, 0, 10, 0, 0, loc)
	for _, c := range []struct {
		last time.Time
		key  string
		days string
	}{
		{now.Add(-5 * time.Minute), "stats.why.silent_today", ""},
		// 15 minutes ago, but before midnight: yesterday, not "0 days ago".
		{now.Add(-15 * time.Minute), "stats.why.silent_yesterday", ""},
		{time.Date(2026, 3, 28, 23, 0, 0, 0, loc), "stats.why.silent_ok", "2"},
		{time.Date(2026, 3, 23, 9, 0, 0, 0, loc), "stats.why.silent_ok", "7"},
	} {
		r := lastMessage(Facts{Now: now.UTC(), LastHuman: c.last.UTC(), Loc: loc})
		if r.Key != c.key || r.Vars["days"] != c.days {
			t.Errorf("last message %v: %s %v, want %s %s", c.last, r.Key, r.Vars, c.key, c.days)
		}
	}
}

// TestReportNewGroup: a group recorded for less than a day has no daily
// average in the weekly report, not one of 0.
func TestReportNewGroup(t *testing.T) {
	now := time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)
	fresh := Assess([]Day{{Date: 20260330, Observed: true}}, Facts{Now: now, Members: 3, FirstSeen: now.Add(-time.Hour), Coverage: 1}, DefaultThresholds())
	old := Assess(history(10, func(int) (int, int) { return 2, 8 }, nil), Facts{Now: now, Members: 3, FirstSeen: now.AddDate(0, 0, -10), LastHuman: now.Add(-time.Hour), Coverage: 1}, DefaultThresholds())
	as := []Assessment{{Group: bot.GroupRecord{ID: "g_1", Name: "新群", MemberCount: 3}, Health: fresh}, {Group: bot.GroupRecord{ID: "g_2", Name: "老群", MemberCount: 3}, Health: old}}
	for lang, want := range map[bot.Lang][]string{bot.LangZH: {"新群（g_1）100 分 · 健康 · 3 人 · 记录不足一天", "老群（g_2）", "日均 8 条"}, bot.LangEN: {"3 members · under a day recorded"}} {
		s := Report(as, ReportInput{Now: now, Loc: time.UTC, Render: renderIn(lang)})
		checkNoZeroPhrases(t, "report", s)
		for _, w := range want {
			if !strings.Contains(s, w) {
				t.Errorf("no %q in:\n%s", w, s)
			}
		}
	}
}
