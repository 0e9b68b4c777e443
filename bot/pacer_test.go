package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// recPlatform records sends with the fake time; failures are scripted.
type recPlatform struct {
	mu    sync.Mutex
	clock Clock
	sends []recSend
	fail  []error
}

type recSend struct {
	at   time.Time
	to   Target
	text string
}

func (p *recPlatform) Name() string                                    { return "rec" }
func (p *recPlatform) Run(ctx context.Context, emit func(Event)) error { <-ctx.Done(); return nil }
func (p *recPlatform) SendText(ctx context.Context, to Target, text string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.fail) > 0 {
		err := p.fail[0]
		p.fail = p.fail[1:]
		if err != nil {
			return err
		}
	}
	p.sends = append(p.sends, recSend{p.clock.Now(), to, text})
	return nil
}
func (p *recPlatform) SendFile(ctx context.Context, to Target, f File) error { return nil }
func (p *recPlatform) Groups(ctx context.Context) ([]GroupInfo, error)       { return nil, nil }
func (p *recPlatform) Members(ctx context.Context, g GroupID) ([]Member, error) {
	return nil, nil
}
func (p *recPlatform) Friends(ctx context.Context) ([]Member, error) { return nil, nil }
func (p *recPlatform) Self(ctx context.Context) (Member, error)      { return Member{ID: SelfID}, nil }

func (p *recPlatform) got() []recSend {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recSend(nil), p.sends...)
}

func newTestPacer(cfg PacerConfig) (*Pacer, *recPlatform, *FakeClock) {
	clock := NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	pl := &recPlatform{clock: clock}
	return newPacer(cfg, pl, clock, slog.New(slog.NewTextHandler(io.Discard, nil)), nil), pl, clock
}

// runUntilEmpty runs the pacer's worker until every item was sent or dropped.
func runUntilEmpty(t *testing.T, p *Pacer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for p.Depth() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("pacer did not drain")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	p.poke()
	<-done
}

func TestPacerPriorityOrder(t *testing.T) {
	p, pl, _ := newTestPacer(DefaultPacerConfig())
	g := ToGroup("g1")
	p.Enqueue(g, "bulk", nil, PrioBulk, nil)
	p.Enqueue(ToGroup("g2"), "welcome", nil, PrioWelcome, nil)
	p.Enqueue(ToGroup("g3"), "reply", nil, PrioReply, nil)
	p.Enqueue(ToGroup("g4"), "moderation", nil, PrioModeration, nil)
	p.Drain(context.Background())
	var order []string
	for _, s := range pl.got() {
		order = append(order, s.text)
	}
	want := []string{"moderation", "reply", "welcome", "bulk"}
	if len(order) != 4 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] || order[3] != want[3] {
		t.Errorf("order = %v, want %v", order, want)
	}
}

func TestPacerRateAndSpacing(t *testing.T) {
	cfg := DefaultPacerConfig()
	cfg.Interval = Duration(2 * time.Second)
	cfg.Burst = 3
	cfg.Jitter = Duration(time.Second)
	cfg.GroupSpacing = Duration(5 * time.Second)
	p, pl, _ := newTestPacer(cfg)
	for i := 0; i < 6; i++ {
		p.Enqueue(ToGroup("busy"), "b", nil, PrioReply, nil)
	}
	for i := 0; i < 6; i++ {
		p.Enqueue(ToGroup(GroupID("other"+string(rune('a'+i)))), "o", nil, PrioBulk, nil)
	}
	runUntilEmpty(t, p)
	sends := pl.got()
	if len(sends) != 12 {
		t.Fatalf("sent %d, want 12", len(sends))
	}
	last := map[Target]time.Time{}
	for _, s := range sends {
		if prev, ok := last[s.to]; ok && s.at.Sub(prev) < cfg.GroupSpacing.D() {
			t.Errorf("two sends to %v only %v apart", s.to, s.at.Sub(prev))
		}
		last[s.to] = s.at
	}
	// Over 12 sends the token bucket allows at most burst + elapsed/interval.
	span := sends[len(sends)-1].at.Sub(sends[0].at)
	if allowed := cfg.Burst + int(span/cfg.Interval.D()); len(sends) > allowed+1 {
		t.Errorf("12 sends in %v exceed the bucket (allowed %d)", span, allowed)
	}
	// Other chats are not held up behind the busy one's spacing: some bulk
	// sends happen before the last busy reply.
	firstOther, lastBusy := time.Time{}, time.Time{}
	for _, s := range sends {
		if s.to.Group == "busy" {
			lastBusy = s.at
		} else if firstOther.IsZero() {
			firstOther = s.at
		}
	}
	if !firstOther.Before(lastBusy) {
		t.Error("bulk sends to other chats waited for the busy chat's spacing")
	}
}

