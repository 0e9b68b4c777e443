package wechat_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
	"github.com/qunguan/qunguan/store"
)

// The tests run the real openwechat client against fakewx, with the real
// runtime and store on top: events reach a capturing plugin through the
// runtime, and replies leave through the pacer and the adapter.

const wait = 10 * time.Second

const baseConfig = `
platform: wechat
operators: [eve-op]
groups:
  - name: 技术群
  - name: 闲聊群
  - name: 班级群
pacer: {interval: 10ms, burst: 20, jitter: 0s, group_spacing: 0s, backoff_base: 100ms, backoff_max: 1s}
wechat: {mode: normal, member_refresh: 0s}
`

// capture is a plugin that records every event it is shown.
type capture struct {
	mu     sync.Mutex
	events []bot.Event
	change chan struct{}
}

func newCapture() *capture { return &capture{change: make(chan struct{})} }

func (c *capture) Name() string { return "capture" }

func (c *capture) HandleEvent(ctx context.Context, ev *bot.Event) error {
	c.mu.Lock()
	c.events = append(c.events, *ev)
	close(c.change)
	c.change = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// logBuffer keeps the logs of a test and prints them when it fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type rig struct {
	t      *testing.T
	s      *fakewx.Server
	dir    string
	db     *store.DB
	p      *wechat.Platform
	rt     *bot.Runtime
	cap    *capture
	logs   *logBuffer
	qr     *logBuffer
	cancel context.CancelFunc
	done   chan error
}

type rigOptions struct {
	server *fakewx.Server // reuse a server (a restart); else a new one
	fake   fakewx.Options
	dir    string // reuse a data dir (a restart); else a temp dir
	config string
	// scan scans each QR code once the client polls it (a 408 was seen).
	noScan bool
	tune   func(*wechat.Options)
	// plugins run besides the capturing one; the config may configure them.
	plugins []bot.Plugin
	clock   bot.Clock // the runtime's; nil is the wall clock
}

func newServer(t *testing.T, o fakewx.Options) *fakewx.Server {
	if o.LoginPoll == 0 {
		o.LoginPoll = 20 * time.Millisecond
	}
	if o.SyncPoll == 0 {
		o.SyncPoll = 50 * time.Millisecond
	}
	s := fakewx.New(o)
	t.Cleanup(s.Close) // registered first, so it runs after the bot stopped
	return s
}

// start runs the runtime with the WeChat platform against a fake server
// and waits for the login event.
func start(t *testing.T, o rigOptions) *rig {
	t.Helper()
	r := &rig{t: t, s: o.server, dir: o.dir, cap: newCapture(), logs: &logBuffer{}, qr: &logBuffer{}}
	if r.s == nil {
		r.s = newServer(t, o.fake)
	}
	if r.dir == "" {
		r.dir = t.TempDir()
	}
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", r.logs.String())
		}
	})
	cfgText := o.config
	if cfgText == "" {
		cfgText = baseConfig
	}
	cfg, err := bot.ParseConfig("test.yaml", []byte(cfgText), o.plugins)
	if err != nil {
		t.Fatal(err)
	}
	r.db, err = store.Open(r.dir, store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	wo := wechat.Options{
		Mode: cfg.Wechat.Mode, DataDir: r.dir, QRCodePNG: true, QRWriter: r.qr,
		MemberRefresh: cfg.Wechat.MemberRefresh.D(), Store: r.db, Config: cfg, Logger: log,
		Transport: r.s.Transport(), HTTPTimeout: 5 * time.Second, RefreshGap: 20 * time.Millisecond,
		SyncBackoff:  wechat.Backoff{Base: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		LoginBackoff: wechat.Backoff{Base: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		StopGrace:    300 * time.Millisecond,
	}
	if !o.noScan {
		s := r.s
		wo.OnQRCode = func(string) {
			// Scan only once the client is polling, so that it sees a 408.
			go func() {
				s.WaitFor(wait, func() bool { return slicesContains(s.LoginPolls(), "408") })
				s.Scan()
			}()
		}
	}
	if o.tune != nil {
		o.tune(&wo)
	}
	r.p, err = wechat.New(wo)
	if err != nil {
		t.Fatal(err)
	}
	r.rt, err = bot.New(bot.Options{Config: cfg, Store: r.db, Platform: r.p, Plugins: append([]bot.Plugin{r.cap}, o.plugins...), Logger: log, Clock: o.clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	if err := r.rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.rt.Run(ctx) }()
	t.Cleanup(r.stop)
	r.waitEvent("login", func(ev bot.Event) bool { return ev.Kind == bot.EventLogin })
	return r
}

// stop ends the runtime (and with it the platform) and closes the store;
// a restart then opens the same data dir.
func (r *rig) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("runtime: %v", err)
		}
	case <-time.After(wait):
		r.t.Error("runtime did not stop")
	}
	select {
	case <-r.p.Stopped():
	case <-time.After(wait):
		r.t.Error("platform did not let go of its session")
	}
	if err := r.db.Close(); err != nil {
		r.t.Errorf("close store: %v", err)
	}
}

