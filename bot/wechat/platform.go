package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Options configure a Platform. Factory fills them from the config; tests
// point Transport at a fake server and shorten the waits.
type Options struct {
	// Mode is "desktop" (UOS; for accounts refused with 1203) or "normal".
	Mode string
	// DataDir holds the session file and the login QR picture.
	DataDir string
	// QRCodePNG also writes the login QR code as a PNG into DataDir.
	QRCodePNG bool
	// QRWriter receives the login QR code drawn with text blocks; nil
	// draws nothing.
	QRWriter io.Writer
	// OnQRCode, if set, is called with each login QR code's uuid after it
	// was shown.
	OnQRCode func(uuid string)
	// MemberRefresh is how often each managed group's member list is
	// re-read to notice silent leaves; the runtime's config, when there is
	// a runtime, takes precedence so that reloads apply. 0 turns it off.
	MemberRefresh time.Duration
	// RefreshGap is the least time between two timed member refreshes, so
	// that many groups are read one by one rather than in a burst.
	// Default 5 s.
	RefreshGap time.Duration
	// Store keeps the identity mapping (its KV namespace "wechat") and is
	// read for the runtime's group records.
	Store bot.Store
	// Config is used for managed groups and language when no runtime was
	// handed over (UseRuntime).
	Config *bot.Config
	Logger *slog.Logger

	// Transport carries the HTTP requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// HTTPTimeout bounds each request. Default 35 s: the sync check is
	// held by the server for about 25 s.
	HTTPTimeout time.Duration
	// MaxRetries is how often openwechat tries a request before it
	// reports a network error. Default 2: the supervisor and the pacer
	// retry with backoff, openwechat's own retries have none.
	MaxRetries int
	// SyncBackoff paces the sync loop after errors; LoginBackoff paces
	// login attempts. Defaults: 1 s to 1 min, and 5 s to 5 min.
	SyncBackoff, LoginBackoff Backoff
	// OfflineAfter is how long the sync loop may fail before the runtime
	// is told the bot is offline (network down, session maybe still
	// valid). Default 1 min.
	OfflineAfter time.Duration
	// StopGrace is how long the session stays up for sends after Run's
	// context ended: the runtime sends its urgent queue after stopping
	// intake (it gives that 20 s). Default 20 s.
	StopGrace time.Duration

	// Media downloads (media.go) are turned on and capped by the config's
	// wechat.media_download and media_max_size. MediaWorkers download at
	// once (default 2); MediaQueue more may wait (default 64), beyond which
	// downloads are skipped; MediaTimeout bounds one download, and so how
	// long its group's later events wait for it (default 3 min).
	MediaWorkers, MediaQueue int
	MediaTimeout             time.Duration
}

// Backoff is an exponential backoff: Base, doubling up to Max.
type Backoff struct {
	Base, Max time.Duration
}

// delay is the wait before attempt n (1-based).
func (b Backoff) delay(n int) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.RefreshGap <= 0 {
		o.RefreshGap = 5 * time.Second
	}
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = 35 * time.Second
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 2
	}
	if o.SyncBackoff.Base <= 0 {
		o.SyncBackoff = Backoff{Base: time.Second, Max: time.Minute}
	}
	if o.LoginBackoff.Base <= 0 {
		o.LoginBackoff = Backoff{Base: 5 * time.Second, Max: 5 * time.Minute}
	}
	if o.OfflineAfter <= 0 {
		o.OfflineAfter = time.Minute
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 20 * time.Second
	}
	if o.MediaWorkers <= 0 {
		o.MediaWorkers = 2
	}
	if o.MediaQueue <= 0 {
		o.MediaQueue = 64
	}
	if o.MediaTimeout <= 0 {
		o.MediaTimeout = 3 * time.Minute
	}
}

// Runtime is what the adapter uses of *bot.Runtime: operator tasks and
// alerts for what only a human can settle, and the managed groups whose
// members it watches.
type Runtime interface {
	Config() *bot.Config
	Online() bool
	ManagedGroups() []bot.GroupRecord
	CreateTask(ctx context.Context, t bot.Task) (bot.Task, error)
	UpdateTask(ctx context.Context, t bot.Task) error
	Alert(ctx context.Context, a bot.Alert)
}

