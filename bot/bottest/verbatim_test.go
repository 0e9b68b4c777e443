package bottest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
)

// echo is a test plugin with one verbatim command that repeats its text.
type echo struct{}

func (echo) Name() string { return "echo" }

func (echo) Commands() []*bot.Command {
	return []*bot.Command{{
		Name: "echo", Verbatim: true, Perm: bot.RoleMember, Scope: bot.ScopeGroup,
		Args: []bot.Arg{{Name: "text", Kind: bot.ArgRest}},
		Help: bot.Text{ZH: "原样重复", EN: "Repeat verbatim"},
		Run: func(ctx context.Context, c *bot.Call) error {
			c.Reply(ctx, "["+c.GroupName+"]"+c.Args.String("text"))
			return nil
		},
	}}
}

func TestVerbatimCommandKeepsTheText(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: func() []bot.Plugin { return []bot.Plugin{echo{}} }})
	cases := []struct{ line, want string }{
		// Quotes are not interpreted, so an apostrophe is not an error.
		{`alice@技术交流群: /echo don't "quote" me`, `[技术交流群]don't "quote" me`},
		// A DM names the group with a leading @GROUP or --group GROUP.
		{`dm alice: /echo @技术交流群 第一条  两个空格`, `[技术交流群]第一条  两个空格`},
		{`dm alice: /echo --group 读书会 hello`, `[读书会]hello`},
	}
	for _, c := range cases {
		out := h.Do(c.line)
		if !strings.Contains(out, c.want) {
			t.Errorf("%s:\ngot  %q\nwant %q", c.line, out, c.want)
		}
	}
	// Missing text is a usage error, as for any required argument.
	if out := h.Do("alice@技术交流群: /echo"); !strings.Contains(out, "用法") {
		t.Errorf("empty verbatim argument not refused: %q", out)
	}
}

func TestVerbatimCommandKeepsLineBreaks(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: func() []bot.Plugin { return []bot.Plugin{echo{}} }})
	h.Actions()
	h.Sim.Say("技术交流群", "alice", "/echo 一、友善\n二、不发广告")
	h.Settle()
	got := h.Texts()
	if len(got) != 1 || got[0] != "技术交流群: [技术交流群]一、友善\n二、不发广告" {
		t.Errorf("line breaks lost: %q", got)
	}
}
