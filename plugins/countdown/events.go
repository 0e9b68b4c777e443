package countdown

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/internal/failpoint"
)

// HandleEvent implements bot.EventHandler.
func (p *Plugin) HandleEvent(ctx context.Context, ev *bot.Event) error {
	switch ev.Kind {
	case bot.EventLogin:
		p.reconcile(ctx)
		p.checkRules(ctx)
	case bot.EventGroupGone, bot.EventBotRemoved:
		return p.observeGone(ctx, ev.Group, ev.Kind.String())
	case bot.EventMemberLeft:
		return p.observeLeft(ctx, ev.Group)
	case bot.EventMessage:
		if ev.Group == "" || ev.FromSelf || ev.IsCommand {
			return nil
		}
		lc, err := p.load(ctx, ev.Group)
		if err != nil || lc == nil {
			return err
		}
		if lc.Trigger == "rule:inactive" && (lc.State == StateConfirming || lc.State == StateCounting) {
			if _, _, err := p.cancel(ctx, lc, "plugin:countdown", "a person spoke in the group"); err != nil {
				return err
			}
			p.env.NotifyOperators(ctx, p.env.T(p.env.Lang(""), "countdown.op.auto_canceled", map[string]string{"group": p.groupName(lc)}), bot.PrioReply)
		}
	}
	return nil
}

// reconcile looks at every lifecycle once after a start, before any of
// them moves: it re-arms timers lost in a crash, lets a request that
// lapsed while the bot was down go, and holds a destructive step whose
// time passed while the bot was down until an operator confirms it again.
func (p *Plugin) reconcile(ctx context.Context) {
	p.mu.Lock()
	if p.reconciled {
		p.mu.Unlock()
		return
	}
	p.reconciled = true
	p.mu.Unlock()
	lcs, err := p.all(ctx)
	if err != nil {
		p.env.Log.Error("lifecycles not read at start", "err", err)
		return
	}
	for _, lc := range lcs {
		if err := p.reconcileOne(ctx, lc); err != nil {
			p.env.Log.Error("lifecycle not resumed", "group_id", string(lc.Group), "state", string(lc.State), "err", err)
		}
	}
}

func (p *Plugin) reconcileOne(ctx context.Context, lc *Lifecycle) error {
	now := p.env.Now()
	if err := p.fillAudit(ctx, lc); err != nil {
		return err
	}
	switch lc.State {
	case StateConfirming:
		if lc.ConfirmExpires.IsZero() || !now.Before(lc.ConfirmExpires) {
			return p.lapse(ctx, lc)
		}
		return p.ensureTimer(ctx, lc, "expire", lc.ConfirmExpires, bot.MissedRun)
	case StateCounting:
		if _, sent := lc.Sent["start"]; !sent && now.Before(lc.Deadline) {
			// The bot stopped between the confirmation and the start notice.
			if ok, err := p.mark(ctx, lc.Group, lc.ID, "start"); err != nil {
				return err
			} else if ok {
				p.startNotices(ctx, lc)
			}
		}
		if _, ok := p.timer(lc.Group, "deadline"); ok || now.Before(lc.Deadline) {
			return p.armTimers(ctx, lc)
		}
		// The deadline timer was lost (a crash between writing the
		// lifecycle and arming it) and the deadline has passed.
		if p.late(lc, now) {
			return p.hold(ctx, lc)
		}
		return p.reachDeadline(ctx, lc)
	case StateFrozen:
		if lc.Waiting {
			if _, ok := p.timer(lc.Group, "deadline"); ok || now.Before(lc.Deadline) {
				return p.armTimers(ctx, lc)
			}
			if p.late(lc, now) {
				return p.hold(ctx, lc)
			}
			return p.reachDeadline(ctx, lc)
		}
		return p.resume(ctx, lc, now)
	case StateExporting, StateDissolving:
		return p.resume(ctx, lc, now)
	case StateAwaiting:
		if gone, how := p.observedGone(ctx, lc.Group); gone {
			return p.dissolved(ctx, lc, how)
		}
		t, err := p.task(ctx, lc.Task)
		if err != nil || t == nil {
			return err
		}
		return p.TaskClosed(ctx, *t)
	case StateDissolved:
		p.kick(lc.Group)
	}
	return nil
}

