// Package demo runs qunguan on the simulated platform for people without a
// spare WeChat account: a scripted scenario that shows what every plugin
// does, an interactive mode where you type as any simulated member or
// operator, and the live sim console behind `platform: sim`.
package demo

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/sim"
	"github.com/qunguan/qunguan/bot/simbot"
	"github.com/qunguan/qunguan/plugins"
)

// chapters are the demo's scenarios in the golden-scenario format (see
// bot/bottest): a title, a world, a config and a script each. Their
// expectations are checked by TestDemoChapters, so the demo never silently
// rots. Each plugin adds its own chapter file.
//
//go:embed chapters/*.txt
var chapters embed.FS

// Chapters returns the demo chapters in order.
func Chapters() ([]*simbot.Scenario, error) {
	names, err := fs.Glob(chapters, "chapters/*.txt")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*simbot.Scenario
	for _, n := range names {
		data, err := chapters.ReadFile(n)
		if err != nil {
			return nil, err
		}
		sc, err := simbot.ParseScenario(n, data)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// Scripted runs every demo chapter, each on a fresh simulated bot, and
// prints a readable transcript.
func Scripted(dir string, out io.Writer) error {
	scs, err := Chapters()
	if err != nil {
		return err
	}
	p := newPrinter(out)
	p.banner()
	for i, sc := range scs {
		if err := chapter(filepath.Join(dir, fmt.Sprint(i)), sc, p); err != nil {
			return fmt.Errorf("%s: %w", sc.Path, err)
		}
	}
	fmt.Fprintln(out, "\n试试交互模式 / try it yourself:  qunguan demo --interactive")
	return nil
}

func scenarioOptions(sc *simbot.Scenario) simbot.Options {
	o := simbot.Options{World: sc.Sections["world.yaml"], Config: sc.Sections["config.yaml"], Plugins: plugins.All}
	for _, f := range strings.Fields(sc.Sections["options"]) {
		switch f {
		case "weblike":
			o.WebLike = true
		case "nologin":
			o.NoLogin = true
		}
	}
	return o
}

func chapter(dir string, sc *simbot.Scenario, p *printer) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := simbot.New(dir, scenarioOptions(sc))
	if err != nil {
		return err
	}
	defer b.Close()
	b.Actions()
	b.Sim.OnAction(p.action)
	p.title(strings.TrimSpace(sc.Sections["title"]))
	for _, line := range strings.Split(sc.Sections["script"], "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "> ") || t == ">" {
			continue
		}
		if strings.HasPrefix(t, "#") {
			p.narrate(strings.TrimSpace(strings.TrimPrefix(t, "#")))
			continue
		}
		// Show the code the line will type, as a person would see it.
		p.event(b.Clock.Now(), strings.ReplaceAll(t, "{code}", b.LastCode()))
		if _, err := b.Step(t); err != nil {
			return fmt.Errorf("demo line %q: %w", t, err)
		}
	}
	if err := p.summary(b); err != nil {
		return err
	}
	rep, err := b.Store.VerifyAudit(context.Background())
	if err != nil {
		return err
	}
	p.narrate(fmt.Sprintf("审计日志 / audit log: %d 条记录，哈希链校验%s (chain verified: %v)", rep.Entries, okWord(rep.OK()), rep.OK()))
	return nil
}

func okWord(ok bool) string {
	if ok {
		return "通过"
	}
	return "失败"
}

// printer renders the transcript.
type printer struct {
	out io.Writer
}

func newPrinter(out io.Writer) *printer { return &printer{out: out} }

func (p *printer) banner() {
	fmt.Fprintln(p.out, "qunguan demo — 模拟平台上的群管机器人 (the bot on the simulated platform)")
	fmt.Fprintln(p.out, "每行左边是模拟的人做的事，🤖 是机器人的动作。Left: what simulated people do; 🤖: what the bot does.")
}

func (p *printer) narrate(s string) { fmt.Fprintf(p.out, "\n▶ %s\n", s) }

func (p *printer) title(s string) {
	fmt.Fprintf(p.out, "\n\n══ %s ══\n", s)
}

func (p *printer) event(now time.Time, line string) {
	stamp := now.Format("01-02 15:04")
	fmt.Fprintf(p.out, "  [%s] %s\n", stamp, line)
}

func (p *printer) action(a sim.Action) {
	head := a.Kind + " → " + a.To
	if len(a.Users) > 0 {
		head += " [" + strings.Join(a.Users, ", ") + "]"
	}
	if a.Err != nil {
		head += " (error: " + a.Err.Error() + ")"
	}
	if a.Kind == "send_image" {
		// Say what the picture is: the transcript cannot show it.
		if f, err := os.Open(a.Path); err == nil {
			if c, err := png.DecodeConfig(f); err == nil {
				a.Text += fmt.Sprintf(" (PNG %d×%d)", c.Width, c.Height)
			}
			f.Close()
		}
	}
	lines := strings.Split(a.Text, "\n")
	if a.Text == "" {
		fmt.Fprintf(p.out, "      🤖 %s\n", head)
		return
	}
	fmt.Fprintf(p.out, "      🤖 %s: %s\n", head, lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(p.out, "         %s\n", l)
	}
}

