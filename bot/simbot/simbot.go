// Package simbot is a whole bot on the sim platform: the runtime with a
// store in a directory, a fake clock, everything synchronous, driven by
// script lines ("alice@技术交流群: 大家好", "advance 3d"). The test harness
// (bot/bottest) and `qunguan demo` are built on it.
package simbot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/sim"
	"github.com/qunguan/qunguan/store"
)

// Start is the fake clock's default start: a Monday morning in Shanghai.
var Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// DefaultWorld is the simulated world used when none is given: two
// operators-to-be (friends with remark names), members, and two groups.
const DefaultWorld = `
self: 群管机器人
users:
  - {nick: 王老师, remark: 运营-王老师, friend: true}
  - {nick: 李助教, remark: 李助教, friend: true}
  - {nick: alice, friend: true, remark: alice}
  - {nick: bob}
  - {nick: carol}
  - {nick: dave}
groups:
  - name: 技术交流群
    members: [王老师, 李助教, alice, bob, carol]
    cards: {alice: 小A}
  - name: 读书会
    members: [王老师, alice, dave]
`

// DefaultConfig manages both default groups with 王老师 as operator.
const DefaultConfig = `
platform: sim
language: zh
timezone: Asia/Shanghai
operators: [运营-王老师]
groups:
  - name: 技术交流群
  - name: 读书会
`

// Options configure a Bot.
type Options struct {
	// World is sim World YAML (DefaultWorld when empty).
	World string
	// Config is config YAML (DefaultConfig when empty).
	Config string
	// Plugins builds fresh plugin values; it is called again at each start.
	Plugins func() []bot.Plugin
	// WebLike runs the world through sim.WebLike: no kick, no dissolve.
	WebLike bool
	// Platform, when set, wraps the sim in a platform of other chosen
	// capabilities (a test's own wrapper); it overrides WebLike.
	Platform func(*sim.Platform) bot.Platform
	// Start overrides the fake clock's start.
	Start time.Time
	// NoLogin skips the initial login event.
	NoLogin bool
	// CheckMembers refuses script lines in which someone who is not a
	// member of a group talks, posts media, leaves or sets a card there
	// (the interactive demo; many tests let anyone talk anywhere).
	CheckMembers bool
	// Logger receives the runtime's logs (discarded when nil).
	Logger *slog.Logger
	// Codes makes confirmation codes. Nil means a seeded sequence that
	// continues across restarts of this Bot, so transcripts are stable.
	Codes func() string
}

// Bot is a synchronous runtime on the sim platform.
type Bot struct {
	Clock    *bot.FakeClock
	Sim      *sim.Platform
	Platform bot.Platform
	Store    *store.DB
	RT       *bot.Runtime
	Config   *bot.Config
	Plugins  []bot.Plugin
	// Dir holds config.yaml and the data dir.
	Dir        string
	ConfigPath string
	DataDir    string

	opts    Options
	log     *slog.Logger
	running bool
	codes   *rand.Rand
	// lastCode is the last confirmation code the bot sent (see Step's {code}).
	lastCode string
	// repeat is the "repeat N {" block being collected, if any.
	repeat *repeatBlock
	// queued and sent are the observers set by Observe.
	queued, sent func(bot.SendResult)
}

