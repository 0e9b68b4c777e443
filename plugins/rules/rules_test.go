package rules_test

import (
	"context"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/rules"
)

func TestScenarios(t *testing.T) {
	bottest.RunScenarios(t, "testdata/*.txt", func() []bot.Plugin { return []bot.Plugin{rules.New()} })
}

// TestGroupRules checks the order welcome relies on: chat-set rules, else
// the group's config text, else nothing.
func TestGroupRules(t *testing.T) {
	var p *rules.Plugin
	h := bottest.New(t, bottest.Options{
		Config: bottest.DefaultConfigWith(`
plugins:
  rules:
    text: 默认群规
`),
		Plugins: func() []bot.Plugin { p = rules.New(); return []bot.Plugin{p} },
	})
	ctx := context.Background()
	g := h.Group("技术交流群")
	if text, ok := p.GroupRules(ctx, g); !ok || text != "默认群规" {
		t.Fatalf("config rules = %q, %v", text, ok)
	}
	h.Do("王老师@技术交流群: /setrules 群里定的规矩")
	if text, ok := p.GroupRules(ctx, g); !ok || text != "群里定的规矩" {
		t.Fatalf("chat rules = %q, %v", text, ok)
	}
	es, err := h.Store.AuditEntries(ctx, bot.AuditFilter{Action: "rules.set"})
	if err != nil || len(es) != 1 || es[0].Evidence != "群里定的规矩" || es[0].Actor != "u_0001 (王老师)" {
		t.Fatalf("audit of the change = %+v, %v", es, err)
	}
	// They survive a restart (KV, not memory).
	h.Restart()
	if text, _ := p.GroupRules(ctx, g); text != "群里定的规矩" {
		t.Fatalf("chat rules after restart = %q", text)
	}
	h.Do("王老师@技术交流群: /clearrules")
	if text, _ := p.GroupRules(ctx, g); text != "默认群规" {
		t.Fatalf("after clear = %q", text)
	}
}
