package countdown

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/internal/failpoint"
)

// Timers of a lifecycle, one of each kind per group, named
// countdown/<group>/<kind>; the payload is the lifecycle id, so a timer
// left over from an earlier lifecycle is recognised and ignored.
//
//	remind   the next reminder (MissedRun: a missed one is sent late,
//	         several missed ones collapse into one)
//	deadline the deadline (MissedConfirm: never taken late on its own)
//	expire   the confirmation code of a request lapses
//	verify   a dissolve the platform reported done must be seen by now
//	retry    another dissolve call after a transient error (MissedConfirm)
//	run      run the lifecycle again after an internal error
func timerID(g bot.GroupID, kind string) string { return "countdown/" + string(g) + "/" + kind }

func (p *Plugin) setTimer(ctx context.Context, lc *Lifecycle, kind string, due time.Time, missed bot.MissedPolicy) error {
	_, err := p.env.At(ctx, bot.TimerSpec{ID: timerID(lc.Group, kind), Kind: kind, Group: lc.Group, Due: due, Payload: []byte(lc.ID), Missed: missed})
	return err
}

func (p *Plugin) cancelTimers(ctx context.Context, g bot.GroupID, kinds ...string) {
	for _, k := range kinds {
		if err := p.env.CancelTimer(ctx, timerID(g, k)); err != nil {
			p.env.Log.Warn("timer not canceled", "group_id", string(g), "kind", k, "err", err)
		}
	}
}

// timer returns the scheduler's armed or held timer of that kind.
func (p *Plugin) timer(g bot.GroupID, kind string) (bot.TimerRecord, bool) {
	id := timerID(g, kind)
	for _, t := range p.env.Timers() {
		if t.ID == id {
			return t, true
		}
	}
	return bot.TimerRecord{}, false
}

// ensureTimer arms the timer unless the scheduler already has it for this
// lifecycle at that time (armed, or held for confirmation: a held timer
// must not be replaced by an armed one).
func (p *Plugin) ensureTimer(ctx context.Context, lc *Lifecycle, kind string, due time.Time, missed bot.MissedPolicy) error {
	if t, ok := p.timer(lc.Group, kind); ok && string(t.Payload) == lc.ID && (t.Held || t.Due.Equal(due)) {
		return nil
	}
	return p.setTimer(ctx, lc, kind, due, missed)
}

// armTimers makes sure a counting or postponed lifecycle has its deadline
// and next reminder timers.
func (p *Plugin) armTimers(ctx context.Context, lc *Lifecycle) error {
	switch lc.State {
	case StateCounting:
		if err := p.ensureTimer(ctx, lc, "deadline", lc.Deadline, bot.MissedConfirm); err != nil {
			return err
		}
		for _, r := range lc.Reminders {
			if r.Sent.IsZero() {
				return p.ensureTimer(ctx, lc, "remind", r.Due, bot.MissedRun)
			}
		}
		if _, ok := p.timer(lc.Group, "remind"); ok {
			return p.env.CancelTimer(ctx, timerID(lc.Group, "remind"))
		}
	case StateFrozen:
		if lc.Waiting {
			return p.ensureTimer(ctx, lc, "deadline", lc.Deadline, bot.MissedConfirm)
		}
	}
	return nil
}

// HandleTimer implements bot.TimerHandler.
func (p *Plugin) HandleTimer(ctx context.Context, t bot.TimerRecord) error {
	lc, err := p.load(ctx, t.Group)
	if err != nil {
		return err
	}
	if lc == nil || lc.ID != string(t.Payload) {
		return nil // a timer of an earlier lifecycle
	}
	switch t.Kind {
	case "remind":
		return p.remind(ctx, lc)
	case "deadline":
		if lc.State != StateCounting && !(lc.State == StateFrozen && lc.Waiting) {
			return nil
		}
		if p.env.Now().Before(lc.Deadline) {
			return p.armTimers(ctx, lc)
		}
		return p.reachDeadline(ctx, lc)
	case "expire":
		if lc.State == StateConfirming {
			return p.lapse(ctx, lc)
		}
	case "verify":
		return p.verifyDissolve(ctx, lc)
	case "retry", "run":
		p.kick(lc.Group)
	}
	return nil
}

