package bot

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Priority orders outgoing sends: lower values go first.
type Priority uint8

// Send priorities, most urgent first.
const (
	PrioModeration Priority = iota // moderation notices and alerts
	PrioReply                      // command replies and confirmations
	PrioWelcome                    // welcome and goodbye lines
	PrioBulk                       // reports, reminders, broadcasts
	numPriorities
)

func (p Priority) String() string {
	switch p {
	case PrioModeration:
		return "moderation"
	case PrioReply:
		return "reply"
	case PrioWelcome:
		return "welcome"
	case PrioBulk:
		return "bulk"
	}
	return "unknown"
}

// PacerConfig tunes the outbound pacer. Accounts get banned for bursts, so
// the defaults look like a careful human: about one send every 3 s on
// average, short bursts of 3, 3 s between sends to the same group, and up
// to 1.5 s of random jitter.
type PacerConfig struct {
	// Interval is the average time between sends (the token bucket's rate).
	Interval Duration `yaml:"interval"`
	// Burst is how many sends may go out back to back after a quiet spell.
	Burst int `yaml:"burst"`
	// Jitter is the maximum random delay added before each send.
	Jitter Duration `yaml:"jitter"`
	// GroupSpacing is the minimum time between two sends to the same chat.
	GroupSpacing Duration `yaml:"group_spacing"`
	// MaxAttempts is how often a send is tried before it is dropped.
	MaxAttempts int `yaml:"max_attempts"`
	// BackoffBase and BackoffMax bound the exponential backoff after a rate
	// limit (WeChat 1205) or a network error.
	BackoffBase Duration `yaml:"backoff_base"`
	BackoffMax  Duration `yaml:"backoff_max"`
}

// DefaultPacerConfig returns the defaults described on PacerConfig.
func DefaultPacerConfig() PacerConfig {
	return PacerConfig{
		Interval: Duration(3 * time.Second), Burst: 3, Jitter: Duration(1500 * time.Millisecond),
		GroupSpacing: Duration(3 * time.Second), MaxAttempts: 6,
		BackoffBase: Duration(5 * time.Second), BackoffMax: Duration(10 * time.Minute),
	}
}

// Validate checks the pacer settings.
func (c PacerConfig) Validate() error {
	switch {
	case c.Interval < 0 || c.Jitter < 0 || c.GroupSpacing < 0:
		return &FieldError{Path: "pacer", Msg: "durations must not be negative"}
	case c.Burst < 1:
		return &FieldError{Path: "pacer.burst", Msg: "must be at least 1"}
	case c.MaxAttempts < 1:
		return &FieldError{Path: "pacer.max_attempts", Msg: "must be at least 1"}
	case c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase:
		return &FieldError{Path: "pacer.backoff_base", Msg: "must be positive and not above backoff_max"}
	}
	return nil
}

// outItem is one queued send.
type outItem struct {
	to        Target
	text      string
	file      *File
	prio      Priority
	attempts  int
	notBefore time.Time
	done      func(error)
}

// SendResult reports a finished send to observers (recording, metrics).
type SendResult struct {
	To       Target
	Text     string
	File     *File
	Prio     Priority
	Attempts int
	Err      error
	At       time.Time
}

// Pacer is the one queue every outgoing send goes through: a token bucket
// with jitter, a minimum spacing per chat, priorities, retry with
// exponential backoff on rate limits and network errors, and a safe mode
// that holds everything.
type Pacer struct {
	cfg      PacerConfig
	platform Platform
	clock    Clock
	log      *slog.Logger
	observe  func(SendResult)

	mu       sync.Mutex
	queues   [numPriorities][]*outItem
	limiter  *rate.Limiter
	lastSent map[Target]time.Time
	safe     bool
	offline  bool
	wake     chan struct{}
	rng      *rand.Rand
	stats    PacerStats
	queued   func(SendResult)
}

// PacerStats are counters for status and metrics.
type PacerStats struct {
	Sent      [numPriorities]int64
	Failed    int64
	Retries   int64
	Backoffs  int64
	LastErr   string
	LastErrAt time.Time
}

func newPacer(cfg PacerConfig, p Platform, clock Clock, log *slog.Logger, observe func(SendResult)) *Pacer {
	pc := &Pacer{
		cfg: cfg, platform: p, clock: clock, log: log, observe: observe,
		lastSent: map[Target]time.Time{},
		wake:     make(chan struct{}, 1),
		rng:      rand.New(rand.NewPCG(uint64(clock.Now().UnixNano()), 0x9e3779b97f4a7c15)),
	}
	pc.limiter = rate.NewLimiter(rate.Every(cfg.Interval.D()), cfg.Burst)
	return pc
}

