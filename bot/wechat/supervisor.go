package wechat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot"
)

// Goroutines and who owns what.
//
// openwechat's Bot is not goroutine-safe: its sync goroutine rewrites the
// contact caches while it processes messages, and exiting writes fields
// that other methods read. A Bot is therefore only ever used by one
// goroutine at a time besides its own sync goroutine:
//
//   - the supervisor (Run's goroutine) creates each Bot and logs it in;
//   - once logged in, the Bot is handed to the owner goroutine (owner.go),
//     which makes every call into it from then on: sends, contact and
//     member reads, invites. It uses only Caller-level calls with the
//     session's keys, never the Bot's contact caches, so the sync
//     goroutine's rewrites of those caches cannot race with it;
//   - the Bot's sync goroutine runs the message handler, which copies the
//     message into a plain struct and hands it to the owner, and the error
//     handler, which backs off;
//   - media workers (media.go) download attachments the owner queued, with
//     a copy of the session's Client that makes only download requests.
//
// A Bot never comes back from an exit, so every login attempt uses a new
// one: hot login (the saved session), then push login (one tap on the
// phone), then a QR code.

// inboundKind says what an inbound item reports.
type inboundKind uint8

const (
	inUp      inboundKind = iota + 1 // a session logged in
	inDown                           // the session ended (1100/1101/1102)
	inMessage                        // a message arrived
	inNetDown                        // the sync loop has failed for OfflineAfter
	inNetUp                          // the sync loop works again
)

// inbound is what sessions report to the owner goroutine, in order: the
// supervisor and the sync goroutine use the same channel, so a session's
// messages always come after its "up" and before its "down".
type inbound struct {
	kind inboundKind
	sess *session
	msg  rawMessage
	err  error
}

// session is one logged-in Bot.
type session struct {
	p      *Platform
	gen    int64
	bot    *openwechat.Bot
	how    string // "hot", "push" or "qr"
	cancel context.CancelFunc
	// ready is closed once the owner knows the session; the message
	// handler waits for it, since the sync goroutine starts before the
	// login call returns.
	ready chan struct{}

	// Set by the supervisor right after login, read-only afterwards.
	self   openwechat.User
	info   *openwechat.LoginInfo
	media  *openwechat.Client // downloads only (media.go)
	req    *openwechat.BaseRequest
	recent []string // group UserNames from webwxinit's recent chats

	// Used on the sync goroutine only.
	fails        int
	failingSince time.Time
	netDown      bool
}

// ctx is the Bot's context: it ends when the session ends, so calls made
// under it stop with the session.
func (s *session) ctx() context.Context { return s.bot.Context() }

// Run implements bot.Platform: it logs in and stays logged in until ctx
// ends, emitting a login event whenever the session is up and a logout
// event when it goes down. When ctx ends Run returns at once and emits
// nothing more, but the session serves sends for up to StopGrace, since
// the runtime flushes its urgent replies after stopping intake.
func (p *Platform) Run(ctx context.Context, emit func(bot.Event)) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("wechat: Run may only be called once")
	}
	ids, err := loadIDs(ctx, p.kv)
	if err != nil {
		p.endLife()
		close(p.stopped)
		return fmt.Errorf("wechat: %w", err)
	}
	o := newOwner(p, ids, emit)
	go p.out.run()
	p.workers.Add(p.o.MediaWorkers)
	for range p.o.MediaWorkers {
		go p.mediaWorker()
	}
	go func() {
		o.run(ctx)
		p.endLife()
		p.workers.Wait()
		close(p.stopped)
		p.removeQR()
	}()
	p.supervise(ctx)
	p.out.stop()
	return nil
}

// supervise logs in, waits for the session to end and logs in again, with
// backoff between failed attempts, until ctx ends.
func (p *Platform) supervise(ctx context.Context) {
	failures := 0
	p.say("正在登录微信（%s 模式）：先用保存的会话，再请手机确认，不行再显示二维码……（Logging in to WeChat, %s mode: saved session, then a tap on the phone, then a QR code…）\n", p.o.Mode, p.o.Mode)
	for ctx.Err() == nil {
		s, err := p.login(ctx, failures%pushEvery == 0)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait := p.o.LoginBackoff.delay(failures)
			if loginRefused(err) {
				wait = p.o.LoginBackoff.Max
				p.alert("refused", "", nil, false)
			}
			p.log.Warn("login failed", "attempt", failures, "retry_in", wait.String(), "err", oneLine(redact(err)))
			p.say("登录失败（第 %d 次）：%s\n%s 后重试（Login failed, attempt %d; retrying in %s）。\n", failures, oneLine(redact(err)), wait, failures, wait)
			if !sleep(ctx, wait) {
				return
			}
			continue
		}
		failures = 0
		p.log.Info("logged in", "session", s.gen, "how", s.how, "nick", s.self.NickName)
		p.say("已登录：%s（Logged in as %s）\n", s.self.NickName, s.self.NickName)
		if !p.report(ctx, inbound{kind: inUp, sess: s}) {
			s.cancel()
			return
		}
		close(s.ready)
		select {
		case <-s.ctx().Done():
		case <-ctx.Done():
			return // the owner keeps the session for the last sends
		}
		s.cancel()
		if ctx.Err() != nil {
			return
		}
		reason := s.bot.CrashReason()
		p.log.Warn("session ended", "session", s.gen, "err", redact(reason))
		if !p.report(ctx, inbound{kind: inDown, sess: s, err: reason}) {
			return
		}
	}
}

