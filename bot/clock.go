package bot

import (
	"sort"
	"sync"
	"time"
)

// Clock is the runtime's source of time. Production uses SystemClock; tests
// use FakeClock and move three days in microseconds.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, unless stopped.
	AfterFunc(d time.Duration, f func()) Cancel
	// Sleep blocks for d or until done is closed; it reports whether the
	// full duration passed.
	Sleep(d time.Duration, done <-chan struct{}) bool
}

// Cancel stops a pending AfterFunc; Stop reports whether it stopped it.
type Cancel interface{ Stop() bool }

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) Cancel { return time.AfterFunc(d, f) }

// Sleep waits for d or done.
func (SystemClock) Sleep(d time.Duration, done <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// FakeClock is a manually advanced Clock. AfterFunc callbacks run
// synchronously inside Advance/Set, in deadline order, so tests stay
// deterministic. Sleep returns immediately after advancing the clock by d,
// which keeps retry loops fast in tests.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	seq     int
	pending []*fakeTimer
}

type fakeTimer struct {
	c       *FakeClock
	at      time.Time
	seq     int
	f       func()
	stopped bool
}

// NewFakeClock returns a FakeClock set to start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f at Now()+d.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Cancel {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.pending = append(c.pending, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Sleep advances the clock by d and returns true.
func (c *FakeClock) Sleep(d time.Duration, done <-chan struct{}) bool {
	select {
	case <-done:
		return false
	default:
	}
	c.Advance(d)
	return true
}

// Advance moves the clock forward by d, firing due callbacks in order.
func (c *FakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never backwards), firing due callbacks in order;
// each callback sees Now() equal to its own deadline.
func (c *FakeClock) Set(t time.Time) {
	for {
		c.mu.Lock()
		if t.Before(c.now) {
			c.mu.Unlock()
			return
		}
		sort.SliceStable(c.pending, func(i, j int) bool {
			a, b := c.pending[i], c.pending[j]
			if !a.at.Equal(b.at) {
				return a.at.Before(b.at)
			}
			return a.seq < b.seq
		})
		var next *fakeTimer
		for len(c.pending) > 0 {
			p := c.pending[0]
			if p.stopped {
				c.pending = c.pending[1:]
				continue
			}
			if !p.at.After(t) {
				next = p
				c.pending = c.pending[1:]
			}
			break
		}
		if next == nil {
			c.now = t
			c.mu.Unlock()
			return
		}
		if next.at.After(c.now) {
			c.now = next.at
		}
		next.stopped = true
		c.mu.Unlock()
		next.f()
	}
}

// NextDeadline returns the earliest pending callback time, if any.
func (c *FakeClock) NextDeadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best time.Time
	found := false
	for _, p := range c.pending {
		if p.stopped {
			continue
		}
		if !found || p.at.Before(best) {
			best, found = p.at, true
		}
	}
	return best, found
}
