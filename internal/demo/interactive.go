package demo

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot/simbot"
)

// playground is the interactive mode's world and config: every plugin on,
// with settings that combine what the chapters show. Its script holds the
// examples the help offers; TestPlayground checks the bot's answers to
// them like any golden scenario.
//
//go:embed playground.txt
var playground []byte

// Playground returns the interactive mode's scenario.
func Playground() (*simbot.Scenario, error) {
	return simbot.ParseScenario("playground.txt", playground)
}

// minLineStep is the least a typed line moves the simulated clock, so
// that lines typed within a second do not all happen at the same instant.
const minLineStep = time.Second

// Interactive lets a person type script lines and see the bot answer, in
// the playground world with every plugin on. The simulated clock follows
// real time between lines; `next` and `advance` move it further.
func Interactive(dir string, in io.Reader, out io.Writer) error {
	return interactive(dir, in, out, time.Now, !isTerminal(in))
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// session is one interactive run.
type session struct {
	b    *simbot.Bot
	p    *printer
	out  io.Writer
	sc   *simbot.Scenario
	wall func() time.Time
	// last is the wall time the simulated clock was last brought up to.
	last time.Time
	// hinted is the next step last announced, steps how many steps were
	// scheduled then; queued is the queue depth last noted.
	hinted time.Time
	steps  int
	queued int
}

// interactive is Interactive with the wall clock injected; echo repeats
// each line read (input that is not a terminal shows no typing).
func interactive(dir string, in io.Reader, out io.Writer, wall func() time.Time, echo bool) error {
	sc, err := Playground()
	if err != nil {
		return err
	}
	o := scenarioOptions(sc)
	o.CheckMembers = true
	b, err := simbot.New(dir, o)
	if err != nil {
		return err
	}
	defer b.Close()
	b.Actions()
	s := &session{b: b, p: newPrinter(out), out: out, sc: sc, wall: wall, last: wall()}
	s.p.attach(b)
	s.help()
	lines := bufio.NewScanner(in)
	s.prompt()
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if echo {
			fmt.Fprintln(out, line)
		}
		if line == "quit" || line == "exit" {
			return nil
		}
		if s.catchUp(line) && !isMeta(line) {
			// Time ran first; what follows is the line's.
			fmt.Fprintf(out, "  [%s] %s\n", s.b.Clock.Now().Format("01-02 15:04:05"), strings.ReplaceAll(line, "{code}", s.b.LastCode()))
		}
		s.run(line)
		s.after()
		s.prompt()
	}
	if echo {
		fmt.Fprintln(out)
	}
	return lines.Err()
}

func (s *session) prompt() {
	fmt.Fprintf(s.out, "[%s] > ", s.b.Clock.Now().Format("01-02 15:04:05"))
}

// isMeta reports whether line is for the demo itself, not something that
// happens in the simulated world.
func isMeta(line string) bool {
	switch line {
	case "", "help", "who", "next":
		return true
	}
	_, ok := auditLine(line)
	return ok
}

// catchUp moves the simulated clock by the real time since the last line
// (at least minLineStep for a line that does something), so timers fire
// as they would have, and prints what the bot did meanwhile; it reports
// whether the bot did anything.
func (s *session) catchUp(line string) bool {
	now := s.wall()
	d := now.Sub(s.last)
	s.last = now
	if d < 0 {
		d = 0
	}
	if !isMeta(line) && d < minLineStep {
		d = minLineStep
	}
	if d == 0 {
		return false
	}
	since := s.b.Clock.Now()
	s.b.Advance(d)
	s.b.Actions() // keeps {code} current
	return s.p.flush(since) > 0
}

func (s *session) run(line string) {
	switch {
	case line == "":
	case line == "help":
		s.help()
	case line == "who":
		s.who()
	default:
		if n, ok := auditLine(line); ok {
			if err := s.p.audit(n); err != nil {
				fmt.Fprintf(s.out, "  ?? %v\n", err)
			}
			return
		}
		since := s.b.Clock.Now()
		_, err := s.b.Step(line)
		s.p.flush(since)
		switch {
		case errors.Is(err, simbot.ErrCannotParse):
			fmt.Fprintln(s.out, "  ?? 看不懂这一行。写成 alice@技术交流群: 大家好 或 dm 王老师: /status，help 看全部写法。")
			fmt.Fprintln(s.out, "     Cannot parse that: write alice@技术交流群: 大家好 or dm 王老师: /status; help shows every form.")
		case err != nil:
			fmt.Fprintf(s.out, "  ?? %v（输入 help 看写法 / type help）\n", err)
		}
	}
}