// waitEvent waits for an event the plugin saw that matches and was not
// returned by an earlier wait.
func (r *rig) waitEvent(what string, match func(bot.Event) bool) bot.Event {
	r.t.Helper()
	deadline := time.After(wait)
	for {
		r.cap.mu.Lock()
		for i, ev := range r.cap.events {
			if match(ev) {
				r.cap.events = append(r.cap.events[:i:i], r.cap.events[i+1:]...)
				r.cap.mu.Unlock()
				return ev
			}
		}
		ch := r.cap.change
		r.cap.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			r.t.Fatalf("no %s event; seen: %s", what, r.describe())
			return bot.Event{}
		}
	}
}

// noEvent checks that no matching event arrives within d.
func (r *rig) noEvent(what string, d time.Duration, match func(bot.Event) bool) {
	r.t.Helper()
	time.Sleep(d)
	r.cap.mu.Lock()
	defer r.cap.mu.Unlock()
	for _, ev := range r.cap.events {
		if match(ev) {
			r.t.Errorf("unexpected %s event: %+v", what, ev)
		}
	}
}

func (r *rig) describe() string {
	r.cap.mu.Lock()
	defer r.cap.mu.Unlock()
	var b strings.Builder
	for _, ev := range r.cap.events {
		fmt.Fprintf(&b, "\n  %s group=%s sender=%s text=%q reason=%q", ev.Kind, ev.GroupName, ev.SenderName, ev.Text(), ev.Reason)
	}
	return b.String()
}

// group returns the durable id of the group the session calls name.
func (r *rig) group(name string) bot.GroupID {
	r.t.Helper()
	gs, err := r.p.Groups(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	for _, g := range gs {
		if g.Name == name {
			return g.ID
		}
	}
	r.t.Fatalf("no group %q in %+v", name, gs)
	return ""
}

// member returns the durable id of the member of group with this nickname.
func (r *rig) member(g bot.GroupID, nick string) bot.Member {
	r.t.Helper()
	ms, err := r.p.Members(context.Background(), g)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, m := range ms {
		if m.Nick == nick {
			return m
		}
	}
	r.t.Fatalf("no member %q in %+v", nick, ms)
	return bot.Member{}
}

// friend returns the friend with this remark (or nickname, without one).
func (r *rig) friend(name string) bot.Member {
	r.t.Helper()
	fs, err := r.p.Friends(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	for _, f := range fs {
		if f.Remark == name || (f.Remark == "" && f.Nick == name) {
			return f
		}
	}
	r.t.Fatalf("no friend %q in %+v", name, fs)
	return bot.Member{}
}

// sent waits for a message the client sent that matches.
func (r *rig) sent(what string, match func(fakewx.Sent) bool) fakewx.Sent {
	r.t.Helper()
	var hit fakewx.Sent
	ok := r.s.WaitFor(wait, func() bool {
		for _, m := range r.s.Sent() {
			if match(m) {
				hit = m
				return true
			}
		}
		return false
	})
	if !ok {
		r.t.Fatalf("nothing sent: %s; sent: %+v", what, r.s.Sent())
	}
	return hit
}

func slicesContains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func isMsg(text string) func(bot.Event) bool {
	return func(ev bot.Event) bool { return ev.Kind == bot.EventMessage && ev.Text() == text }
}