// Platform is web WeChat behind bot.Platform. Create it with New and run
// it with Run; the methods may be called from any goroutine.
type Platform struct {
	o     Options
	log   *slog.Logger
	store bot.Store
	kv    bot.KV
	rt    atomic.Pointer[runtimeRef]

	storage *sessionFile

	// calls carry method calls, inbound carries what the sessions report;
	// the owner goroutine serves both. stopped is closed when it ends.
	calls   chan call
	inbound chan inbound
	stopped chan struct{}
	running atomic.Bool
	// life is the context of every Bot: it outlives Run's by StopGrace,
	// so that the runtime's last sends still go out.
	life    context.Context
	endLife context.CancelFunc

	// out delivers events and runtime jobs in order, off the owner
	// goroutine (see fifo).
	out *fifo
	// gen numbers the sessions for logs.
	gen atomic.Int64

	// mediaRoot is <DataDir>/media, absolute. mediaQueue feeds the
	// download workers, which hand finished jobs back on mediaDone.
	mediaRoot  string
	mediaQueue chan *mediaJob
	mediaDone  chan *mediaJob
	workers    sync.WaitGroup
}

type runtimeRef struct{ rt Runtime }

// New returns a platform; nothing happens until Run.
func New(o Options) (*Platform, error) {
	o.defaults()
	if o.Store == nil {
		return nil, errors.New("wechat: Options.Store is required")
	}
	if o.Mode != "desktop" && o.Mode != "normal" {
		return nil, fmt.Errorf("wechat: mode %q is not desktop or normal", o.Mode)
	}
	if o.DataDir == "" {
		return nil, errors.New("wechat: Options.DataDir is required")
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("wechat: data dir: %w", err)
	}
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, fmt.Errorf("wechat: data dir: %w", err)
	}
	p := &Platform{
		o: o, log: o.Logger.With("platform", "wechat"), store: o.Store, kv: o.Store.KV(kvNamespace),
		storage: newSessionFile(filepath.Join(o.DataDir, "wechat-session.json")),
		calls:   make(chan call),
		inbound: make(chan inbound, 256),
		stopped: make(chan struct{}),
		out:     newFifo(),

		mediaRoot:  bot.MediaDir(abs),
		mediaQueue: make(chan *mediaJob, o.MediaQueue),
		mediaDone:  make(chan *mediaJob),
	}
	p.life, p.endLife = context.WithCancel(context.Background())
	return p, nil
}

// Factory builds the platform for `qunguan run` from the config: the QR
// code goes to the terminal (stdout) and, unless turned off, to a PNG in
// the data dir.
func Factory(ctx context.Context, cfg *bot.Config, dataDir string, log *slog.Logger, ids bot.Store) (bot.Platform, error) {
	return New(OptionsFromConfig(cfg, dataDir, log, ids))
}

// OptionsFromConfig returns the options Factory uses.
func OptionsFromConfig(cfg *bot.Config, dataDir string, log *slog.Logger, ids bot.Store) Options {
	return Options{
		Mode:          cfg.Wechat.Mode,
		DataDir:       dataDir,
		QRCodePNG:     cfg.Wechat.QRCodePNG,
		QRWriter:      os.Stdout,
		MemberRefresh: cfg.Wechat.MemberRefresh.D(),
		Store:         ids,
		Config:        cfg,
		Logger:        log,
	}
}

// UseRuntime implements bot.RuntimeUser.
func (p *Platform) UseRuntime(rt *bot.Runtime) { p.SetRuntime(rt) }

// SetRuntime hands over the runtime services the adapter uses.
func (p *Platform) SetRuntime(rt Runtime) { p.rt.Store(&runtimeRef{rt: rt}) }

func (p *Platform) runtime() Runtime {
	if r := p.rt.Load(); r != nil {
		return r.rt
	}
	return nil
}

// config is the runtime's current config, or the one given in Options.
func (p *Platform) config() *bot.Config {
	if rt := p.runtime(); rt != nil {
		return rt.Config()
	}
	return p.o.Config
}

func (p *Platform) lang() bot.Lang {
	if c := p.config(); c != nil {
		return c.Language
	}
	return bot.LangZH
}

// Name implements bot.Platform.
func (p *Platform) Name() string { return "wechat" }

// call is one method call, run on the owner goroutine.
type call struct {
	fn   func(o *owner) error
	done chan error
}

// do runs fn on the owner goroutine and waits for it. Before Run and after
// it ended the platform is offline.
func (p *Platform) do(ctx context.Context, fn func(o *owner) error) error {
	if !p.running.Load() {
		return fmt.Errorf("%w: wechat platform not running", bot.ErrOffline)
	}
	c := call{fn: fn, done: make(chan error, 1)}
	select {
	case p.calls <- c:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.stopped:
		return errStopped
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-p.stopped:
		return errStopped
	}
}

