package demo

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/bot/sim"
	"github.com/qunguan/qunguan/bot/simbot"
	"github.com/qunguan/qunguan/plugins"
)

// TestDemoChapters checks the demo's expected bot actions like any golden
// scenario, so the demo a newcomer runs is always what the bot does.
func TestDemoChapters(t *testing.T) {
	bottest.RunScenarios(t, "chapters/*.txt", plugins.All)
}

// TestPlayground checks the examples the interactive help offers, in the
// interactive mode's world and config.
func TestPlayground(t *testing.T) {
	bottest.RunScenario(t, "playground.txt", plugins.All)
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

// fakeWall returns a wall clock for interactive: its first reading is the
// session's start, each later one (one per line read) is gaps[i] later
// than the one before, the last gap repeating.
func fakeWall(gaps ...time.Duration) func() time.Time {
	t := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	i := -1
	return func() time.Time {
		if i >= 0 {
			t = t.Add(gaps[min(i, len(gaps)-1)])
		}
		i++
		return t
	}
}

func runInteractive(t *testing.T, wall func() time.Time, lines ...string) string {
	t.Helper()
	var out bytes.Buffer
	in := strings.NewReader(strings.Join(lines, "\n") + "\n")
	if err := interactive(t.TempDir(), in, &out, wall, true); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// before reports whether a occurs in s, and before b.
func before(s, a, b string) bool {
	i, j := strings.Index(s, a), strings.Index(s, b)
	return i >= 0 && j >= 0 && i < j
}

func TestInteractive(t *testing.T) {
	out := runInteractive(t, fakeWall(3*time.Second),
		"bob@技术交流群: 加 微-信 ABC",
		"alice@读书会: 我的ＶＸ：ａｂｃ１２３４５",
		"bob@技术交流群: /rules",
		"dm alice: 加群",
		"alice@技术交流群: /帮助",
		"dm bob: /help",
		"carol@读书会: 你好",
		"zed@读书会: 你好",
		"nonsense line",
		"audit 3",
		"who",
		"quit",
		"alice@技术交流群: after quit")
	for _, want := range []string{
		"技术交流群: ⚠️ bob：你的消息涉及「站外引流」",
		"读书会: ⚠️ alice：你的消息涉及「站外引流」",
		"📌 「技术交流群」群规",
		"invite → 新人群 [alice]",
		"可用命令",
		"bob 不是机器人的好友，机器人无法私聊回复",
		`carol is not a member of "读书会"`,
		`no person "zed"`,
		"?? 看不懂这一行",
		"📜 审计日志 / audit log：共",
		"读书会：王老师、alice、dave",
		"试试这些", "audit 5", // the help
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "after quit") {
		t.Errorf("a line after quit was read:\n%s", out)
	}
}

// TestInteractiveClock: the simulated clock follows the (injected) wall
// clock, so a member typing /help ten times is no flood, timers fire when
// their time has come, and the next step is announced.
func TestInteractiveClock(t *testing.T) {
	var lines []string
	for range 10 {
		lines = append(lines, "bob@技术交流群: /help")
	}
	out := runInteractive(t, fakeWall(2*time.Second), lines...)
	if strings.Contains(out, "刷屏") {
		t.Errorf("ten /help two seconds apart counted as a flood:\n%s", out)
	}
	if !strings.Contains(out, "[03-02 09:00:20] >") {
		t.Errorf("the clock did not follow the wall clock (10 lines × 2s):\n%s", out)
	}

	// Typed all at once (no wall time between), lines are still a second
	// apart, and pasting eleven lines is a flood.
	out = runInteractive(t, fakeWall(0), append(lines, "bob@技术交流群: /help")...)
	if !strings.Contains(out, "[03-02 09:00:11] >") || !strings.Contains(out, "刷屏") {
		t.Errorf("eleven lines in eleven seconds:\n%s", out)
	}

	// A newcomer is welcomed once the window has passed in real time.
	out = runInteractive(t, fakeWall(2*time.Second, 15*time.Second), "+erin@技术交流群", "")
	if !strings.Contains(out, "机器人的下一步在 09:00:12") || !before(out, "到点，机器人按计划行动", "👋 欢迎 erin") {
		t.Errorf("welcome after 15 s:\n%s", out)
	}

	// /解散 and /confirm: the bot answers before it acts, says when its
	// next step is, and takes it when the time has come (a blank line
	// catches the clock up) or at once with next.
	dissolve := []string{"王老师@周末读书营: /解散 活动结束", "dm 王老师: /confirm {code}"}
	out = runInteractive(t, fakeWall(2*time.Second, 2*time.Second, 70*time.Second), append(dissolve, "")...)
	for _, w := range [][2]string{
		{"已确认：立即解散群「周末读书营」", "rename → 周末读书营"},
		{"rename → 周末读书营", "分数达标，开始解散"},
		{"分数达标，开始解散", "机器人的下一步在 09:01:04"},
		{"机器人的下一步在 09:01:04", "到点，机器人按计划行动"},
		{"到点，机器人按计划行动", "dissolve → 【已解散】周末读书营"},
	} {
		if !before(out, w[0], w[1]) {
			t.Errorf("%q should come before %q:\n%s", w[0], w[1], out)
		}
	}
	out = runInteractive(t, fakeWall(2*time.Second), append(dissolve, "next")...)
	if !before(out, "> next", "dissolve → 【已解散】周末读书营") {
		t.Errorf("next did not take the dissolve step:\n%s", out)
	}
}

func TestRoundUp(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "10s", 59500 * time.Millisecond: "1m", time.Minute: "1m", 61 * time.Second: "2m",
		time.Hour: "1h", 25 * time.Hour: "2d", 47*time.Hour + 59*time.Minute: "2d",
	} {
		if got := roundUp(d); got != want {
			t.Errorf("roundUp(%s) = %s, want %s", d, got, want)
		}
	}
}

// TestSimLineRefusesClockLines: the live sim console has the real clock.
func TestSimLineRefusesClockLines(t *testing.T) {
	p, err := sim.LoadWorld(bot.SystemClock{}, []byte(simbot.DefaultWorld))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"next", "advance 1d", "audit 3"} {
		if err := simLine(p, l); err == nil || !strings.Contains(err.Error(), "only works in qunguan demo") {
			t.Errorf("%s: %v", l, err)
		}
	}
}