// remind sends the reminders that are due: one message even when several
// came due while the bot was down, with the real time left.
func (p *Plugin) remind(ctx context.Context, lc *Lifecycle) error {
	if lc.State != StateCounting {
		return nil
	}
	now := p.env.Now()
	// Reminders of a deadline that has already passed (the bot was down
	// over it) say nothing true any more: they are marked and dropped.
	over := !now.Before(lc.Deadline)
	var offsets []string
	lc, ok, err := p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error {
		last := -1
		for i, r := range lc.Reminders {
			if r.Sent.IsZero() && !r.Due.After(now) {
				last = i
			}
		}
		if last < 0 || lc.State != StateCounting {
			return errStale
		}
		offsets = offsets[:0]
		for i := range lc.Reminders {
			r := &lc.Reminders[i]
			if r.Sent.IsZero() && !r.Due.After(now) {
				r.Sent, r.Collapsed = now, over || i != last
				offsets = append(offsets, bot.FormatDuration(r.Offset, bot.LangEN))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !ok {
		if lc, err = p.load(ctx, lc.Group); err != nil || lc == nil {
			return err
		}
		return p.armTimers(ctx, lc)
	}
	if over {
		_, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Action: "countdown.remind",
			Detail: fmt.Sprintf("%d reminders not sent: the deadline passed while the bot was down", len(offsets)),
			Data:   map[string]string{"countdown": lc.ID, "offsets": strings.Join(offsets, ","), "sent": "false"}})
		return err
	}
	failpoint.Inject("countdown.remind.marked")
	g := lc.Group
	lang := p.env.Lang(g)
	left := bot.FormatDuration(lc.Deadline.Sub(now).Round(time.Minute), lang)
	vars := map[string]string{"when": p.when(lc.Deadline), "left": left, "group": p.groupName(lc)}
	if lc.Silent {
		p.env.NotifyOperators(ctx, p.env.T(p.env.Lang(""), "countdown.op.remind", vars), bot.PrioReply)
	} else {
		p.announce(ctx, g, p.env.T(lang, "countdown.remind", vars))
	}
	failpoint.Inject("countdown.remind.sent")
	detail := "reminder sent: " + bot.FormatDuration(lc.Deadline.Sub(now).Round(time.Minute), bot.LangEN) + " left"
	if len(offsets) > 1 {
		detail += " (" + strconv.Itoa(len(offsets)) + " reminders missed while the bot was down, sent as one)"
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.remind", Detail: detail,
		Data: map[string]string{"countdown": lc.ID, "offsets": strings.Join(offsets, ",")}}); err != nil {
		return err
	}
	return p.armTimers(ctx, lc)
}

// lapse ends a request nobody confirmed in time.
func (p *Plugin) lapse(ctx context.Context, lc *Lifecycle) error {
	lc, ok, err := p.transit(ctx, lc.Group, lc.ID, []State{StateConfirming}, StateCanceled, func(lc *Lifecycle) { lc.Canceled = lapsed })
	if err != nil || !ok {
		return err
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Action: "countdown.lapse", Detail: "request not confirmed in time; nothing was started",
		Data: map[string]string{"countdown": lc.ID, "trigger": lc.Trigger}}); err != nil {
		return err
	}
	if ok, err := p.mark(ctx, lc.Group, lc.ID, "lapse"); err != nil || !ok {
		return err
	}
	p.env.NotifyOperators(ctx, p.env.T(p.env.Lang(""), "countdown.op.expired", map[string]string{"group": p.groupName(lc)}), bot.PrioReply)
	return nil
}

// verifyDissolve runs when a dissolve the platform reported done should
// have been seen: if the group is still listed, a person must do it.
func (p *Plugin) verifyDissolve(ctx context.Context, lc *Lifecycle) error {
	if lc.State != StateDissolving {
		return nil
	}
	if gone, how := p.observedGone(ctx, lc.Group); gone {
		return p.dissolved(ctx, lc, how)
	}
	listed, err := p.listed(ctx, lc.Group)
	if err != nil {
		return err
	}
	if !listed {
		return p.dissolved(ctx, lc, "no longer listed by the platform")
	}
	_, ok, err := p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error { lc.Method = "task"; return nil })
	if err != nil || !ok {
		return err
	}
	lang := p.env.Lang("")
	p.env.NotifyOperators(ctx, p.env.T(lang, "countdown.op.verify", map[string]string{"group": p.groupName(lc),
		"after": bot.FormatDuration(p.cfg(lc.Group).VerifyAfter.D(), lang)}), bot.PrioReply)
	p.kick(lc.Group)
	return nil
}

// DescribeTimer implements bot.TimerDescriber, for the confirmation asked
// when a destructive timer came due while the bot was down.
func (p *Plugin) DescribeTimer(t bot.TimerRecord, lang bot.Lang) string {
	name := string(t.Group)
	if g, ok := p.env.Group(t.Group); ok {
		name = g.Name
	}
	switch t.Kind {
	case "deadline":
		return p.env.T(lang, "countdown.timer.deadline", map[string]string{"group": name})
	case "retry":
		return p.env.T(lang, "countdown.timer.retry", map[string]string{"group": name})
	}
	return ""
}

// TimerMissed implements bot.TimerMissHandler: a destructive timer that
// came due while the bot was down now waits for an operator's code.
func (p *Plugin) TimerMissed(ctx context.Context, t bot.TimerRecord) error {
	_, err := p.env.Audit(ctx, bot.AuditEntry{Group: t.Group, Action: "countdown.hold",
		Detail: "a destructive step came due while the bot was down; waiting for an operator to confirm it again",
		Data:   map[string]string{"countdown": string(t.Payload), "kind": t.Kind, "due": t.Due.UTC().Format(time.RFC3339)}})
	return err
}