// fillAudit writes the audit entries of the steps lc has taken that a
// crash kept out of the log: each step is written to the lifecycle first
// and to the audit log right after, and the process may die in between.
// An entry is identified by its action and the countdown (and attempt)
// in its data, so nothing is written twice.
func (p *Plugin) fillAudit(ctx context.Context, lc *Lifecycle) error {
	type step struct {
		action, detail string
		data           map[string]string
	}
	var steps []step
	if !lc.ConfirmedAt.IsZero() {
		steps = append(steps, step{"countdown.start", "countdown confirmed: dissolve at " + lc.Deadline.UTC().Format(time.RFC3339), nil})
	}
	for a := 1; a <= lc.Attempt && !lc.Early; a++ {
		action := "countdown.freeze"
		if a > 1 {
			action = "countdown.attempt"
		}
		steps = append(steps, step{action, "deadline reached: freeze, export, dissolve", map[string]string{"attempt": strconv.Itoa(a)}})
	}
	if lc.Export != nil {
		steps = append(steps, step{"countdown.export", fmt.Sprintf("archive %s written and verified before dissolving: %d records", lc.Export.Name, lc.Export.Records),
			map[string]string{"job": lc.Export.Job, "manifest_sha256": lc.Export.ManifestSHA256, "archive": lc.Export.Name}})
	}
	if lc.State == StateDissolved {
		steps = append(steps, step{"countdown.dissolved", "dissolved, as observed: " + lc.Observed, map[string]string{"method": lc.Method, "observed": lc.Observed}})
	}
	for _, s := range steps {
		es, err := p.env.Store.AuditEntries(ctx, bot.AuditFilter{Group: lc.Group, Action: s.action})
		if err != nil {
			return err
		}
		found := false
		for _, e := range es {
			if e.Action == s.action && e.Data["countdown"] == lc.ID && (s.data["attempt"] == "" || e.Data["attempt"] == s.data["attempt"]) &&
				(s.data["job"] == "" || e.Data["job"] == s.data["job"]) {
				found = true
			}
		}
		if found {
			continue
		}
		data := map[string]string{"countdown": lc.ID, "restart": "true"}
		for k, v := range s.data {
			data[k] = v
		}
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Action: s.action, Detail: s.detail + " (recorded at restart: the bot stopped between the step and its entry)", Data: data}); err != nil {
			return err
		}
	}
	return nil
}

// late reports whether the lifecycle's current step came due more than
// the scheduler's grace before now.
func (p *Plugin) late(lc *Lifecycle, now time.Time) bool {
	ref := lc.Deadline
	if lc.ResumedAt.After(ref) {
		ref = lc.ResumedAt
	}
	return now.Sub(ref) > p.env.Global().Scheduler.MissedGrace.D()
}

// resume carries on a step that was under way when the bot stopped, or
// holds it for an operator when its time has passed.
func (p *Plugin) resume(ctx context.Context, lc *Lifecycle, now time.Time) error {
	if lc.Hold || p.late(lc, now) {
		return p.hold(ctx, lc)
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Action: "countdown.resume",
		Detail: fmt.Sprintf("resumed at %s after a restart", lc.State), Data: map[string]string{"countdown": lc.ID, "state": string(lc.State)}}); err != nil {
		return err
	}
	p.kick(lc.Group)
	return nil
}