func TestPacerBackoffOnRateLimit(t *testing.T) {
	cfg := DefaultPacerConfig()
	cfg.Jitter = 0
	cfg.BackoffBase = Duration(10 * time.Second)
	p, pl, clock := newTestPacer(cfg)
	pl.fail = []error{ErrRateLimited, ErrNetwork}
	start := clock.Now()
	var result error = errors.New("not called")
	p.Enqueue(ToGroup("g"), "hello", nil, PrioReply, func(err error) { result = err })
	runUntilEmpty(t, p)
	sends := pl.got()
	if len(sends) != 1 || result != nil {
		t.Fatalf("sends = %v, result = %v", sends, result)
	}
	// First retry after 10s, second after 20s more.
	if d := sends[0].at.Sub(start); d < 30*time.Second {
		t.Errorf("delivered after %v, want at least 30s of backoff", d)
	}
	st := p.Stats()
	if st.Retries != 2 || st.Backoffs != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPacerDropsAfterMaxAttempts(t *testing.T) {
	cfg := DefaultPacerConfig()
	cfg.MaxAttempts = 2
	p, pl, _ := newTestPacer(cfg)
	pl.fail = []error{ErrNetwork, ErrNetwork, ErrNetwork}
	var result error
	p.Enqueue(ToGroup("g"), "x", nil, PrioReply, func(err error) { result = err })
	runUntilEmpty(t, p)
	if !errors.Is(result, ErrNetwork) {
		t.Errorf("result = %v, want ErrNetwork", result)
	}
	if p.Stats().Failed != 1 {
		t.Errorf("failed = %d", p.Stats().Failed)
	}
	// A non-retryable error is dropped at once.
	pl.fail = []error{ErrUnknownTarget}
	p.Enqueue(ToGroup("g"), "y", nil, PrioReply, func(err error) { result = err })
	p.Drain(context.Background())
	if !errors.Is(result, ErrUnknownTarget) {
		t.Errorf("result = %v, want ErrUnknownTarget", result)
	}
}

func TestPacerSafeModeHolds(t *testing.T) {
	p, pl, _ := newTestPacer(DefaultPacerConfig())
	p.SetSafeMode(true)
	p.Enqueue(ToGroup("g"), "held", nil, PrioModeration, nil)
	p.Drain(context.Background())
	if len(pl.got()) != 0 {
		t.Fatal("safe mode let a send through")
	}
	if n := p.SetSafeMode(false); n != 1 {
		t.Errorf("queued = %d, want 1", n)
	}
	p.Drain(context.Background())
	if len(pl.got()) != 1 {
		t.Error("send not released after safe mode off")
	}
}

func TestPacerFlushUrgentDropsBulk(t *testing.T) {
	p, pl, _ := newTestPacer(DefaultPacerConfig())
	p.Enqueue(ToGroup("a"), "bulk", nil, PrioBulk, nil)
	p.Enqueue(ToGroup("b"), "reply", nil, PrioReply, nil)
	p.Enqueue(ToGroup("c"), "mod", nil, PrioModeration, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.FlushUrgent(ctx)
	got := pl.got()
	if len(got) != 2 || got[0].text != "mod" || got[1].text != "reply" {
		t.Errorf("flushed %v", got)
	}
}

func TestPacerOnEnqueue(t *testing.T) {
	p, pl, _ := newTestPacer(DefaultPacerConfig())
	var queued []string
	p.OnEnqueue(func(r SendResult) {
		queued = append(queued, r.Text)
		if len(pl.got()) != 0 {
			t.Errorf("%q: told after a send, not when queued", r.Text)
		}
	})
	p.Enqueue(ToGroup("g"), "bulk", nil, PrioBulk, nil)
	p.Enqueue(ToGroup("g"), "urgent", nil, PrioModeration, nil)
	if len(queued) != 2 || queued[0] != "bulk" || queued[1] != "urgent" {
		t.Fatalf("queued %q, want bulk then urgent", queued)
	}
	p.Drain(context.Background())
	if got := pl.got(); len(got) != 2 || got[0].text != "urgent" {
		t.Fatalf("sent %+v, want urgent first", got)
	}
	p.OnEnqueue(nil)
	p.Enqueue(ToGroup("g"), "after", nil, PrioBulk, nil)
	if len(queued) != 2 {
		t.Errorf("told after OnEnqueue(nil): %q", queued)
	}
}