// report hands an item to the owner goroutine; false means ctx ended.
func (p *Platform) report(ctx context.Context, in inbound) bool {
	select {
	case p.inbound <- in:
		return true
	case <-ctx.Done():
		return false
	}
}

// pushEvery spaces push logins out when nobody answers them: each one
// makes the bot's phone ask for a tap, which should not happen every few
// minutes all night. The first attempt after losing the session pushes,
// then every pushEvery-th.
const pushEvery = 6

// login tries a hot login with the saved session, then, if push is set, a
// push login (WeChat asks the phone to confirm), then a QR code.
func (p *Platform) login(ctx context.Context, push bool) (*session, error) {
	var errs []error
	if p.storage.exists() {
		s, err := p.attempt(ctx, "hot", func(b *openwechat.Bot) error { return b.HotLogin(p.storage.open()) })
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("hot login: %w", err))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.log.Info("hot login failed", "err", redact(err))
	}
	if push && p.storage.exists() {
		p.log.Info("asking the phone to confirm the login")
		p.alert("push", "", nil, false)
		s, err := p.attempt(ctx, "push", func(b *openwechat.Bot) error { return b.PushLogin(p.storage.open()) })
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("push login: %w", err))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.log.Info("push login failed; showing a QR code", "err", redact(err))
	}
	// openwechat saves the session only for hot and push logins; handing
	// the QR login a storage that reads as empty makes it save this one.
	s, err := p.attempt(ctx, "qr", func(b *openwechat.Bot) error {
		return b.HotLogin(writeOnly{p.storage}, openwechat.NewRetryLoginOption())
	})
	if err == nil {
		return s, nil
	}
	errs = append(errs, fmt.Errorf("QR login: %w", err))
	return nil, errors.Join(errs...)
}

