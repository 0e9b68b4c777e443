package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts standard five-field specs, descriptors such as @daily
// and @weekly, and a CRON_TZ=Zone prefix.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a cron spec the way the scheduler will run it.
func ParseCron(spec string) (cron.Schedule, error) {
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("bad cron spec %q: %w", spec, err)
	}
	return s, nil
}

// TimerHandler is implemented by plugins that own one-shot timers.
type TimerHandler interface {
	HandleTimer(ctx context.Context, t TimerRecord) error
}

// TimerMissHandler is told about timers dropped under MissedSkip, and
// describes held timers to operators.
type TimerMissHandler interface {
	TimerMissed(ctx context.Context, t TimerRecord) error
}

// TimerDescriber describes a timer for an operator confirmation request.
type TimerDescriber interface {
	DescribeTimer(t TimerRecord, lang Lang) string
}

// TimerSpec asks for a one-shot timer.
type TimerSpec struct {
	// ID makes At idempotent: a timer with the same ID is replaced. Empty
	// IDs are generated.
	ID      string
	Kind    string
	Group   GroupID
	Due     time.Time
	Payload []byte
	// Missed says what to do if the bot is not running at Due.
	Missed MissedPolicy
}

// Scheduler runs persisted one-shot timers and recurring cron jobs from one
// clock-driven loop. Deadlines are absolute times in the store, re-armed at
// start. robfig/cron parses the specs (with CRON_TZ and the configured zone)
// and wraps every job with Recover and SkipIfStillRunning; the loop itself
// is ours so the fake clock drives exactly the code production runs.
type Scheduler struct {
	rt  *Runtime
	log *slog.Logger

	mu      sync.Mutex
	timers  map[string]*armedTimer
	crons   map[string]*cronEntry
	started time.Time
	stopped bool
	running sync.WaitGroup
}

type armedTimer struct {
	rec    TimerRecord
	cancel Cancel
	tries  int
}

type cronEntry struct {
	name   string
	owner  string
	spec   string
	sched  cron.Schedule
	job    cron.Job
	cancel Cancel
}

func newScheduler(rt *Runtime) *Scheduler {
	return &Scheduler{rt: rt, log: rt.log.With("component", "scheduler"), timers: map[string]*armedTimer{}, crons: map[string]*cronEntry{}}
}

type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug(msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error(msg, append([]any{"err", err}, kv...)...)
}

// start loads persisted timers and applies the missed policy to those whose
// deadline passed while the bot was not running.
func (s *Scheduler) start(ctx context.Context) error {
	recs, err := s.rt.store.Timers(ctx)
	if err != nil {
		return fmt.Errorf("load timers: %w", err)
	}
	now := s.rt.clock.Now()
	s.mu.Lock()
	s.started = now
	s.mu.Unlock()
	grace := s.rt.Config().Scheduler.MissedGrace.D()
	sort.Slice(recs, func(i, j int) bool { return recs[i].Due.Before(recs[j].Due) })
	for _, rec := range recs {
		switch {
		case rec.Held:
			s.log.Info("timer still held for confirmation", "timer_id", rec.ID, "owner", rec.Owner)
			s.mu.Lock()
			s.timers[rec.ID] = &armedTimer{rec: rec}
			s.mu.Unlock()
		case rec.Due.Before(now.Add(-grace)):
			if err := s.missed(ctx, rec); err != nil {
				s.log.Error("missed timer handling failed", "timer_id", rec.ID, "err", err)
			}
		default:
			s.arm(rec)
		}
	}
	return nil
}