// hold stops the lifecycle until an operator confirms going on, and asks.
func (p *Plugin) hold(ctx context.Context, lc *Lifecycle) error {
	lc, ok, err := p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error { lc.Hold = true; return nil })
	if err != nil || !ok {
		return err
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Action: "countdown.hold",
		Detail: fmt.Sprintf("step %s came due while the bot was down; waiting for an operator to confirm it again", lc.State),
		Data:   map[string]string{"countdown": lc.ID, "state": string(lc.State), "deadline": lc.Deadline.UTC().Format(time.RFC3339)}}); err != nil {
		return err
	}
	lang := p.env.Lang("")
	_, err = p.ask(ctx, lc, "resume", p.env.T(lang, "countdown.action.resume", map[string]string{
		"group": p.groupName(lc), "state": p.env.T(lang, "countdown.state."+string(lc.State), nil)}))
	return err
}

// observeGone handles the group dissolved or the bot removed, as observed.
func (p *Plugin) observeGone(ctx context.Context, g bot.GroupID, observed string) error {
	lc, err := p.load(ctx, g)
	if err != nil || lc == nil {
		return err
	}
	switch lc.State {
	case StateDissolving, StateAwaiting:
		return p.dissolved(ctx, lc, observed)
	case StateConfirming:
		_, _, err := p.cancel(ctx, lc, "plugin:countdown", "the group was gone before the request was confirmed")
		return err
	case StateCounting, StateFrozen, StateExporting:
		// Someone dissolved the group (or removed the bot) before its
		// time. There is nothing left to dissolve, but what the bot
		// recorded is still exported.
		lc, ok, err := p.update(ctx, g, lc.ID, func(lc *Lifecycle) error {
			lc.Observed, lc.Early, lc.Hold, lc.Waiting = observed, true, false, false
			if lc.State != StateExporting {
				lc.State = StateExporting
				lc.Attempt++
				lc.Job = fmt.Sprintf("%s-%d", lc.ID, lc.Attempt)
				lc.Export, lc.Score = nil, nil
			}
			return nil
		})
		if err != nil || !ok {
			return err
		}
		p.cancelTimers(ctx, g, "remind", "deadline")
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.gone_early",
			Detail: "the group was gone before its deadline (observed: " + observed + "); exporting what was recorded", Data: map[string]string{"countdown": lc.ID}}); err != nil {
			return err
		}
		if ok, err := p.mark(ctx, g, lc.ID, "gone_early"); err != nil {
			return err
		} else if ok {
			p.env.NotifyOperators(ctx, p.env.T(p.env.Lang(""), "countdown.op.gone_early", map[string]string{"group": p.groupName(lc), "observed": observed}), bot.PrioReply)
		}
		p.kick(g)
	}
	return nil
}

// observeLeft completes a dissolve by kicking once nobody but the bot is left.
func (p *Plugin) observeLeft(ctx context.Context, g bot.GroupID) error {
	lc, err := p.load(ctx, g)
	if err != nil || lc == nil || lc.State != StateDissolving || lc.Method != "kicker" {
		return err
	}
	ms, err := p.env.Store.Members(ctx, g)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Present && m.User != bot.SelfID {
			return nil
		}
	}
	return p.dissolved(ctx, lc, "all members removed")
}

// TaskClosed implements bot.TaskWatcher: the runtime observed the outcome
// of the dissolve task (or it expired or was canceled).
func (p *Plugin) TaskClosed(ctx context.Context, t bot.Task) error {
	if t.Kind == "restore_members" {
		return p.restoreTaskClosed(ctx, t)
	}
	if t.Kind != "dissolve_group" {
		return nil
	}
	lc, err := p.load(ctx, t.Group)
	if err != nil || lc == nil || lc.ID != t.Ref {
		return err
	}
	switch t.State {
	case bot.TaskVerified:
		return p.dissolved(ctx, lc, "task "+t.ID+" verified ("+t.Note+")")
	case bot.TaskExpired, bot.TaskCanceled:
		if lc.State != StateAwaiting {
			return nil
		}
		lang := p.env.Lang("")
		return p.halt(ctx, lc, p.env.T(lang, "countdown.halt.task", map[string]string{"id": t.ID, "state": t.State.String()}), false)
	}
	return nil
}

