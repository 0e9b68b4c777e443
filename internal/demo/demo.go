// Package demo runs qunguan on the simulated platform for people without a
// spare WeChat account: a scripted scenario that shows what every plugin
// does, an interactive mode where you type as any simulated member or
// operator, and the live sim console behind `platform: sim`.
package demo

import (
	"bufio"
	"context"
	"embed"
	"errors"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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
	p.attach(b)
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
		if n, ok := auditLine(t); ok {
			if err := p.audit(n); err != nil {
				return fmt.Errorf("demo line %q: %w", t, err)
			}
			continue
		}
		_, err := b.Step(t)
		p.flush(time.Time{})
		if err != nil {
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

// auditLine recognises the script line "audit [N]" (N defaults to 5, as
// in simbot); the demo prints the entries itself.
func auditLine(line string) (int, bool) {
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "audit" {
		return 0, false
	}
	n := 5
	if len(f) > 1 {
		if v, err := strconv.Atoi(f[1]); err == nil && v > 0 {
			n = v
		}
	}
	return n, true
}

func okWord(ok bool) string {
	if ok {
		return "通过"
	}
	return "失败"
}

// printer renders the transcript. Attached to a bot, it collects what the
// bot does during a step and prints it, at flush, in the order the bot
// decided it: a send counts from when it was queued, not from when the
// pacer delivered it. (Sends are paced, direct calls such as a rename or
// a dissolve are not, so on the platform a reply the bot queued before
// acting arrives after the act; printed in platform order the transcript
// would read as if the bot had acted before it checked or answered.)
// Nothing is printed that did not reach the platform: a send that was
// given up is printed as a note, and one still queued not at all.
type printer struct {
	out io.Writer
	b   *simbot.Bot

	seq     int
	waiting []queuedSend // queued and not yet delivered, oldest first
	step    []traced     // what happened since the last flush
}

type queuedSend struct {
	seq   int
	at    time.Time // when it was queued
	file  bool
	text  string // the text, or the file's base name
	group string // the group's name when queued; "" for a DM
}

// traced is one thing the bot did: a platform action, or a send that
// failed for good (result), with when the bot decided it.
type traced struct {
	seq    int
	at     time.Time
	action *sim.Action
	result *bot.SendResult
}

func newPrinter(out io.Writer) *printer { return &printer{out: out} }

// attach makes p collect what b does.
func (p *printer) attach(b *simbot.Bot) {
	p.b = b
	b.Sim.OnAction(p.onAction)
	b.Observe(p.onQueued, p.onSent)
}

func isSend(kind string) bool {
	return kind == "send_text" || kind == "send_file" || kind == "send_image"
}

// onQueued runs where the bot queues a send (never with the sim locked).
func (p *printer) onQueued(r bot.SendResult) {
	p.seq++
	q := queuedSend{seq: p.seq, at: r.At, text: r.Text}
	if r.File != nil {
		q.file, q.text = true, filepath.Base(r.File.Path)
	}
	if r.To.Group != "" {
		// The name the group has now: a rename the bot makes after
		// queueing is printed after this send.
		gs, _ := p.b.Sim.Groups(context.Background())
		for _, g := range gs {
			if g.ID == r.To.Group {
				q.group = g.Name
			}
		}
		if q.group == "" {
			q.group = string(r.To.Group)
		}
	}
	p.waiting = append(p.waiting, q)
}

// take removes the oldest queued send with this content and returns it;
// sends with the same content are delivered in the order queued. One
// that was never seen queued counts from now.
func (p *printer) take(file, group bool, text string) queuedSend {
	for i, q := range p.waiting {
		if q.file == file && (q.group != "") == group && q.text == text {
			p.waiting = append(p.waiting[:i:i], p.waiting[i+1:]...)
			return q
		}
	}
	p.seq++
	return queuedSend{seq: p.seq, at: p.b.Clock.Now()}
}

// onAction runs with the sim platform locked: it only records.
func (p *printer) onAction(a sim.Action) {
	describeImage(&a) // now: the file may be gone by the flush
	if !isSend(a.Kind) {
		p.seq++
		p.step = append(p.step, traced{seq: p.seq, at: a.Time, action: &a})
		return
	}
	q := p.take(a.Kind != "send_text", !strings.HasPrefix(a.To, "DM:") && a.To != "filehelper", a.Text)
	if q.group != "" {
		a.To = q.group
	}
	p.step = append(p.step, traced{seq: q.seq, at: q.at, action: &a})
}

func (p *printer) onSent(r bot.SendResult) {
	if r.Err == nil {
		return
	}
	text := r.Text
	if r.File != nil {
		text = filepath.Base(r.File.Path)
	}
	q := p.take(r.File != nil, r.To.Group != "", text)
	p.step = append(p.step, traced{seq: q.seq, at: q.at, result: &r})
}

// flush prints what the bot did since the last flush, in the order it
// decided it. What it decided after since (the clock ran: advance, next,
// real time passing in the interactive demo) comes under a line with the
// time; the chapters pass the zero time and get none. It returns how many
// things it printed.
func (p *printer) flush(since time.Time) int {
	items := p.step
	p.step = nil
	if p.b != nil && p.b.Running() && p.b.RT.Pacer().Depth() == 0 {
		p.waiting = nil
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].seq < items[j].seq })
	last := since
	for _, it := range items {
		if !since.IsZero() && it.at.After(last) {
			last = it.at
			fmt.Fprintf(p.out, "  ⏰ [%s] 到点，机器人按计划行动 / scheduled:\n", it.at.Format("01-02 15:04:05"))
		}
		if it.action != nil {
			p.action(*it.action)
		} else {
			p.failed(*it.result)
		}
	}
	return len(items)
}