// summary shows what the store recorded for each managed group.
func (p *printer) summary(b *simbot.Bot) error {
	ctx := context.Background()
	p.narrate("机器人记录下的内容 / what the bot recorded:")
	for _, g := range b.RT.ManagedGroups() {
		n, bots := 0, 0
		err := b.Store.ScanRecords(ctx, g.ID, time.Time{}, time.Time{}, func(r bot.Record) error {
			if r.Kind == bot.EventMessage {
				if r.FromBot {
					bots++
				} else {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(p.out, "  %s（%s）：%d 条成员消息，%d 条机器人消息 (messages from people / from the bot)\n", g.Name, g.ID, n, bots)
	}
	return nil
}

// Interactive lets a person type script lines and see the bot answer, in
// the world and config of the first chapter.
func Interactive(dir string, in io.Reader, out io.Writer) error {
	scs, err := Chapters()
	if err != nil {
		return err
	}
	sc := scs[0]
	b, err := simbot.New(dir, scenarioOptions(sc))
	if err != nil {
		return err
	}
	defer b.Close()
	b.Actions()
	p := newPrinter(out)
	b.Sim.OnAction(p.action)
	fmt.Fprint(out, interactiveHelp)
	sc2 := bufio.NewScanner(in)
	fmt.Fprint(out, "> ")
	for sc2.Scan() {
		line := strings.TrimSpace(sc2.Text())
		switch {
		case line == "":
		case line == "quit" || line == "exit":
			return nil
		case line == "help":
			fmt.Fprint(out, interactiveHelp)
		case line == "who":
			fmt.Fprintln(out, strings.TrimSpace(sc.Sections["world.yaml"]))
		default:
			if _, err := b.Step(line); err != nil {
				fmt.Fprintf(out, "  ?? %v (type help)\n", err)
			}
			b.Actions()
		}
		fmt.Fprint(out, "> ")
	}
	return sc2.Err()
}

const interactiveHelp = `
Type what a simulated person does (写法):
  alice@技术交流群: 大家好        alice says something in the group (群里说话)
  dm 王老师: /status              王老师 (an operator) DMs the bot (私聊机器人)
  owner: /help                    the bot owner types in File Transfer (文件传输助手)
  +erin@技术交流群                erin joins (入群)     -bob@技术交流群  bob leaves (退群)
  advance 1d                      let a day pass (时间快进)
  who                             show the simulated world     help / quit
`

// SimPlatform is the factory for `platform: sim` in a real config: the
// world is the default simulated one, and each line typed on stdin is a
// script line for the simulated people (the bot itself runs for real, with
// the real clock and the data dir from the config).
func SimPlatform(in io.Reader, out io.Writer) func(ctx context.Context, cfg *bot.Config, dataDir string, log *slog.Logger, ids bot.Store) (bot.Platform, error) {
	return func(ctx context.Context, cfg *bot.Config, dataDir string, log *slog.Logger, ids bot.Store) (bot.Platform, error) {
		p, err := sim.LoadWorld(bot.SystemClock{}, []byte(simbot.DefaultWorld))
		if err != nil {
			return nil, err
		}
		pr := newPrinter(out)
		var mu sync.Mutex
		p.OnAction(func(a sim.Action) { mu.Lock(); pr.action(a); mu.Unlock() })
		go console(ctx, p, in, out)
		return p, nil
	}
}

const consoleHelp = `
qunguan is running on the simulated platform. Type what a simulated person does:
  alice@技术交流群: 大家好        alice says something in the group (群里说话)
  dm 王老师: /status              王老师 (an operator) DMs the bot (私聊机器人)
  owner: /help                    the bot owner types in File Transfer (文件传输助手)
  +erin@技术交流群                erin joins (入群)     -bob@技术交流群  bob leaves (退群)
Stop the bot with Ctrl-C.
`

func console(ctx context.Context, p *sim.Platform, in io.Reader, out io.Writer) {
	fmt.Fprint(out, consoleHelp)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if ctx.Err() != nil {
			return
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := simLine(p, line); err != nil {
			fmt.Fprintf(out, "  ?? %v\n", err)
		}
	}
}

// simLine applies one script line to a live sim platform (no clock control).
func simLine(p *sim.Platform, line string) error {
	b := &simbot.Bot{Sim: p}
	if strings.HasPrefix(line, "advance") || strings.HasPrefix(line, "stop") || strings.HasPrefix(line, "start") ||
		strings.HasPrefix(line, "restart") || strings.HasPrefix(line, "crash") || strings.HasPrefix(line, "audit") {
		return fmt.Errorf("%q only works in qunguan demo", line)
	}
	_, err := b.Step(line)
	return err
}
