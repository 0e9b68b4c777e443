package moderation

import (
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
)

func testConfig(t *testing.T) *Config {
	t.Helper()
	c := defaultConfig()
	c.Ladder.Decay = bot.Duration(7 * 24 * time.Hour)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRecord(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	type step struct {
		at     time.Duration // after t0
		points int
		base   Level
		want   verdict
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"one warning", []step{{0, 1, LevelWarn, verdict{Level: LevelWarn, Announce: true, Points: 1, Total: 1}}}},
		{"ladder raises the level", []step{
			{0, 2, LevelWarn, verdict{Level: LevelWarn, Announce: true, Points: 2, Total: 2}},
			{time.Hour, 2, LevelWarn, verdict{Level: LevelNotify, Announce: true, Points: 2, Total: 4}},
			{2 * time.Hour, 2, LevelWarn, verdict{Level: LevelRemove, Announce: true, Remove: true, Points: 2, Total: 6}},
		}},
		{"the same level is not repeated within the cooldown", []step{
			{0, 1, LevelWarn, verdict{Level: LevelWarn, Announce: true, Points: 1, Total: 1}},
			{time.Minute, 1, LevelWarn, verdict{Level: LevelWarn, Points: 1, Total: 2}},
			{11 * time.Minute, 0, LevelWarn, verdict{Level: LevelWarn, Announce: true, Total: 2}},
		}},
		{"a category's own action counts without points", []step{{0, 0, LevelNotify, verdict{Level: LevelNotify, Announce: true, Total: 0}}}},
		{"log-only categories still add up", []step{
			{0, 3, LevelLog, verdict{Level: LevelNotify, Announce: true, Points: 3, Total: 3}},
		}},
		{"old offences decay", []step{
			{0, 4, LevelWarn, verdict{Level: LevelNotify, Announce: true, Points: 4, Total: 4}},
			{6 * day, 1, LevelWarn, verdict{Level: LevelNotify, Announce: true, Points: 1, Total: 5}},
			{8 * day, 1, LevelWarn, verdict{Level: LevelWarn, Announce: true, Points: 1, Total: 2}},
		}},
		{"removal is started once", []step{
			{0, 6, LevelWarn, verdict{Level: LevelRemove, Announce: true, Remove: true, Points: 6, Total: 6}},
			{time.Minute, 1, LevelWarn, verdict{Level: LevelRemove, Points: 1, Total: 7}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			var s memberState
			for i, st := range c.steps {
				now := t0.Add(st.at)
				v := record(cfg, &s, []offence{{At: now, Points: st.points, Category: "x"}}, st.base, now)
				if v != st.want {
					t.Fatalf("step %d: got %+v, want %+v", i, v, st.want)
				}
				if v.Remove {
					s.Task = "T1"
				}
			}
		})
	}
}

func TestUndo(t *testing.T) {
	cfg := testConfig(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var s memberState
	record(cfg, &s, []offence{{At: t0, Points: 2, Category: "a"}}, LevelWarn, t0)
	record(cfg, &s, []offence{{At: t0.Add(time.Hour), Points: 2, Category: "b"}}, LevelWarn, t0.Add(time.Hour))
	o, ok := undo(cfg, &s, t0.Add(2*time.Hour))
	if !ok || o.Category != "b" || s.total() != 2 || s.Notice != 0 {
		t.Fatalf("undo: %+v %v, total %d, notice %v", o, ok, s.total(), s.Notice)
	}
	// An expired offence cannot be undone: it no longer counts.
	if _, ok := undo(cfg, &s, t0.Add(30*24*time.Hour)); ok {
		t.Errorf("undid an expired offence")
	}
}

func TestLevels(t *testing.T) {
	for name, want := range levelNames {
		got, err := ParseLevel(name)
		if err != nil || got != want || got.String() != name {
			t.Errorf("%s: %v %v %q", name, got, err, got.String())
		}
	}
	if _, err := ParseLevel("ban"); err == nil {
		t.Error("ban accepted")
	}
	if !(LevelLog < LevelWarn && LevelWarn < LevelNotify && LevelNotify < LevelRemove) {
		t.Error("levels out of order")
	}
}