func (s *Scheduler) missed(ctx context.Context, rec TimerRecord) error {
	log := s.log.With("timer_id", rec.ID, "owner", rec.Owner, "kind", rec.Kind, "due", rec.Due)
	switch rec.Missed {
	case MissedRun:
		log.Info("timer missed while offline, running now")
		s.arm(rec)
		return nil
	case MissedSkip:
		log.Info("timer missed while offline, skipped")
		if err := s.rt.store.DeleteTimer(ctx, rec.ID); err != nil {
			return err
		}
		if h, ok := s.rt.plugin(rec.Owner).(TimerMissHandler); ok {
			return s.rt.safely(ctx, "timer_missed", rec.Owner, func() error { return h.TimerMissed(ctx, rec) })
		}
		return nil
	default: // MissedConfirm: destructive steps never run late on their own.
		log.Warn("destructive timer missed while offline, waiting for operator confirmation")
		rec.Held = true
		if err := s.rt.store.PutTimer(ctx, rec); err != nil {
			return err
		}
		s.mu.Lock()
		s.timers[rec.ID] = &armedTimer{rec: rec}
		s.mu.Unlock()
		desc := ""
		lang := s.rt.langFor(rec.Group)
		if d, ok := s.rt.plugin(rec.Owner).(TimerDescriber); ok {
			desc = d.DescribeTimer(rec, lang)
		}
		if desc == "" {
			desc = fmt.Sprintf("%s/%s", rec.Owner, rec.Kind)
		}
		when := rec.Due.In(s.rt.Config().Location).Format("2006-01-02 15:04")
		action := s.rt.text("", lang, "timer.missed", map[string]string{"action": desc, "due": when})
		_, err := s.rt.RequestConfirmation(ctx, ConfirmRequest{
			Owner: "", Kind: confirmKindTimer, Group: rec.Group, Action: action, Payload: []byte(rec.ID),
		})
		if h, ok := s.rt.plugin(rec.Owner).(TimerMissHandler); ok {
			_ = s.rt.safely(ctx, "timer_missed", rec.Owner, func() error { return h.TimerMissed(ctx, rec) })
		}
		return err
	}
}

// isHeld reports whether timer id exists and waits for a confirmation.
func (s *Scheduler) isHeld(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.timers[id]
	return ok && at.rec.Held
}

// releaseHeld fires a held timer after an operator confirmed it.
func (s *Scheduler) releaseHeld(ctx context.Context, id string) error {
	s.mu.Lock()
	at, ok := s.timers[id]
	s.mu.Unlock()
	if !ok || !at.rec.Held {
		return Errorf("timer_gone", "%s", s.rt.text("", s.rt.Config().Language, "timer.gone", nil))
	}
	rec := at.rec
	rec.Held = false
	rec.Due = s.rt.clock.Now()
	if err := s.rt.store.PutTimer(ctx, rec); err != nil {
		return err
	}
	s.arm(rec)
	return nil
}

// arm schedules rec on the clock.
func (s *Scheduler) arm(rec TimerRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	if old, ok := s.timers[rec.ID]; ok && old.cancel != nil {
		old.cancel.Stop()
	}
	at := &armedTimer{rec: rec}
	if prev, ok := s.timers[rec.ID]; ok {
		at.tries = prev.tries
	}
	d := rec.Due.Sub(s.rt.clock.Now())
	if d < 0 {
		d = 0
	}
	id := rec.ID
	at.cancel = s.rt.clock.AfterFunc(d, func() { s.fire(id) })
	s.timers[rec.ID] = at
}

func (s *Scheduler) fire(id string) {
	s.mu.Lock()
	at, ok := s.timers[id]
	if !ok || s.stopped || at.rec.Held {
		s.mu.Unlock()
		return
	}
	s.running.Add(1)
	s.mu.Unlock()
	defer s.running.Done()

	ctx := s.rt.baseCtx()
	rec := at.rec
	h, ok := s.rt.plugin(rec.Owner).(TimerHandler)
	if !ok {
		s.log.Error("timer owner cannot handle timers", "timer_id", id, "owner", rec.Owner)
		return
	}
	var err error
	s.rt.serialize(func() {
		err = s.rt.safely(ctx, "timer", rec.Owner, func() error { return h.HandleTimer(ctx, rec) })
	})
	s.mu.Lock()
	cur, still := s.timers[id]
	replaced := still && cur != at
	s.mu.Unlock()
	if replaced {
		return // the handler re-armed the same id (e.g. a reminder chain)
	}
	if err != nil {
		at.tries++
		backoff := time.Minute << min(at.tries-1, 6)
		s.log.Error("timer failed, will retry", "timer_id", id, "owner", rec.Owner, "tries", at.tries, "backoff", backoff, "err", err)
		rec.Due = s.rt.clock.Now().Add(backoff)
		if perr := s.rt.store.PutTimer(ctx, rec); perr != nil {
			s.log.Error("timer retry not persisted", "timer_id", id, "err", perr)
		}
		s.arm(rec)
		return
	}
	s.mu.Lock()
	delete(s.timers, id)
	s.mu.Unlock()
	if err := s.rt.store.DeleteTimer(ctx, id); err != nil {
		s.log.Error("fired timer not deleted", "timer_id", id, "err", err)
	}
}