func (p *printer) banner() {
	fmt.Fprintln(p.out, "qunguan demo — 模拟平台上的群管机器人 (the bot on the simulated platform)")
	fmt.Fprintln(p.out, "每行左边是模拟的人做的事，🤖 是机器人的动作。Left: what simulated people do; 🤖: what the bot does.")
	fmt.Fprintln(p.out, "🤖 按机器人决定的先后列出；消息要经过限速的发送队列，在微信上会晚几秒到。")
	fmt.Fprintln(p.out, "The bot's actions are listed in the order it decided them; messages go through a paced queue and arrive seconds later.")
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
	describeImage(&a)
	head := a.Kind + " → " + a.To
	if len(a.Users) > 0 {
		head += " [" + strings.Join(a.Users, ", ") + "]"
	}
	if a.Err != nil {
		head += " (error: " + a.Err.Error() + ")"
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

// describeImage says what a sent picture is, which the transcript cannot
// show, once.
func describeImage(a *sim.Action) {
	if a.Kind != "send_image" || a.Path == "" {
		return
	}
	if f, err := os.Open(a.Path); err == nil {
		if c, err := png.DecodeConfig(f); err == nil {
			a.Text += fmt.Sprintf(" (PNG %d×%d)", c.Width, c.Height)
		}
		f.Close()
	}
	a.Path = ""
}

// failed notes a send the platform refused for good.
func (p *printer) failed(r bot.SendResult) {
	to := p.targetName(r.To)
	if errors.Is(r.Err, bot.ErrUnknownTarget) && r.To.Group == "" && r.To.User != bot.SelfID {
		fmt.Fprintf(p.out, "      （%s 不是机器人的好友，机器人无法私聊回复 / %s is not the bot's friend: the bot cannot DM a reply）\n", to, to)
		return
	}
	fmt.Fprintf(p.out, "      （发给 %s 的消息没有发出 / not sent to %s: %v）\n", to, to, r.Err)
}

// targetName names a chat as the transcript does ("DM:" is left out).
func (p *printer) targetName(t bot.Target) string {
	ctx := context.Background()
	switch {
	case t.Group != "":
		if g, ok := p.b.RT.GroupRecord(t.Group); ok && g.Name != "" {
			return g.Name
		}
		return string(t.Group)
	case t.User == bot.SelfID:
		return "文件传输助手"
	}
	if fs, err := p.b.Sim.Friends(ctx); err == nil {
		for _, f := range fs {
			if f.ID == t.User {
				return f.Nick
			}
		}
	}
	gs, _ := p.b.Sim.Groups(ctx)
	for _, g := range gs {
		ms, _ := p.b.Sim.Members(ctx, g.ID)
		for _, m := range ms {
			if m.ID == t.User {
				return m.Nick
			}
		}
	}
	return string(t.User)
}

// audit prints the newest n audit entries and whether the chain verifies.
func (p *printer) audit(n int) error {
	b := p.b
	if !b.Running() {
		return errors.New("the bot is not running")
	}
	ctx := context.Background()
	rep, err := b.Store.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	es, err := b.Store.AuditEntries(ctx, bot.AuditFilter{Limit: n})
	if err != nil {
		return err
	}
	fmt.Fprintf(p.out, "      📜 审计日志 / audit log：共 %d 条，哈希链校验%s (chain verified: %v)；最近 %d 条 / newest %d:\n",
		rep.Entries, okWord(rep.OK()), rep.OK(), len(es), len(es))
	loc := b.Clock.Now().Location()
	if b.Config != nil && b.Config.Location != nil {
		loc = b.Config.Location
	}
	for _, e := range es {
		where := ""
		if e.GroupName != "" {
			where = " 「" + e.GroupName + "」"
		}
		fmt.Fprintf(p.out, "         #%d %s %s%s %s：%s\n", e.Seq, e.Time.In(loc).Format("01-02 15:04"), e.Action, where, e.Actor, oneLine(e.Detail, 120))
		if e.Evidence != "" {
			fmt.Fprintf(p.out, "            原文 / evidence：%s\n", oneLine(e.Evidence, 120))
		}
	}
	return nil
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
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
		strings.HasPrefix(line, "restart") || strings.HasPrefix(line, "crash") || strings.HasPrefix(line, "audit") ||
		line == "next" {
		return fmt.Errorf("%q only works in qunguan demo", line)
	}
	_, err := b.Step(line)
	return err
}
