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
}

func TestInteractive(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("alice@技术交流群: /帮助\nnonsense line\nquit\n")
	if err := Interactive(t.TempDir(), in, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "可用命令") || !strings.Contains(out.String(), "??") {
		t.Errorf("interactive output:\n%s", out.String())
	}
}
