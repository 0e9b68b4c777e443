package simbot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/bot/simbot"
	"github.com/qunguan/qunguan/plugins/remind"
)

func TestRepeatBlock(t *testing.T) {
	h := bottest.New(t, bottest.Options{})
	start := h.Clock.Now()
	for _, l := range []string{"repeat 3 {", "alice@技术交流群: 早", "# a comment inside", "advance 1d"} {
		if out := h.Do(l); out != "" {
			t.Fatalf("%q inside a block produced %q", l, out)
		}
	}
	if !h.Clock.Now().Equal(start) {
		t.Fatal("lines inside a block ran before its }")
	}
	h.Do("}")
	if got := h.Clock.Now().Sub(start); got != 72*60*60*1e9 {
		t.Fatalf("three repetitions advanced %s, want 72h", got)
	}
	n := 0
	err := h.Store.ScanRecords(t.Context(), h.Group("技术交流群"), start, h.Clock.Now(), func(r bot.Record) error {
		if r.Text == "早" {
			n++
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("recorded %d messages (%v), want 3", n, err)
	}
	for _, bad := range [][]string{{"}"}, {"repeat 0 {"}, {"repeat 2 {", "repeat 2 {"}} {
		var err error
		for _, l := range bad {
			_, err = h.Step(l)
		}
		if err == nil || !strings.Contains(err.Error(), "repeat") && !strings.Contains(err.Error(), "}") {
			t.Errorf("%v: want an error, got %v", bad, err)
		}
		h.Step("}") // close a block left open by the case
	}
}

func TestStepUnknownNamesAreErrors(t *testing.T) {
	b, err := simbot.New(t.TempDir(), simbot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, line := range []string{
		"nobody@技术交流群: 你好",
		"alice@不存在的群: 你好",
		"dm nobody: /help",
		"+erin@不存在的群",
		"card 不存在的群 alice 小A",
		"removebot 不存在的群",
		"image nobody@技术交流群 a.png",
	} {
		if _, err := b.Step(line); err == nil {
			t.Errorf("%s: no error", line)
		}
	}
	// The bot still works afterwards.
	if out, err := b.Step("alice@技术交流群: /help"); err != nil || !strings.Contains(out, "可用命令") {
		t.Errorf("after errors: %q %v", out, err)
	}
}

func TestStepCheckMembers(t *testing.T) {
	b, err := simbot.New(t.TempDir(), simbot.Options{CheckMembers: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// carol is in 技术交流群 but not in 读书会.
	for _, line := range []string{
		"carol@读书会: 你好",
		"image carol@读书会 a.png",
		"-carol@读书会",
		"card 读书会 carol 小C",
	} {
		if _, err := b.Step(line); err == nil || !strings.Contains(err.Error(), "not a member") {
			t.Errorf("%s: %v, want a refusal", line, err)
		}
	}
	for _, line := range []string{"carol@技术交流群: 你好", "+carol@读书会", "carol@读书会: 你好", "-carol@读书会"} {
		if _, err := b.Step(line); err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
	if _, err := b.Step("carol@读书会: 又来了"); err == nil {
		t.Error("carol spoke in 读书会 after leaving it")
	}
	// Without the option anyone may talk anywhere (many tests rely on it).
	b2, err := simbot.New(t.TempDir(), simbot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if _, err := b2.Step("carol@读书会: 你好"); err != nil {
		t.Errorf("without CheckMembers: %v", err)
	}
}

func TestObserve(t *testing.T) {
	b, err := simbot.New(t.TempDir(), simbot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var queued, sent []string
	b.Observe(func(r bot.SendResult) { queued = append(queued, r.Text) },
		func(r bot.SendResult) {
			s := r.Text
			if r.Err != nil {
				s += " (" + r.Err.Error() + ")"
			}
			sent = append(sent, s)
		})
	for _, l := range []string{"alice@技术交流群: /help", "restart", "dm bob: /help"} {
		if _, err := b.Step(l); err != nil {
			t.Fatal(err)
		}
	}
	// The second reply goes to bob, who is not a friend: it is queued,
	// and given up (the observers survive the restart).
	if len(queued) != 2 || len(sent) != 2 || !strings.Contains(sent[1], "not a friend") {
		t.Errorf("queued %q\nsent %q", queued, sent)
	}
}

func TestNext(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: func() []bot.Plugin { return []bot.Plugin{remind.New()} }})
	if _, err := h.Step("next"); err == nil {
		t.Error("next with nothing scheduled: no error")
	}
	start := h.Clock.Now()
	h.Do("王老师@技术交流群: /提醒 2小时 喝水")
	if due, ok := h.NextStep(); !ok || !due.Equal(start.Add(2*time.Hour)) {
		t.Fatalf("NextStep = %v %v, want %v", due, ok, start.Add(2*time.Hour))
	}
	if out := h.Do("next"); !strings.Contains(out, "喝水") || !h.Clock.Now().Equal(start.Add(2*time.Hour)) {
		t.Errorf("next at %v:\n%s", h.Clock.Now(), out)
	}
}