// setConfig applies new pacer settings (config reload).
func (p *Pacer) setConfig(cfg PacerConfig) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg = cfg
	now := p.clock.Now()
	p.limiter.SetLimitAt(now, rate.Every(cfg.Interval.D()))
	p.limiter.SetBurstAt(now, cfg.Burst)
}

// Enqueue queues a send; done, if set, is called with the final result.
func (p *Pacer) Enqueue(to Target, text string, file *File, prio Priority, done func(error)) {
	if prio >= numPriorities {
		prio = PrioBulk
	}
	p.mu.Lock()
	p.queues[prio] = append(p.queues[prio], &outItem{to: to, text: text, file: file, prio: prio, done: done})
	f := p.queued
	p.mu.Unlock()
	if f != nil {
		f(SendResult{To: to, Text: text, File: file, Prio: prio, At: p.clock.Now()})
	}
	p.poke()
}

// OnEnqueue sets f to be told about every send as it is queued (nil
// removes it). Paced sends reach the platform after direct calls the bot
// makes later (a rename, a dissolve); the demo uses this to show what the
// bot decided in the order it decided it. f runs on the caller's
// goroutine, outside the pacer's lock.
func (p *Pacer) OnEnqueue(f func(SendResult)) {
	p.mu.Lock()
	p.queued = f
	p.mu.Unlock()
}

func (p *Pacer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// SetSafeMode holds (on) or releases (off) all sends and returns the queue depth.
func (p *Pacer) SetSafeMode(on bool) int {
	p.mu.Lock()
	p.safe = on
	n := p.depthLocked()
	p.mu.Unlock()
	p.poke()
	return n
}

// SafeMode reports whether sends are held.
func (p *Pacer) SafeMode() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.safe
}

// SetOffline holds sends while the platform session is down.
func (p *Pacer) SetOffline(off bool) {
	p.mu.Lock()
	p.offline = off
	p.mu.Unlock()
	p.poke()
}

// Depth returns the number of queued sends.
func (p *Pacer) Depth() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.depthLocked()
}

// DepthByPriority returns the queue depth per priority.
func (p *Pacer) DepthByPriority() [numPriorities]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var d [numPriorities]int
	for i := range p.queues {
		d[i] = len(p.queues[i])
	}
	return d
}

// Stats returns a copy of the counters.
func (p *Pacer) Stats() PacerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *Pacer) depthLocked() int {
	n := 0
	for _, q := range p.queues {
		n += len(q)
	}
	return n
}

// next picks the most urgent item that may go now, and otherwise says how
// long to wait. Items for a chat still inside its spacing are passed over
// so one busy group does not hold up the others.
func (p *Pacer) next(now time.Time, maxPrio Priority) (*outItem, time.Duration, bool) {
	if p.safe || p.offline {
		return nil, 0, false
	}
	wait := time.Duration(-1)
	for prio := Priority(0); prio <= maxPrio && prio < numPriorities; prio++ {
		q := p.queues[prio]
		for i, it := range q {
			ready := it.notBefore
			if last, ok := p.lastSent[it.to]; ok {
				if t := last.Add(p.cfg.GroupSpacing.D()); t.After(ready) {
					ready = t
				}
			}
			if !ready.After(now) {
				p.queues[prio] = append(q[:i:i], q[i+1:]...)
				return it, 0, true
			}
			if d := ready.Sub(now); wait < 0 || d < wait {
				wait = d
			}
		}
	}
	if wait < 0 {
		return nil, 0, false
	}
	return nil, wait, true
}

// Run sends queued items until ctx is done. It is the pacer's only sender.
func (p *Pacer) Run(ctx context.Context) {
	for {
		if ctx.Err() != nil {
			return
		}
		if !p.step(ctx, numPriorities-1, true) {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
			}
		}
	}
}

// step sends at most one item of priority <= maxPrio, sleeping as needed
// when wait is true. It reports whether there was anything to do.
func (p *Pacer) step(ctx context.Context, maxPrio Priority, wait bool) bool {
	p.mu.Lock()
	now := p.clock.Now()
	it, delay, any := p.next(now, maxPrio)
	if !any {
		p.mu.Unlock()
		return false
	}
	if it == nil {
		p.mu.Unlock()
		if wait {
			p.sleep(ctx, delay)
		}
		return wait
	}
	// The token bucket: reserve now, wait out the delay plus jitter.
	r := p.limiter.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if j := p.cfg.Jitter.D(); j > 0 {
		d += time.Duration(p.rng.Int64N(int64(j)))
	}
	p.mu.Unlock()
	if wait && d > 0 {
		if !p.clock.Sleep(d, ctx.Done()) {
			p.requeueFront(it)
			return true
		}
	}
	p.send(ctx, it)
	return true
}

