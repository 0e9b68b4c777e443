package stats_test

import (
	"context"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/moderation"
	"github.com/qunguan/qunguan/plugins/stats"
)

// TestModerationHitsCounted runs the real moderation plugin: a keyword
// hit is one moderation hit in /stats, and undoing the warning (an
// unwarn audit record) does not count as another.
func TestModerationHitsCounted(t *testing.T) {
	h := bottest.New(t, bottest.Options{
		Plugins: func() []bot.Plugin { return []bot.Plugin{moderation.New(), stats.New()} },
		Config: bottest.DefaultConfigWith(`
plugins:
  moderation:
    categories:
      contact:
        label: {zh: 站外引流, en: contact harvesting}
        points: 2
        words: [加微信]
`)})
	h.Do("王老师@技术交流群: /admin add 李助教")
	if out := h.Do("bob@技术交流群: 想要资料的加微信"); !strings.Contains(out, "站外引流") {
		t.Fatalf("moderation did not fire: %s", out)
	}
	h.Do("李助教@技术交流群: /unwarn bob")
	es, err := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "moderation."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "moderation.hit,moderation.unwarn" {
		t.Fatalf("moderation audit records: %s", got)
	}
	out := h.Do("dm 王老师: /统计 @技术交流群 1天")
	if !strings.Contains(out, "违规 1") {
		t.Errorf("want one moderation hit:\n%s", out)
	}
}