// errStopped is not bot.ErrOffline on purpose: nothing will bring the
// session back, and a retrying pacer would only stall the shutdown.
var errStopped = errors.New("wechat platform stopped")

// Stopped is closed once the platform has let go of its session for good,
// StopGrace after Run's context ended at the latest.
func (p *Platform) Stopped() <-chan struct{} { return p.stopped }

// SendText implements bot.Platform.
func (p *Platform) SendText(ctx context.Context, to bot.Target, text string) error {
	return p.do(ctx, func(o *owner) error { return o.sendText(to, text) })
}

// SendFile implements bot.Platform. Pictures go as images when WeChat
// shows that format inline (png, jpg, gif, bmp); anything else, webp
// included, goes as a file.
func (p *Platform) SendFile(ctx context.Context, to bot.Target, f bot.File) error {
	return p.do(ctx, func(o *owner) error { return o.sendFile(to, f) })
}

// Groups implements bot.Platform.
func (p *Platform) Groups(ctx context.Context) ([]bot.GroupInfo, error) {
	var out []bot.GroupInfo
	err := p.do(ctx, func(o *owner) error {
		var err error
		out, err = o.listGroups()
		return err
	})
	return out, err
}

// Members implements bot.Platform: the latest snapshot of the group's
// members, without the bot account.
func (p *Platform) Members(ctx context.Context, g bot.GroupID) ([]bot.Member, error) {
	var out []bot.Member
	err := p.do(ctx, func(o *owner) error {
		var err error
		out, err = o.listMembers(g)
		return err
	})
	return out, err
}

// Friends implements bot.Platform, re-reading the contact list when the
// copy is more than a minute old, so that a remark just set on the phone
// counts.
func (p *Platform) Friends(ctx context.Context) ([]bot.Member, error) {
	var out []bot.Member
	err := p.do(ctx, func(o *owner) error {
		var err error
		out, err = o.listFriends()
		return err
	})
	return out, err
}

// Self implements bot.Platform.
func (p *Platform) Self(ctx context.Context) (bot.Member, error) {
	var out bot.Member
	err := p.do(ctx, func(o *owner) error {
		if o.sess == nil {
			return bot.ErrOffline
		}
		out = bot.Member{ID: bot.SelfID, Nick: o.sess.self.NickName}
		return nil
	})
	return out, err
}

// Rename implements bot.Renamer. Web WeChat marks renaming as deprecated,
// so the name is read back: only a name that changed counts.
func (p *Platform) Rename(ctx context.Context, g bot.GroupID, name string) error {
	return p.do(ctx, func(o *owner) error { return o.rename(g, name) })
}

// Invite implements bot.Inviter for friends of the bot account. Small
// groups get them at once; groups of 40 or more get an invitation card.
// The member list is read back: anyone who does not appear in it yet
// makes Invite fail, and joins that come later are reported as events.
func (p *Platform) Invite(ctx context.Context, g bot.GroupID, users ...bot.UserID) error {
	return p.do(ctx, func(o *owner) error { return o.invite(g, users) })
}

// CreateGroup implements bot.GroupCreator. WeChat allows only a few new
// groups an hour and may answer success without creating one; that is
// reported as an error.
func (p *Platform) CreateGroup(ctx context.Context, name string, users ...bot.UserID) (bot.GroupID, error) {
	var id bot.GroupID
	err := p.do(ctx, func(o *owner) error {
		var err error
		id, err = o.createGroup(name, users)
		return err
	})
	return id, err
}

// AcceptFriend implements bot.FriendAccepter for requests of the current
// session.
func (p *Platform) AcceptFriend(ctx context.Context, req bot.FriendRequest) (bot.UserID, error) {
	var id bot.UserID
	err := p.do(ctx, func(o *owner) error {
		var err error
		id, err = o.acceptFriend(req)
		return err
	})
	return id, err
}

// Web WeChat cannot remove members or dissolve groups (the call exists
// but WeChat ignores it), so Platform implements neither bot.Kicker nor
// bot.Dissolver and the runtime asks operators to do it on the phone.
var (
	_ bot.Platform       = (*Platform)(nil)
	_ bot.RuntimeUser    = (*Platform)(nil)
	_ bot.Renamer        = (*Platform)(nil)
	_ bot.Inviter        = (*Platform)(nil)
	_ bot.GroupCreator   = (*Platform)(nil)
	_ bot.FriendAccepter = (*Platform)(nil)
)
