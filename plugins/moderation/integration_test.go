package moderation_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/moderation"
)

const baseConfig = `
platform: sim
language: zh
timezone: Asia/Shanghai
operators: [运营-王老师]
groups:
  - name: 技术交流群
  - name: 读书会
plugins:
  moderation:
    categories:
      contact:
        label: {zh: 站外引流, en: contact harvesting}
        points: 2
        words: [加微信]
`

// TestEvidenceIsTheOriginalText checks the audit record of a hit: the
// original message verbatim (not the normalised form), the entry that
// matched, the span in the original text and the lists' fingerprint.
func TestEvidenceIsTheOriginalText(t *testing.T) {
	h := bottest.New(t, bottest.Options{Config: baseConfig, Plugins: plugins})
	msg := "资料私聊 加 微-信　ＡＢＣ"
	out := h.Do("bob@技术交流群: " + msg)
	if !strings.Contains(out, "站外引流") {
		t.Fatalf("hidden keyword not caught:\n%s", out)
	}
	es, err := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "moderation.hit"})
	if err != nil || len(es) != 1 {
		t.Fatalf("audit entries = %v, %v", es, err)
	}
	e := es[0]
	if e.Evidence != msg {
		t.Errorf("evidence = %q, want the original %q", e.Evidence, msg)
	}
	start := strings.Index(msg, "加")
	end := strings.Index(msg, "信") + len("信")
	if want := "contact:加微信@" + strconv.Itoa(start) + "-" + strconv.Itoa(end); e.Data["hits"] != want {
		t.Errorf("hits = %q, want %q", e.Data["hits"], want)
	}
	if msg[start:end] != "加 微-信" || e.Data["user"] != string(h.User("bob")) || e.Data["lists"] == "" || e.Data["msg_id"] == "" {
		t.Errorf("audit data incomplete: %v", e.Data)
	}
	if !strings.Contains(e.Detail, `matched "加 微-信"`) {
		t.Errorf("detail does not quote the match: %q", e.Detail)
	}
}

// TestReloadAddsAWord: a config edit that adds a word takes effect for the
// next message, with no restart, and the new lists are audited.
func TestReloadAddsAWord(t *testing.T) {
	h := bottest.New(t, bottest.Options{Config: baseConfig, Plugins: plugins})
	if out := h.Do("bob@技术交流群: 出售发票，量大从优"); out != "" {
		t.Fatalf("flagged before the word was added:\n%s", out)
	}
	if err := h.WriteConfig(baseConfig + "        regex: ['出售发票']\n"); err != nil {
		t.Fatal(err)
	}
	if out := h.Do("dm 王老师: /reload"); !strings.Contains(out, "配置已重新加载") {
		t.Fatalf("reload refused:\n%s", out)
	}
	if out := h.Do("bob@技术交流群: 出售发票，量大从优"); !strings.Contains(out, "⚠️ bob") {
		t.Fatalf("new word not in effect after reload:\n%s", out)
	}
	es, err := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "moderation.lists"})
	if err != nil || len(es) != 1 || es[0].Data["regexes"] != "1" {
		t.Errorf("list change not audited: %+v, %v", es, err)
	}
	// Reloading an unchanged config does not audit the lists again.
	h.Do("dm 王老师: /reload")
	if es, _ := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "moderation.lists"}); len(es) != 1 {
		t.Errorf("unchanged lists audited again: %d entries", len(es))
	}
}

// TestWordFiles reads word files relative to the config file: comments,
// blank lines, a BOM, expressions with "re:", and allow files.
func TestWordFiles(t *testing.T) {
	h := bottest.New(t, bottest.Options{Config: baseConfig, Plugins: plugins})
	dir := filepath.Dir(h.ConfigPath)
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("words/fraud.txt", "\ufeff# 诈骗类\n\n刷单返利\n  网贷秒批  \nre:日赚\\d{3,}\n# C# is a language, not a comment when inside a line\n")
	write("words/allow.txt", "# 正常用语\n警惕刷单返利\n")
	cfg := baseConfig + `      fraud:
        label: {zh: 诈骗, en: fraud}
        points: 3
        files: [words/fraud.txt]
    allow_files: [words/allow.txt]
`
	if err := h.WriteConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if out := h.Do("dm 王老师: /reload"); !strings.Contains(out, "配置已重新加载") {
		t.Fatalf("reload refused:\n%s", out)
	}
	for _, c := range []struct {
		text string
		hit  bool
	}{
		{"网贷秒批，当天到账", true},
		{"兼职日赚800", true},
		{"大家警惕刷单返利骗局", false},
		{"刷单返利日结", true},
		{"C# 是一门语言", false},
	} {
		out := h.Do("carol@技术交流群: " + c.text)
		if got := strings.Contains(out, "诈骗"); got != c.hit {
			t.Errorf("%q: flagged = %v, want %v\n%s", c.text, got, c.hit, out)
		}
	}
}