// Confirmed implements bot.Confirmer: an operator typed the code of a
// start, resume or retry request.
// ConfirmationStale implements bot.ConfirmChecker: a code for a countdown
// that was canceled or replaced, or for a step the lifecycle has moved
// past, no longer applies. The conditions are Confirmed's guards.
func (p *Plugin) ConfirmationStale(ctx context.Context, c bot.Confirmation) bool {
	var pl confirmPayload
	if err := json.Unmarshal(c.Payload, &pl); err != nil {
		return false // Confirmed reports the bad payload
	}
	lc, err := p.load(ctx, pl.Group)
	if err != nil {
		return false
	}
	if lc == nil || lc.ID != pl.ID {
		return true
	}
	switch c.Kind {
	case "start":
		return lc.State != StateConfirming
	case "resume":
		return !lc.Hold
	case "retry":
		return lc.State != StateHalted
	}
	return false
}

func (p *Plugin) Confirmed(ctx context.Context, c bot.Confirmation, call *bot.Call) error {
	var pl confirmPayload
	if err := json.Unmarshal(c.Payload, &pl); err != nil {
		return fmt.Errorf("confirmation payload: %w", err)
	}
	lc, err := p.load(ctx, pl.Group)
	if err != nil {
		return err
	}
	if lc == nil || lc.ID != pl.ID {
		call.Reply(ctx, call.T("countdown.none", nil))
		return nil
	}
	by := actor(call)
	who := call.Asker()
	if call.Event.FromSelf {
		who = bot.SelfID
	}
	now := p.env.Now()
	switch c.Kind {
	case "start":
		return p.confirmStart(ctx, lc, by, who, call)
	case "resume":
		lc, ok, err := p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error {
			if !lc.Hold {
				return errStale
			}
			lc.Hold, lc.ResumedAt = false, now
			return nil
		})
		if err != nil || !ok {
			return err
		}
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Actor: by, Action: "countdown.resume",
			Detail: fmt.Sprintf("an operator confirmed going on at %s", lc.State), Data: map[string]string{"countdown": lc.ID, "state": string(lc.State)}}); err != nil {
			return err
		}
		if lc.State == StateCounting || lc.State == StateFrozen && lc.Waiting {
			return p.reachDeadline(ctx, lc)
		}
		p.kick(lc.Group)
	case "retry":
		lc, ok, err := p.transit(ctx, lc.Group, lc.ID, []State{StateHalted}, StateFrozen, func(lc *Lifecycle) {
			lc.Halt, lc.Hold, lc.Waiting, lc.Postponed = "", false, true, 0
			lc.Method, lc.Calls, lc.Task = "", 0, ""
			lc.Deadline, lc.ResumedAt = now, now
		})
		if err != nil || !ok {
			return err
		}
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Actor: by, Action: "countdown.retry", Detail: "an operator confirmed a retry",
			Data: map[string]string{"countdown": lc.ID}}); err != nil {
			return err
		}
		return p.reachDeadline(ctx, lc)
	}
	return nil
}