// sleep waits d, returning early (false) when ctx ends or new work is
// queued, so an urgent reply never waits behind another chat's backoff.
func (p *Pacer) sleep(ctx context.Context, d time.Duration) bool {
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-p.wake:
		case <-finished:
			return
		}
		close(stop)
	}()
	ok := p.clock.Sleep(d, stop)
	close(finished)
	return ok
}

func (p *Pacer) requeueFront(it *outItem) {
	p.mu.Lock()
	p.queues[it.prio] = append([]*outItem{it}, p.queues[it.prio]...)
	p.mu.Unlock()
}

func (p *Pacer) send(ctx context.Context, it *outItem) {
	it.attempts++
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = errors.New("platform send panicked")
				p.log.Error("send panicked", "panic", r)
			}
		}()
		if it.file != nil {
			err = p.platform.SendFile(ctx, it.to, *it.file)
		} else {
			err = p.platform.SendText(ctx, it.to, it.text)
		}
	}()
	now := p.clock.Now()
	p.mu.Lock()
	p.lastSent[it.to] = now
	if err != nil && Retryable(err) && it.attempts < p.cfg.MaxAttempts {
		backoff := p.cfg.BackoffBase.D() << (it.attempts - 1)
		if backoff > p.cfg.BackoffMax.D() || backoff <= 0 {
			backoff = p.cfg.BackoffMax.D()
		}
		it.notBefore = now.Add(backoff)
		p.stats.Retries++
		if errors.Is(err, ErrRateLimited) {
			p.stats.Backoffs++
			// A rate limit applies to the account, not the chat: hold every
			// chat by pushing the bucket back.
			p.limiter.ReserveN(now, p.cfg.Burst)
		}
		p.queues[it.prio] = append([]*outItem{it}, p.queues[it.prio]...)
		p.stats.LastErr, p.stats.LastErrAt = err.Error(), now
		p.mu.Unlock()
		p.log.Warn("send failed, will retry", "target", it.to.String(), "attempt", it.attempts, "backoff", backoff, "err", err)
		return
	}
	if err != nil {
		p.stats.Failed++
		p.stats.LastErr, p.stats.LastErrAt = err.Error(), now
	} else {
		p.stats.Sent[it.prio]++
	}
	p.mu.Unlock()
	if err != nil {
		p.log.Error("send dropped", "target", it.to.String(), "attempts", it.attempts, "err", err)
	}
	if it.done != nil {
		it.done(err)
	}
	if p.observe != nil {
		p.observe(SendResult{To: it.to, Text: it.text, File: it.file, Prio: it.prio, Attempts: it.attempts, Err: err, At: now})
	}
}

// Drain sends everything that may go now, in priority order, without
// sleeping: the synchronous test harness uses it after every step, so
// golden scenarios see sends in the order the pacer would make them.
// Items waiting for a backoff stay queued.
func (p *Pacer) Drain(ctx context.Context) {
	for {
		p.mu.Lock()
		if p.safe || p.offline {
			p.mu.Unlock()
			return
		}
		var it *outItem
		now := p.clock.Now()
		for prio := range p.queues {
			for i, x := range p.queues[prio] {
				if !x.notBefore.After(now) {
					p.queues[prio] = append(p.queues[prio][:i:i], p.queues[prio][i+1:]...)
					it = x
					break
				}
			}
			if it != nil {
				break
			}
		}
		p.mu.Unlock()
		if it == nil {
			return
		}
		p.send(ctx, it)
	}
}

// FlushUrgent sends the queued moderation notices and command replies at
// shutdown, pacing them but giving up when ctx ends; bulk and welcome
// sends are dropped with a log line.
func (p *Pacer) FlushUrgent(ctx context.Context) {
	for ctx.Err() == nil {
		if !p.step(ctx, PrioReply, true) {
			break
		}
	}
	p.mu.Lock()
	dropped := len(p.queues[PrioWelcome]) + len(p.queues[PrioBulk])
	left := len(p.queues[PrioModeration]) + len(p.queues[PrioReply])
	p.mu.Unlock()
	if dropped+left > 0 {
		p.log.Warn("sends not delivered at shutdown", "urgent", left, "other", dropped)
	}
}
