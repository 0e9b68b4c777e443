package welcome_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/rules"
	"github.com/qunguan/qunguan/plugins/welcome"
)

func plugins() []bot.Plugin { return []bot.Plugin{rules.New(), welcome.New()} }

func TestScenarios(t *testing.T) {
	bottest.RunScenarios(t, "testdata/*.txt", plugins)
}

func TestFrozenGroupAndTheBotAreNotGreeted(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins})
	ctx := context.Background()
	g := h.Group("技术交流群")
	if err := h.RT.SetFrozen(ctx, g, true, "test"); err != nil {
		t.Fatal(err)
	}
	if got := h.Do("+erin@技术交流群", "advance 5m"); got != "" {
		t.Errorf("frozen group greeted: %q", got)
	}
	if err := h.RT.SetFrozen(ctx, g, false, "test"); err != nil {
		t.Fatal(err)
	}
	// The bot account itself in a join event is never greeted.
	h.Sim.Inject(bot.Event{Kind: bot.EventMemberJoined, Group: g, Members: []bot.Member{{ID: bot.SelfID, Nick: "群管机器人"}}})
	if got := h.Do("advance 5m"); got != "" {
		t.Errorf("the bot greeted itself: %q", got)
	}
	// Unfrozen, the group is greeted again.
	if got := h.Do("+frank@技术交流群", "advance 30s"); !strings.Contains(got, "欢迎 frank") {
		t.Errorf("no greeting after unfreezing: %q", got)
	}
}

func TestBatchSurvivesRestartButIsNotSentLate(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins})
	// A restart inside the window still greets: batch and timer are persisted.
	h.Do("+erin@技术交流群")
	h.Restart()
	if got := h.Do("advance 30s"); strings.Count(got, "send_text") != 1 || !strings.Contains(got, "欢迎 erin") {
		t.Fatalf("greeting after restart: %q", got)
	}
	// Down for an hour across the flush: the greeting is dropped, not sent late.
	h.Do("advance 10m", "+frank@技术交流群")
	h.StopBot()
	h.Clock.Advance(time.Hour)
	h.StartBot()
	if got := h.Do("advance 1m"); got != "" {
		t.Errorf("late greeting sent: %q", got)
	}
	// The dropped batch does not linger: the next join is greeted alone.
	if got := h.Do("+grace@技术交流群", "advance 30s"); !strings.Contains(got, "欢迎 grace 加入") {
		t.Errorf("next greeting: %q", got)
	}
}

func TestTemplateCheckedAtLoad(t *testing.T) {
	_, err := bot.ParseConfig("c.yaml", []byte("plugins:\n  welcome:\n    template: 欢迎 {name}\n"), plugins())
	if err == nil || !strings.Contains(err.Error(), "c.yaml:3") || !strings.Contains(err.Error(), "{name}") {
		t.Errorf("bad placeholder accepted or badly reported: %v", err)
	}
}