// at persists and arms a timer for owner.
func (s *Scheduler) at(ctx context.Context, owner string, spec TimerSpec) (string, error) {
	if spec.ID == "" {
		// Sequential ids are short enough to type ("/remind cancel 3") and
		// keep golden scenarios deterministic.
		var seq int
		err := s.rt.store.KV(runtimeNS).Update(ctx, "timer/seq", func(old []byte) ([]byte, error) {
			if old != nil {
				seq, _ = strconv.Atoi(string(old))
			}
			seq++
			return []byte(strconv.Itoa(seq)), nil
		})
		if err != nil {
			return "", fmt.Errorf("timer id: %w", err)
		}
		spec.ID = fmt.Sprintf("%s/%s/%d", owner, spec.Kind, seq)
	}
	if spec.Missed == 0 {
		spec.Missed = MissedRun
	}
	rec := TimerRecord{ID: spec.ID, Owner: owner, Kind: spec.Kind, Group: spec.Group, Due: spec.Due, Payload: spec.Payload, Missed: spec.Missed, Created: s.rt.clock.Now()}
	if err := s.rt.store.PutTimer(ctx, rec); err != nil {
		return "", fmt.Errorf("persist timer: %w", err)
	}
	s.arm(rec)
	return rec.ID, nil
}

func (s *Scheduler) cancel(ctx context.Context, id string) error {
	s.mu.Lock()
	if at, ok := s.timers[id]; ok {
		if at.cancel != nil {
			at.cancel.Stop()
		}
		delete(s.timers, id)
	}
	s.mu.Unlock()
	return s.rt.store.DeleteTimer(ctx, id)
}

// pending returns the armed and held timers of owner.
func (s *Scheduler) pending(owner string) []TimerRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TimerRecord
	for _, at := range s.timers {
		if owner == "" || at.rec.Owner == owner {
			out = append(out, at.rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out
}

// addCron registers (or replaces) a recurring job named name.
func (s *Scheduler) addCron(owner, name, spec string, fn func(ctx context.Context)) error {
	sched, err := ParseCron(spec)
	if err != nil {
		return err
	}
	logger := cronLogger{log: s.log.With("cron", name, "owner", owner)}
	inner := cron.FuncJob(func() {
		ctx := s.rt.baseCtx()
		// Recover below logs the panic; this keeps the stack in our log too.
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("cron job panicked", "cron", name, "owner", owner, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		s.rt.serialize(func() { fn(ctx) })
	})
	job := cron.NewChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)).Then(inner)
	e := &cronEntry{name: name, owner: owner, spec: spec, sched: sched, job: job}
	s.mu.Lock()
	if old, ok := s.crons[name]; ok && old.cancel != nil {
		old.cancel.Stop()
	}
	s.crons[name] = e
	s.mu.Unlock()
	s.armCron(e)
	return nil
}

func (s *Scheduler) removeCron(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.crons[name]; ok {
		if e.cancel != nil {
			e.cancel.Stop()
		}
		delete(s.crons, name)
	}
}

func (s *Scheduler) armCron(e *cronEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.crons[e.name] != e {
		return
	}
	now := s.rt.clock.Now()
	next := e.sched.Next(now.In(s.rt.Config().Location))
	if next.IsZero() {
		return
	}
	e.cancel = s.rt.clock.AfterFunc(next.Sub(now), func() {
		if s.rt.sync {
			e.job.Run()
		} else {
			s.running.Add(1)
			go func() {
				defer s.running.Done()
				e.job.Run()
			}()
		}
		s.armCron(e)
	})
}

// stop cancels everything and waits for running jobs until ctx ends.
func (s *Scheduler) stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	for _, at := range s.timers {
		if at.cancel != nil {
			at.cancel.Stop()
		}
	}
	for _, e := range s.crons {
		if e.cancel != nil {
			e.cancel.Stop()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("scheduler: jobs still running at shutdown")
	}
}