// New builds and starts a bot whose files live in dir.
func New(dir string, o Options) (*Bot, error) {
	if o.World == "" {
		o.World = DefaultWorld
	}
	if o.Config == "" {
		o.Config = DefaultConfig
	}
	if o.Plugins == nil {
		o.Plugins = func() []bot.Plugin { return nil }
	}
	start := o.Start
	if start.IsZero() {
		start = Start
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b := &Bot{Clock: bot.NewFakeClock(start), Dir: dir, opts: o, log: log, codes: rand.New(rand.NewPCG(2026, 3)),
		ConfigPath: filepath.Join(dir, "config.yaml"), DataDir: filepath.Join(dir, "data")}
	p, err := sim.LoadWorld(b.Clock, []byte(o.World))
	if err != nil {
		return nil, err
	}
	b.Sim, b.Platform = p, p
	if o.WebLike {
		b.Platform = sim.WebLike(p)
	}
	if o.Platform != nil {
		b.Platform = o.Platform(p)
	}
	if err := os.WriteFile(b.ConfigPath, []byte(o.Config), 0o600); err != nil {
		return nil, err
	}
	if err := b.StartBot(); err != nil {
		return nil, err
	}
	if !o.NoLogin {
		b.Sim.Login()
	}
	return b, nil
}

// Running reports whether the runtime is up.
func (b *Bot) Running() bool { return b.running }

// StartBot opens the store and starts a fresh runtime (after StopBot or Crash).
func (b *Bot) StartBot() error {
	b.Plugins = b.opts.Plugins()
	cfg, err := bot.LoadConfig(b.ConfigPath, b.Plugins)
	if err != nil {
		return err
	}
	b.Config = cfg
	db, err := store.Open(b.DataDir, store.Options{Logger: b.log, Now: b.Clock.Now, NoSync: true})
	if err != nil {
		return err
	}
	b.Store = db
	codes := b.opts.Codes
	if codes == nil {
		codes = func() string { return fmt.Sprintf("%06d", b.codes.IntN(1_000_000)) }
	}
	rt, err := bot.New(bot.Options{Config: cfg, Store: db, Platform: b.Platform, Plugins: b.Plugins, Clock: b.Clock, Logger: b.log, Sync: true, Version: "sim", Codes: codes})
	if err != nil {
		_ = db.Close()
		return err
	}
	b.RT = rt
	rt.Pacer().OnEnqueue(func(r bot.SendResult) {
		if b.queued != nil {
			b.queued(r)
		}
	})
	rt.OnSend(func(r bot.SendResult) {
		if b.sent != nil {
			b.sent(r)
		}
	})
	if err := rt.Start(context.Background()); err != nil {
		_ = db.Close()
		return err
	}
	b.Sim.SetEmitter(func(ev bot.Event) { rt.Handle(context.Background(), ev) })
	b.running = true
	return nil
}

// StopBot shuts the runtime down gracefully and closes the store. Events
// the sim produces while stopped are lost, as on a real platform.
func (b *Bot) StopBot() error {
	if !b.running {
		return nil
	}
	b.Sim.SetEmitter(nil)
	b.Sim.SetOnline(false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.RT.Pacer().Drain(ctx)
	err := b.RT.Shutdown(ctx)
	b.running = false
	return errors.Join(err, b.Store.Close())
}

// Crash stops the runtime with no shutdown work, as SIGKILL would (the
// store is closed only to release the file lock inside this process;
// queued records are lost like a killed process would lose them).
func (b *Bot) Crash() {
	b.Sim.SetEmitter(nil)
	b.Sim.SetOnline(false)
	b.RT.Abandon()
	_ = b.Store.Close()
	b.running = false
}

// Observe tells queued about every send the bot queues and sent about
// every send that finished (delivered, or given up with its error), on
// the running runtime and on those later starts make. Either may be nil.
func (b *Bot) Observe(queued, sent func(bot.SendResult)) {
	b.queued, b.sent = queued, sent
}

// Close stops the bot if it runs.
func (b *Bot) Close() error { return b.StopBot() }

// Restart is StopBot then StartBot on the same data dir, then a login.
func (b *Bot) Restart() error {
	if err := b.StopBot(); err != nil {
		return err
	}
	if err := b.StartBot(); err != nil {
		return err
	}
	b.Sim.Login()
	return nil
}

// Advance moves the fake clock; due timers and cron jobs run inline and
// their sends are drained.
func (b *Bot) Advance(d time.Duration) {
	b.Clock.Advance(d)
	if b.running {
		b.RT.Pacer().Drain(context.Background())
	}
}

// Scheduled returns the steps plugins scheduled, soonest first: the
// persisted one-shot timers (a welcome window closing, a reminder, a
// countdown's next stage) that are due later and not held. Recurring
// jobs (the nightly statistics, backups) are not included.
func (b *Bot) Scheduled() []bot.TimerRecord {
	if !b.running {
		return nil
	}
	ts, err := b.Store.Timers(context.Background())
	if err != nil {
		return nil
	}
	now := b.Clock.Now()
	var out []bot.TimerRecord
	for _, t := range ts {
		if !t.Held && t.Due.After(now) {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out
}

// NextStep returns when the first of the Scheduled steps is due.
func (b *Bot) NextStep() (time.Time, bool) {
	if ts := b.Scheduled(); len(ts) > 0 {
		return ts[0].Due, true
	}
	return time.Time{}, false
}

// Settle fires timers armed for "now" (a confirmed step, a missed
// reminder run at start) without moving time, and drains the pacer.
func (b *Bot) Settle() {
	if !b.running {
		return
	}
	b.Clock.Advance(0)
	b.RT.Pacer().Drain(context.Background())
}

// Actions returns and clears what the bot did on the platform.
func (b *Bot) Actions() []sim.Action {
	as := b.Sim.TakeActions()
	for _, a := range as {
		if m := codeRE.FindAllStringSubmatch(a.Text, -1); m != nil {
			b.lastCode = m[len(m)-1][1]
		}
	}
	return as
}

// codeRE finds confirmation codes in what the bot sends.
var codeRE = regexp.MustCompile(`/confirm (\d{6})`)

// LastCode is the last confirmation code the bot sent, "" if none yet.
func (b *Bot) LastCode() string { return b.lastCode }

// Texts returns and clears the texts the bot sent, as "to: text".
func (b *Bot) Texts() []string {
	var out []string
	for _, a := range b.Actions() {
		if a.Kind == "send_text" {
			out = append(out, a.To+": "+a.Text)
		}
	}
	return out
}

// WriteConfig replaces the config file (for reload tests).
func (b *Bot) WriteConfig(yaml string) error {
	return os.WriteFile(b.ConfigPath, []byte(yaml), 0o600)
}

// Group returns a sim group's durable id by name ("" if unknown).
func (b *Bot) Group(name string) bot.GroupID {
	if g := b.Sim.Group(name); g != nil {
		return g.ID
	}
	return ""
}

// User returns a sim user's durable id by nickname ("" if unknown).
func (b *Bot) User(nick string) bot.UserID {
	if u := b.Sim.User(nick); u != nil {
		return u.ID
	}
	return ""
}

var errNotRunning = fmt.Errorf("the bot is not running")