// after notes sends still waiting in the queue and announces the bot's
// next scheduled step when it changed.
func (s *session) after() {
	if !s.b.Running() {
		fmt.Fprintln(s.out, "  （机器人没有运行；输入 start 启动 / the bot is stopped: type start）")
		return
	}
	if n := s.b.RT.Pacer().Depth(); n != s.queued {
		s.queued = n
		if n > 0 {
			why := ""
			if s.b.RT.Pacer().SafeMode() {
				why = "：安全模式开着，/safemode off 放行 / safe mode holds them"
			}
			fmt.Fprintf(s.out, "  （发送队列里还有 %d 条消息等待发出%s / queued: %d）\n", n, why, n)
		}
	}
	// Announce the next step when it changed or steps were added: a
	// step added behind the next one is news too.
	steps := s.b.Scheduled()
	if len(steps) == 0 || steps[0].Due.Equal(s.hinted) && len(steps) <= s.steps {
		s.steps = len(steps)
		return
	}
	due := steps[0].Due
	s.hinted, s.steps = due, len(steps)
	now := s.b.Clock.Now()
	at, adv := clockTime(due, now), roundUp(due.Sub(now))
	if len(steps) == 1 {
		fmt.Fprintf(s.out, "  （机器人的下一步在 %s：输入 next 或 advance %s 让时间前进，或等到那时按回车 / the bot's next step is at %s: type next）\n",
			at, adv, at)
		return
	}
	fmt.Fprintf(s.out, "  （机器人排了 %d 个定时步骤，最早的在 %s：输入 next 或 advance %s 让时间前进，或等到那时按回车 / %d scheduled steps, the first at %s: type next）\n",
		len(steps), at, adv, len(steps), at)
}

// clockTime shows t briefly: the time of day when it is today, seconds
// only when it has some.
func clockTime(t, now time.Time) string {
	layout := "15:04"
	if t.Second() != 0 {
		layout = "15:04:05"
	}
	if y, m, d := t.Date(); y != now.Year() || m != now.Month() || d != now.Day() {
		layout = "01-02 " + layout
	}
	return t.Format(layout)
}

// roundUp writes d for `advance`, rounded up to whole seconds, minutes,
// hours or days (passing a step by a little does no harm).
func roundUp(d time.Duration) string {
	units := []struct {
		max, unit time.Duration
		suffix    string
	}{{time.Minute, time.Second, "s"}, {time.Hour, time.Minute, "m"}, {24 * time.Hour, time.Hour, "h"}, {math.MaxInt64, 24 * time.Hour, "d"}}
	for _, u := range units {
		if n := (d + u.unit - 1) / u.unit; n*u.unit < u.max {
			return fmt.Sprintf("%d%s", n, u.suffix)
		}
	}
	return d.String()
}

// who shows the simulated world as it is now.
func (s *session) who() {
	ctx := context.Background()
	self, _ := s.b.Sim.Self(ctx)
	fmt.Fprintf(s.out, "  机器人 / the bot: %s\n  群和成员 / groups and members:\n", self.Nick)
	gs, _ := s.b.Sim.Groups(ctx)
	for _, g := range gs {
		ms, _ := s.b.Sim.Members(ctx, g.ID)
		var names []string
		for _, m := range ms {
			n := m.Nick
			if m.Card != "" {
				n += "（群名片 " + m.Card + "）"
			}
			names = append(names, n)
		}
		fmt.Fprintf(s.out, "    %s：%s\n", g.Name, strings.Join(names, "、"))
	}
	operators := map[string]bool{}
	for _, o := range s.b.Config.Operators {
		operators[o] = true
	}
	fs, _ := s.b.Sim.Friends(ctx)
	var friends []string
	for _, f := range fs {
		n := f.Nick
		if f.Remark != "" && f.Remark != f.Nick {
			n += "（备注 " + f.Remark + "）"
		}
		if operators[f.Remark] {
			n += "【运营者 / operator】"
		}
		friends = append(friends, n)
	}
	fmt.Fprintf(s.out, "  机器人的好友（只有好友能私聊机器人、被邀请进群）/ the bot's friends:\n    %s\n", strings.Join(friends, "、"))
	fmt.Fprintln(s.out, "  其他人不是好友，机器人无法私聊他们 / everyone else is not a friend.")
}

func (s *session) help() {
	fmt.Fprint(s.out, interactiveHelp)
	fmt.Fprintln(s.out, "试试这些（测试保证机器人会回应）/ try these (a test checks the bot answers them):")
	for _, l := range strings.Split(s.sc.Sections["script"], "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, ">"):
		case strings.HasPrefix(l, "#"):
			fmt.Fprintf(s.out, "  ▸ %s\n", strings.TrimSpace(strings.TrimPrefix(l, "#")))
		default:
			fmt.Fprintf(s.out, "      %s\n", l)
		}
	}
	fmt.Fprintln(s.out)
}

const interactiveHelp = `
交互模式：你来扮演模拟世界里的人，机器人照常工作。Type what a simulated person does;
🤖 是机器人的动作，按它决定的先后列出 / 🤖: what the bot does, in the order it decided it.
  alice@技术交流群: 大家好        alice says something in the group (群里说话)
  dm 王老师: /status              王老师 (an operator) DMs the bot (私聊机器人)
  owner: /help                    the bot owner types in File Transfer (文件传输助手)
  +erin@技术交流群                erin joins (入群)     -bob@技术交流群  bob leaves (退群)
  dm 王老师: /confirm {code}      {code} is the last confirmation code the bot sent (验证码)
  advance 1d                      let a day pass (时间快进)
  next                            go to the bot's next scheduled step (走到下一步)
  audit 5                         the newest 5 audit log entries (审计日志)
  who                             who is in which group, who is a friend (群和成员)
  help / quit
模拟时钟跟着真实时间走；空行让它赶上现在。The simulated clock follows real time; an empty line catches it up.
`