// confirmStart starts a confirmed countdown: from now on it runs by itself.
func (p *Plugin) confirmStart(ctx context.Context, lc *Lifecycle, by string, who bot.UserID, call *bot.Call) error {
	now := p.env.Now()
	cfg := p.cfg(lc.Group)
	lc, ok, err := p.transit(ctx, lc.Group, lc.ID, []State{StateConfirming}, StateCounting, func(lc *Lifecycle) {
		lc.ConfirmedBy, lc.Confirmer, lc.ConfirmedAt = by, who, now
		switch {
		case lc.Trigger == "dissolve":
			lc.Deadline = now
		case lc.Length > 0:
			lc.Deadline = now.Add(lc.Length)
		case lc.Deadline.Before(now.Add(cfg.Rules.MinNotice.D())):
			lc.Deadline = now.Add(cfg.Rules.MinNotice.D())
		}
		lc.Reminders = schedule(cfg.offsets(), now, lc.Deadline)
	})
	if err != nil {
		return err
	}
	if !ok {
		call.Reply(ctx, call.T("countdown.none", nil))
		return nil
	}
	failpoint.Inject("countdown.confirmed")
	p.cancelTimers(ctx, lc.Group, "expire")
	var offs []string
	for _, r := range lc.Reminders {
		offs = append(offs, bot.FormatDuration(r.Offset, bot.LangEN))
	}
	mode := "announced"
	if lc.Silent {
		mode = "silent"
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Actor: by, Action: "countdown.start",
		Detail: fmt.Sprintf("countdown confirmed: dissolve at %s (%s)", lc.Deadline.UTC().Format(time.RFC3339), mode), Evidence: lc.Reason,
		Data: map[string]string{"countdown": lc.ID, "trigger": lc.Trigger, "asked_by": lc.By, "deadline": lc.Deadline.UTC().Format(time.RFC3339),
			"mode": mode, "reminders": strings.Join(offs, ",")}}); err != nil {
		return err
	}
	if !lc.Deadline.After(now) {
		return p.reachDeadline(ctx, lc)
	}
	if ok, err := p.mark(ctx, lc.Group, lc.ID, "start"); err != nil {
		return err
	} else if ok {
		failpoint.Inject("countdown.start.marked")
		p.startNotices(ctx, lc)
		failpoint.Inject("countdown.start.sent")
	}
	return p.armTimers(ctx, lc)
}

func (p *Plugin) startNotices(ctx context.Context, lc *Lifecycle) {
	g := lc.Group
	lang := p.env.Lang(g)
	now := p.env.Now()
	vars := map[string]string{"when": p.when(lc.Deadline), "left": bot.FormatDuration(lc.Deadline.Sub(now), lang), "reason": p.reason(lc, lang)}
	if !lc.Silent {
		p.announce(ctx, g, p.env.T(lang, "countdown.start", vars))
	}
	opLang := p.env.Lang("")
	var times []string
	for _, r := range lc.Reminders {
		times = append(times, p.when(r.Due))
	}
	rem := ""
	if len(times) > 0 {
		rem = p.env.T(opLang, "countdown.op.reminders", map[string]string{"list": strings.Join(times, "、")})
	}
	p.env.NotifyOperators(ctx, p.env.T(opLang, "countdown.op.started", map[string]string{"group": p.groupName(lc), "when": p.when(lc.Deadline),
		"left": bot.FormatDuration(lc.Deadline.Sub(now), opLang), "mode": p.modeText(lc, opLang), "reminders": rem}), bot.PrioReply)
}

func (p *Plugin) reason(lc *Lifecycle, lang bot.Lang) string {
	if lc.Reason == "" {
		return p.env.T(lang, "countdown.no_reason", nil)
	}
	return lc.Reason
}

func (p *Plugin) modeText(lc *Lifecycle, lang bot.Lang) string {
	if lc.Silent {
		return p.env.T(lang, "countdown.mode.silent", nil)
	}
	return p.env.T(lang, "countdown.mode.announced", nil)
}