// attempt runs one login on a new Bot. Ending ctx aborts it.
func (p *Platform) attempt(ctx context.Context, how string, login func(*openwechat.Bot) error) (*session, error) {
	s := p.newSession(how)
	stopAborting := context.AfterFunc(ctx, s.cancel)
	err := login(s.bot)
	if !stopAborting() || err != nil {
		s.cancel()
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	resp := s.bot.Storage.Response
	s.self = *resp.User
	s.self.MemberList = nil
	s.info, s.req = s.bot.Storage.LoginInfo, s.bot.Storage.Request
	s.media = mediaClient(s.bot.Caller.Client)
	for _, u := range resp.ContactList {
		if strings.HasPrefix(u.UserName, "@@") {
			s.recent = append(s.recent, u.UserName)
		}
	}
	p.removeQR()
	return s, nil
}

// newSession makes a Bot that talks through the jar guard and reports to
// the owner goroutine.
func (p *Platform) newSession(how string) *session {
	bctx, cancel := context.WithCancel(p.life)
	b := openwechat.NewBot(bctx) // never DefaultBot: it opens a browser
	if p.o.Mode == "desktop" {
		openwechat.Desktop.Prepare(b)
	} else {
		openwechat.Normal.Prepare(b)
	}
	client := b.Caller.Client
	hc := client.HTTPClient()
	hc.Transport = newJarGuard(p.o.Transport, client)
	hc.Timeout = p.o.HTTPTimeout
	client.MaxRetryTimes = p.o.MaxRetries

	s := &session{p: p, gen: p.gen.Add(1), bot: b, how: how, cancel: cancel, ready: make(chan struct{})}
	b.UUIDCallback = p.showQR
	b.ScanCallBack = func(openwechat.CheckLoginResponse) {
		p.log.Info("QR code scanned; waiting for the phone to confirm")
	}
	b.MessageHandler = s.handle
	b.MessageErrorHandler = s.syncFailed
	b.SyncCheckCallback = s.syncOK
	return s
}

// handle is the Bot's message handler, on its sync goroutine. It only
// copies the message and hands it on; a panic here would kill the process
// (openwechat does not recover), so it is contained.
func (s *session) handle(m *openwechat.Message) {
	defer func() {
		if r := recover(); r != nil {
			s.p.log.Error("message handler panicked", "session", s.gen, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	raw := copyMessage(m)
	select {
	case <-s.ready:
	case <-s.ctx().Done():
		return
	}
	s.p.report(s.ctx(), inbound{kind: inMessage, sess: s, msg: raw})
}

// syncFailed is the Bot's message error handler, on its sync goroutine.
// openwechat retries at once after any error it does not exit on, which
// turns a network outage into thousands of requests a second; sleeping
// here throttles the loop. An ended session is returned, which makes the
// Bot exit.
func (s *session) syncFailed(err error) error {
	if sessionEnded(err) {
		return err
	}
	if s.ctx().Err() != nil {
		return nil // stopping: the loop ends by itself
	}
	if s.fails == 0 {
		s.failingSince = time.Now()
	}
	s.fails++
	wait := s.p.o.SyncBackoff.delay(s.fails)
	s.p.log.Warn("sync failed; backing off", "session", s.gen, "attempt", s.fails, "retry_in", wait.String(), "err", redact(err))

	timer := time.NewTimer(wait)
	defer timer.Stop()
	var mark <-chan time.Time
	if !s.netDown {
		if left := s.p.o.OfflineAfter - time.Since(s.failingSince); left > 0 {
			t := time.NewTimer(left)
			defer t.Stop()
			mark = t.C
		} else {
			s.markDown(err)
		}
	}
	for {
		select {
		case <-timer.C:
			return nil
		case <-mark:
			mark = nil
			s.markDown(err)
		case <-s.ctx().Done():
			return nil
		}
	}
}

func (s *session) markDown(err error) {
	s.netDown = true
	s.p.report(s.ctx(), inbound{kind: inNetDown, sess: s, err: err})
}

// syncOK is the Bot's sync-check callback: a sync check got an answer.
func (s *session) syncOK(resp openwechat.SyncCheckResponse) {
	if s.fails == 0 || !resp.Success() {
		return
	}
	s.p.log.Info("sync works again", "session", s.gen, "after_attempts", s.fails)
	s.fails = 0
	if s.netDown {
		s.netDown = false
		s.p.report(s.ctx(), inbound{kind: inNetUp, sess: s})
	}
}

// say tells the person at the terminal (where the QR code is shown) how
// the login goes; the log has the same in structured form.
func (p *Platform) say(format string, args ...any) {
	if p.o.QRWriter != nil {
		fmt.Fprintf(p.o.QRWriter, format, args...)
	}
}

// oneLine joins a multi-line error message into one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// showQR is the Bot's UUID callback: it shows the login QR code.
func (p *Platform) showQR(uuid string) {
	url := loginURL(uuid)
	pngPath := ""
	if p.o.QRCodePNG {
		path := filepath.Join(p.o.DataDir, qrFileName)
		if err := writeQRPNG(url, path); err != nil {
			p.log.Warn("QR picture not written", "err", err)
		} else {
			pngPath = path
		}
	}
	if p.o.QRWriter != nil {
		if err := writeQRTerminal(p.o.QRWriter, url, pngPath); err != nil {
			p.log.Warn("QR code not shown", "err", err)
		}
	}
	p.log.Info("scan the QR code with the bot account's WeChat to log in", "qr_png", pngPath)
	where := pngPath
	if where == "" {
		where = qrFileName
	}
	p.alert("qr", "", map[string]string{"path": where}, false)
	if p.o.OnQRCode != nil {
		p.o.OnQRCode(uuid)
	}
}

func (p *Platform) removeQR() {
	if err := os.Remove(filepath.Join(p.o.DataDir, qrFileName)); err != nil && !os.IsNotExist(err) {
		p.log.Warn("old QR picture not removed", "err", err)
	}
}

// alert tells operators through the runtime, off the calling goroutine.
// Alerts with the same key (the text's key, and the group if any) go out
// once in 30 minutes. While the runtime is offline they go to the
// webhook; with online set, the alert waits (a while) for the runtime to
// be online first, so that operators get it by DM.
func (p *Platform) alert(key string, g bot.GroupID, vars map[string]string, online bool) {
	rt := p.runtime()
	if rt == nil {
		p.log.Warn("operators not told: no runtime", "about", key, "group_id", string(g))
		return
	}
	msg := text(p.lang(), key, vars)
	dedupe := "wechat/" + key
	if g != "" {
		dedupe += "/" + string(g)
	}
	p.out.push(func() {
		if online {
			p.awaitOnline(rt)
		}
		rt.Alert(context.Background(), bot.Alert{Kind: bot.AlertOther, Group: g, Key: dedupe, Text: msg})
	})
}

// awaitOnline waits until the runtime has handled the login event, which
// it does on its own goroutine after the adapter emitted it, for at most
// 30 s or until the platform stops.
func (p *Platform) awaitOnline(rt Runtime) {
	deadline := time.Now().Add(30 * time.Second)
	for !rt.Online() && time.Now().Before(deadline) {
		select {
		case <-p.stopped:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sleep waits d or until ctx ends; false means ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