// TestBrokenListsAreRefused: a bad expression in a word file, or a missing
// file, is refused at reload with the file and line, and the old lists
// keep working.
func TestBrokenListsAreRefused(t *testing.T) {
	h := bottest.New(t, bottest.Options{Config: baseConfig, Plugins: plugins})
	dir := filepath.Dir(h.ConfigPath)
	if err := os.WriteFile(filepath.Join(dir, "bad.txt"), []byte("刷单\n# comment\nre:日赚(\\d+\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, extra string
		want        []string
	}{
		{"bad expression in a file", "        files: [bad.txt]\n", []string{"config.yaml:16", "categories.contact.files[0]", "bad.txt:3", "missing closing )"}},
		{"missing file", "        files: [nope.txt]\n", []string{"config.yaml:16", "nope.txt"}},
		{"bad inline expression", "        regex: ['[a-']\n", []string{"config.yaml:16", "categories.contact.regex[0]"}},
		{"upper-case literal never matches", "        regex: ['VX\\d+']\n", []string{"categories.contact.regex[0]", "never occurs"}},
		{"entry that normalises to nothing", "      other:\n        words: ['!!!']\n", []string{"config.yaml:17", "categories.other.words[0]", "nothing is left"}},
	}
	for _, c := range cases {
		if err := h.WriteConfig(baseConfig + c.extra); err != nil {
			t.Fatal(err)
		}
		out := h.Do("dm 王老师: /reload")
		if !strings.Contains(out, "新配置有误，未生效") {
			t.Errorf("%s: not refused:\n%s", c.name, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: reply lacks %q:\n%s", c.name, w, out)
			}
		}
		if out := h.Do("bob@技术交流群: 加微信"); !strings.Contains(out, "站外引流") {
			t.Errorf("%s: the old lists stopped working:\n%s", c.name, out)
		}
		h.Do("advance 11m") // past the notice cooldown, so the next hit is announced
	}
}

// TestFrozenGroupIsNotModerated: a frozen group (see the countdown) is
// recorded but neither keywords nor floods are acted on.
func TestFrozenGroupIsNotModerated(t *testing.T) {
	h := bottest.New(t, bottest.Options{Config: baseConfig, Plugins: plugins})
	ctx := context.Background()
	if err := h.RT.SetFrozen(ctx, h.Group("技术交流群"), true, "test"); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := 0; i < 12; i++ {
		lines = append(lines, "bob@技术交流群: 加微信 "+strconv.Itoa(i))
	}
	if out := h.Do(lines...); out != "" {
		t.Errorf("frozen group moderated:\n%s", out)
	}
	if es, _ := h.Store.AuditEntries(ctx, bot.AuditFilter{Action: "moderation."}); len(es) != 0 {
		t.Errorf("frozen group has moderation records: %+v", es)
	}
	// Other groups still are.
	if out := h.Do("carol@读书会: 加微信"); !strings.Contains(out, "站外引流") {
		t.Errorf("unfrozen group not moderated:\n%s", out)
	}
}

// TestGroupStatus reports members with points and open removals.
func TestGroupStatus(t *testing.T) {
	var p *moderation.Plugin
	h := bottest.New(t, bottest.Options{Config: baseConfig, WebLike: true,
		Plugins: func() []bot.Plugin { p = moderation.New(); return []bot.Plugin{p} }})
	ctx := context.Background()
	g := h.Group("技术交流群")
	if got := p.GroupStatus(ctx, g, bot.LangZH); got != "审核：30天内有违规记分 0 人，移出待办 0 个" {
		t.Errorf("empty status = %q", got)
	}
	h.Do("bob@技术交流群: 加微信", "carol@技术交流群: 加微信", "carol@技术交流群: 还是加微信", "carol@技术交流群: 加微信!")
	if got := p.GroupStatus(ctx, g, bot.LangEN); got != "Moderation: 2 member(s) with points within 30d, 1 removal task(s)" {
		t.Errorf("status = %q", got)
	}
}