// cancel ends a lifecycle that has not dissolved anything: timers and the
// operator task go, a frozen group is unfrozen and gets its name back. It
// reports whether the group was told (which answers the asker there).
func (p *Plugin) cancel(ctx context.Context, lc *Lifecycle, by, why string) (*Lifecycle, bool, error) {
	g := lc.Group
	from := []State{StateConfirming, StateCounting, StateFrozen, StateExporting, StateAwaiting, StateHalted}
	lc, ok, err := p.transit(ctx, g, lc.ID, from, StateCanceled, func(lc *Lifecycle) { lc.Canceled = why })
	if err != nil || !ok {
		return nil, false, err
	}
	p.cancelTimers(ctx, g, "remind", "deadline", "expire", "verify", "retry", "run")
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Actor: by, Action: "countdown.cancel", Detail: "countdown canceled: " + why,
		Data: map[string]string{"countdown": lc.ID, "trigger": lc.Trigger}}); err != nil {
		return nil, false, err
	}
	if lc.Task != "" {
		if t, err := p.task(ctx, lc.Task); err == nil && t != nil && (t.State == bot.TaskOpen || t.State == bot.TaskDone) {
			t.State, t.Note = bot.TaskCanceled, "countdown canceled by "+by
			if err := p.env.UpdateTask(ctx, *t); err != nil {
				return nil, false, err
			}
		}
	}
	_, frozen := lc.Sent["final"]
	if rec, ok := p.env.Group(g); ok && rec.Frozen {
		frozen = true
		if err := p.env.SetFrozen(ctx, g, false); err != nil {
			return nil, false, err
		}
		if r, ok := p.env.Platform().(bot.Renamer); ok {
			if base := p.baseName(g, rec.Name); base != rec.Name {
				if err := r.Rename(ctx, g, base); err != nil {
					p.env.Log.Warn("freeze prefix not removed", "group_id", string(g), "err", err)
				}
			}
		}
	}
	_, started := lc.Sent["start"]
	if lc.Silent || !started && !frozen {
		return lc, false, nil
	}
	if ok, err := p.mark(ctx, g, lc.ID, "cancel"); err != nil || !ok {
		return lc, false, err
	}
	key := "countdown.canceled"
	if frozen {
		key = "countdown.unfrozen"
	}
	p.announce(ctx, g, p.env.T(p.env.Lang(g), key, nil))
	return lc, true, nil
}

// GroupStatus implements bot.StatusReporter.
func (p *Plugin) GroupStatus(ctx context.Context, g bot.GroupID, lang bot.Lang) string {
	lc, err := p.load(ctx, g)
	if err != nil || lc == nil || lc.State == StateCanceled || lc.State == StateRestored {
		return ""
	}
	when := ""
	switch {
	case lc.State == StateDissolved:
		when = p.when(lc.Dissolved)
	case !lc.Deadline.IsZero():
		when = p.when(lc.Deadline)
	}
	return p.env.T(lang, "countdown.status.line", map[string]string{"state": p.env.T(lang, "countdown.state."+string(lc.State), nil), "when": when})
}

// actor names the person behind a call for the audit log.
func actor(c *bot.Call) string {
	if c.Event.FromSelf {
		return "owner"
	}
	return bot.ActorName(c.Asker(), c.AskerName())
}

// task returns the operator task with id, nil if there is none.
func (p *Plugin) task(ctx context.Context, id string) (*bot.Task, error) {
	ts, err := p.env.Store.Tasks(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if ts[i].ID == id {
			return &ts[i], nil
		}
	}
	return nil, nil
}

// restoreTaskClosed records that the members a restore was waiting for
// are in (or that nobody saw them join before the task expired).
func (p *Plugin) restoreTaskClosed(ctx context.Context, t bot.Task) error {
	lcs, err := p.all(ctx)
	if err != nil {
		return err
	}
	for _, lc := range lcs {
		if lc.ID != t.Ref || lc.Restore == nil || lc.Restore.NewGroup != t.Group {
			continue
		}
		if t.State == bot.TaskVerified {
			if _, _, err := p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error {
				lc.Restore.Joined = append(lc.Restore.Joined, lc.Restore.Missing...)
				lc.Restore.Missing = nil
				return nil
			}); err != nil {
				return err
			}
		}
		_, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Action: "countdown.restore_members",
			Detail: fmt.Sprintf("restore task %s %s: the members invited back %s", t.ID, t.State, map[bool]string{true: "are in", false: "were not seen joining"}[t.State == bot.TaskVerified]),
			Data:   map[string]string{"countdown": lc.ID, "task": t.ID, "new_group": string(t.Group)}})
		return err
	}
	return nil
}
