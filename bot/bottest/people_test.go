package bottest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
)

// TestResolveMember checks how a command's name argument finds a member:
// by group card, nickname and prefix among present members; people who
// left only through ResolveFormerMember, and only when nobody present
// matches; several matches give a numbered choice in the asker's language.
func TestResolveMember(t *testing.T) {
	h := bottest.New(t, bottest.Options{World: `
self: 群管机器人
users:
  - {nick: 王老师, remark: 运营-王老师, friend: true}
  - {nick: bob}
  - {nick: bobby}
  - {nick: bo}
  - {nick: carol}
  - {nick: dave}
groups:
  - name: 技术交流群
    members: [王老师, bob, bobby, bo, carol, dave]
    cards: {carol: 小Ｃ}
`})
	h.Do("-bo,dave@技术交流群")
	var g bot.GroupID
	for _, r := range h.RT.ManagedGroups() {
		g = r.ID
	}
	ctx := context.Background()
	for _, tc := range []struct {
		query  string
		former bool
		lang   bot.Lang
		want   string // the nickname found, or a substring of the reply
	}{
		{query: "小C", want: "carol"},     // card, full-width folded
		{query: "@carol", want: "carol"}, // nickname, @ stripped
		{query: "bobby", want: "bobby"},  // exact beats prefix
		{query: "bob", want: "bob"},
		{query: "bo", want: "#2 bobby（昵称 bobby"},           // bo left: bob and bobby by prefix
		{query: "bo", former: true, want: "#1 bob（昵称 bob"}, // a present prefix match wins over a former exact one
		{query: "dave", want: "群里找不到“dave”"},
		{query: "dave", former: true, want: "dave"},
		{query: "da", former: true, want: "dave"},
		{query: "nobody", former: true, want: "群里找不到“nobody”"},
		{query: "bo", lang: bot.LangEN, want: "#1 bob (nickname bob"},
	} {
		lang := tc.lang
		if lang == "" {
			lang = bot.LangZH
		}
		resolve := h.RT.ResolveMember
		if tc.former {
			resolve = h.RT.ResolveFormerMember
		}
		m, reply := resolve(ctx, g, tc.query, "tester", lang)
		got := m.Nick
		if reply != "" {
			got = reply
		}
		if (reply == "" && got != tc.want) || (reply != "" && !strings.Contains(got, tc.want)) {
			t.Errorf("resolve(%q, former=%v, %s) = %q, want %q", tc.query, tc.former, lang, got, tc.want)
		}
	}

	// Two former members with the same prefix: the choice marks them as gone.
	h.Do("-bob,bobby@技术交流群")
	_, reply := h.RT.ResolveFormerMember(ctx, g, "b", "tester", bot.LangZH)
	if !strings.Contains(reply, "，已退群）") {
		t.Errorf("choice among former members does not say they left:\n%s", reply)
	}
}
