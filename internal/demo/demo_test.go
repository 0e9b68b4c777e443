package demo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins"
)

// TestDemoChapters checks the demo's expected bot actions like any golden
// scenario, so the demo a newcomer runs is always what the bot does.
func TestDemoChapters(t *testing.T) {
	bottest.RunScenarios(t, "chapters/*.txt", plugins.All)
}

func TestScriptedTranscript(t *testing.T) {
	var out bytes.Buffer
	if err := Scripted(t.TempDir(), &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"⏰ 提醒：晚上八点分享会", "权限不足", "chain verified: true", "条成员消息",
		"👋 欢迎 dave、erin、frank", "「站外引流」", "已报告群主移出", "【多群群发】",
		"⏳ 提醒：本群将于", "【解散准备度】", "dissolve → 【已解散】周末读书营", "已恢复「周末读书营」",
		"【群健康周报】", "stats-g_0001-20260309-7d.png (PNG 960×540)", "invite → 新人群A [frank]", "【群已失去】"} {
		if !strings.Contains(s, want) {
			t.Errorf("transcript lacks %q:\n%s", want, s)
		}
	}
	// "audit 6" in chapter 2 prints the entries, with the messages that
	// triggered them.
	if !before(s, "[03-02 09:10] audit 6", "📜 审计日志 / audit log：共 13 条，哈希链校验通过") ||
		!strings.Contains(s, "原文 / evidence：低价出售会员账号，需要的私聊我") {
		t.Errorf("chapter 2's audit lines are missing:\n%s", s)
	}
	// The bot's actions are printed in the order it decided them: in
	// chapter 3 the readiness report (queued) before the dissolve (a
	// direct call the pacer does not hold back), the notice before the
	// rename that follows it.
	for _, w := range [][2]string{
		{"分数达标，开始解散", "dissolve → 【已解散】周末读书营"},
		{"send_text → 周末读书营: 🔒 本群已到解散时间", "rename → 周末读书营: 【已解散】周末读书营"},
	} {
		if !before(s, w[0], w[1]) {
			t.Errorf("%q should come before %q:\n%s", w[0], w[1], s)
		}
	}
}

// before reports whether a occurs in s, and before b.
func before(s, a, b string) bool {
	i, j := strings.Index(s, a), strings.Index(s, b)
	return i >= 0 && j >= 0 && i < j
}

func TestInteractive(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("alice@技术交流群: /帮助\nnonsense line\naudit 3\nquit\n")
	if err := Interactive(t.TempDir(), in, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "可用命令") || !strings.Contains(out.String(), "??") || !strings.Contains(out.String(), "📜 审计日志") {
		t.Errorf("interactive output:\n%s", out.String())
	}
}
