package moderation

import (
	"os"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func floodConfig() Flood {
	return defaultConfig().Flood
}

func TestRateFiresOncePerEpisode(t *testing.T) {
	ft := newFloodTracker()
	f := floodConfig() // 10 messages in 10s
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var fired []int
	for i := 0; i < 40; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		if i >= 20 {
			at = at.Add(10 * time.Minute) // a quiet spell, then a second flood
		}
		if h, ok := ft.observe("g", "u", at, "x", 0, false, f); ok {
			if h.kind != catFlood || len(h.evidence) != 10 {
				t.Errorf("hit %+v", h)
			}
			fired = append(fired, i)
		}
	}
	if len(fired) != 2 || fired[0] != 9 || fired[1] != 29 {
		t.Errorf("fired at %v, want [9 29]", fired)
	}
}

func TestEndlessFloodCountsAgainAfterAnEpisode(t *testing.T) {
	ft := newFloodTracker()
	f := floodConfig()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	fires := 0
	for i := 0; i < 45*60; i++ { // one message a second for 45 minutes
		if _, ok := ft.observe("g", "u", t0.Add(time.Duration(i)*time.Second), "x", 0, false, f); ok {
			fires++
		}
	}
	if fires != 2 {
		t.Errorf("fired %d times in 45 minutes of flooding, want 2 (once per 30-minute episode)", fires)
	}
}

func TestSlowMessagesDoNotFlood(t *testing.T) {
	ft := newFloodTracker()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 100; i++ {
		if _, ok := ft.observe("g", "u", t0.Add(time.Duration(i)*1200*time.Millisecond), "x", 0, false, floodConfig()); ok {
			t.Fatalf("fired at message %d at 1.2s apart", i)
		}
	}
}

func TestRepeat(t *testing.T) {
	ft := newFloodTracker()
	f := floodConfig() // 3 times in 5m, texts of 6+ characters
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	say := func(at time.Duration, text string) bool {
		k, keyed := ft.textKey(text, f.MinLength)
		_, ok := ft.observe("g", "u", t0.Add(at), text, k, keyed, f)
		return ok
	}
	if say(0, "周末一起去爬山吗") || say(time.Minute, "周末 一起去爬山吗？") {
		t.Fatal("fired too early")
	}
	if !say(2*time.Minute, "周末一起去爬山吗!!") {
		t.Fatal("third repeat (spacing and punctuation differ) did not fire")
	}
	if say(3*time.Minute, "周末一起去爬山吗") {
		t.Error("fired twice for one episode")
	}
	// Texts too short to compare never repeat.
	for i := 0; i < 5; i++ {
		if say(time.Hour+time.Duration(i)*time.Minute, "收到") {
			t.Fatal("short text counted as a repeat")
		}
	}
	// Spread beyond the window, the same text is fine.
	for i := 0; i < 5; i++ {
		if say(2*time.Hour+time.Duration(i)*3*time.Minute, "今天的作业是什么") {
			t.Fatalf("fired for repeats spread over %v", 3*time.Minute)
		}
	}
}

func TestWave(t *testing.T) {
	ft := newFloodTracker()
	w := defaultConfig().Flood.Wave // 3 groups in 10m
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	text := "低价出售会员账号"
	k, _ := ft.textKey(text, 6)
	obs := func(g bot.GroupID, u bot.UserID, at time.Duration) (waveHit, bool) {
		return ft.observeWave(post{g: g, u: u, name: string(u), at: t0.Add(at)}, text, k, w)
	}
	if _, ok := obs("g1", "a", 0); ok {
		t.Fatal("one group is no wave")
	}
	if _, ok := obs("g1", "b", time.Minute); ok {
		t.Fatal("two posts in one group are no wave")
	}
	if _, ok := obs("g2", "a", 2*time.Minute); ok {
		t.Fatal("two groups are no wave")
	}
	h, ok := obs("g3", "c", 3*time.Minute)
	if !ok || !h.first || len(h.groups) != 3 || len(h.posts) != 4 {
		t.Fatalf("wave not reported with every post: %+v", h)
	}
	// A later post joins the wave as one more post, not a new wave.
	h, ok = obs("g4", "d", 4*time.Minute)
	if !ok || h.first || len(h.posts) != 1 || h.posts[0].u != "d" {
		t.Errorf("later post: %+v", h)
	}
	// Someone already penalised is not penalised again.
	h, _ = obs("g4", "d", 5*time.Minute)
	if len(h.posts) != 0 {
		t.Errorf("penalised twice: %+v", h)
	}
	// Groups older than the window fall out: a slow trickle is no wave.
	ft2 := newFloodTracker()
	for i, g := range []bot.GroupID{"g1", "g2", "g3", "g4"} {
		if _, ok := ft2.observeWave(post{g: g, u: "a", at: t0.Add(time.Duration(i) * 6 * time.Minute)}, text, k, w); ok {
			t.Fatalf("trickle reported as a wave at group %d", i+1)
		}
	}
}

func TestSweepAndForget(t *testing.T) {
	ft := newFloodTracker()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f := floodConfig()
	k, _ := ft.textKey("一段足够长的文字", 6)
	ft.observe("g", "a", t0, "x", 0, false, f)
	ft.observe("g", "b", t0, "x", 0, false, f)
	ft.observeWave(post{g: "g", u: "a", at: t0}, "一段足够长的文字", k, f.Wave)
	ft.forget("g", []bot.UserID{"a"})
	if m, w := ft.size(); m != 1 || w != 1 {
		t.Fatalf("after forget: %d members, %d waves", m, w)
	}
	ft.sweep(t0.Add(time.Hour), 10*time.Minute)
	if m, w := ft.size(); m != 0 || w != 0 {
		t.Errorf("after sweep: %d members, %d waves", m, w)
	}
}
