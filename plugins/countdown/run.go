package countdown

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/internal/failpoint"
	"github.com/qunguan/qunguan/plugins/export"
)

// kick runs the group's lifecycle as far as it can go now, in the
// background (inline in sync mode). Several kicks while one run is going
// make it look again rather than run twice at once.
func (p *Plugin) kick(g bot.GroupID) {
	p.env.Go("lifecycle", func(ctx context.Context) { p.run(ctx, g) })
}

func (p *Plugin) run(ctx context.Context, g bot.GroupID) {
	p.mu.Lock()
	if !p.reconciled {
		// Nothing moves before the lifecycles were looked at after a
		// start: a step that came due while the bot was down must wait
		// for an operator, and reconcile decides that.
		p.mu.Unlock()
		return
	}
	if p.running[g] {
		p.again[g] = true
		p.mu.Unlock()
		return
	}
	p.running[g] = true
	p.mu.Unlock()
	log := p.env.Log.With("group_id", string(g))
	for {
		p.mu.Lock()
		p.again[g] = false
		p.mu.Unlock()
		for i := 0; i < 32; i++ {
			more, err := p.step(ctx, g)
			if err != nil {
				log.Error("lifecycle step failed, retrying in a minute", "err", err)
				if ctx.Err() == nil {
					if lc, lerr := p.load(ctx, g); lerr == nil && lc != nil {
						if terr := p.setTimer(ctx, lc, "run", p.env.Now().Add(time.Minute), bot.MissedRun); terr != nil {
							log.Error("lifecycle retry not scheduled", "err", terr)
						}
					}
				}
				break
			}
			if !more {
				break
			}
		}
		p.mu.Lock()
		if !p.again[g] || ctx.Err() != nil {
			p.running[g] = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// step takes the next step of g's lifecycle, if one is due, and reports
// whether another may follow at once.
func (p *Plugin) step(ctx context.Context, g bot.GroupID) (bool, error) {
	lc, err := p.load(ctx, g)
	if err != nil || lc == nil {
		return false, err
	}
	switch lc.State {
	case StateCounting:
		return false, p.armTimers(ctx, lc)
	case StateFrozen:
		if lc.Hold {
			return false, nil
		}
		if lc.Waiting {
			return false, p.armTimers(ctx, lc)
		}
		if err := p.freeze(ctx, lc); err != nil {
			return false, err
		}
		job := fmt.Sprintf("%s-%d", lc.ID, lc.Attempt)
		_, ok, err := p.transit(ctx, g, lc.ID, []State{StateFrozen}, StateExporting, func(lc *Lifecycle) { lc.Job = job })
		if err != nil || !ok {
			return ok, err
		}
		failpoint.Inject("countdown.export.recorded")
		return true, nil
	case StateExporting:
		if lc.Hold {
			return false, nil
		}
		return p.exportStep(ctx, lc)
	case StateDissolving:
		if lc.Hold {
			return false, nil
		}
		if gone, how := p.observedGone(ctx, g); gone {
			return true, p.dissolved(ctx, lc, how)
		}
		if p.undelivered(g) > 0 {
			// The final notice is still queued: members hear it before the
			// group goes.
			return false, p.setTimer(ctx, lc, "run", p.env.Now().Add(time.Minute), bot.MissedRun)
		}
		return p.dissolve(ctx, lc)
	case StateDissolved:
		return false, p.dissolvedNotices(ctx, lc)
	}
	return false, nil
}

// reachDeadline moves a counting (or postponed) lifecycle into the freeze
// and runs it.
func (p *Plugin) reachDeadline(ctx context.Context, lc *Lifecycle) error {
	first := lc.State == StateCounting
	lc, ok, err := p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error {
		// Only a countdown or a postponed dissolve reaches its deadline; a
		// freeze already under way (the timer firing again after a crash)
		// is carried on by the run, not started over.
		if lc.State != StateCounting && !(lc.State == StateFrozen && lc.Waiting) {
			return errStale
		}
		lc.State = StateFrozen
		lc.Attempt++
		lc.Job, lc.Export, lc.Score, lc.Hold, lc.Waiting = "", nil, nil, false, false
		return nil
	})
	if err != nil || !ok {
		return err
	}
	failpoint.Inject("countdown.freeze.recorded")
	action, detail := "countdown.freeze", "deadline reached: freeze, export, dissolve"
	if !first {
		action, detail = "countdown.attempt", "postponed deadline reached: export again"
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Action: action, Detail: detail,
		Data: map[string]string{"countdown": lc.ID, "attempt": strconv.Itoa(lc.Attempt), "deadline": lc.Deadline.UTC().Format(time.RFC3339)}}); err != nil {
		return err
	}
	_ = p.env.CancelTimer(ctx, timerID(lc.Group, "remind"))
	p.kick(lc.Group)
	return nil
}

// freeze gives the final notice, prefixes the name where the platform can
// rename, stops moderation and welcome, and notes who is in the group.
// Each part is safe to do again after a crash.
func (p *Plugin) freeze(ctx context.Context, lc *Lifecycle) error {
	g := lc.Group
	lang := p.env.Lang(g)
	cfg := p.cfg(g)
	name := p.groupName(lc)
	current := name
	if rec, ok := p.env.Group(g); ok {
		current = rec.Name
	}
	if ok, err := p.mark(ctx, g, lc.ID, "final"); err != nil {
		return err
	} else if ok {
		failpoint.Inject("countdown.final.marked")
		if !lc.Silent {
			p.announce(ctx, g, p.env.T(lang, "countdown.final", map[string]string{"restore": bot.FormatDuration(cfg.RestoreWindow.D(), lang)}))
		}
		p.env.NotifyOperators(ctx, p.env.T(lang, "countdown.op.frozen", map[string]string{"group": name}), bot.PrioReply)
		failpoint.Inject("countdown.final.sent")
	}
	if r, ok := p.env.Platform().(bot.Renamer); ok && !lc.Silent && cfg.FreezePrefix != "" && !strings.HasPrefix(current, cfg.FreezePrefix) {
		want := cfg.FreezePrefix + current
		if err := r.Rename(ctx, g, want); err != nil {
			// The prefix is a courtesy; the freeze goes on without it.
			p.env.Log.Warn("freeze prefix not set", "group_id", string(g), "err", err)
		} else {
			got := p.platformName(ctx, g)
			_, _ = p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.rename", Detail: fmt.Sprintf("renamed %q to %q; the platform now shows %q", current, want, got),
				Data: map[string]string{"countdown": lc.ID, "verified": strconv.FormatBool(got == want)}})
		}
		failpoint.Inject("countdown.renamed")
	}
	if err := p.env.SetFrozen(ctx, g, true); err != nil {
		return err
	}
	failpoint.Inject("countdown.frozen")
	if lc.Members == nil {
		ms, err := p.env.Store.Members(ctx, g)
		if err != nil {
			return err
		}
		var present []bot.UserID
		for _, m := range ms {
			if m.Present && m.User != bot.SelfID {
				present = append(present, m.User)
			}
		}
		if present == nil {
			present = []bot.UserID{}
		}
		if _, _, err := p.update(ctx, g, lc.ID, func(lc *Lifecycle) error { lc.Members = present; return nil }); err != nil {
			return err
		}
	}
	return nil
}

// platformName re-reads the group's name from the platform: a rename is
// believed when the platform shows it, not when the call returned.
func (p *Plugin) platformName(ctx context.Context, g bot.GroupID) string {
	gs, err := p.env.Platform().Groups(ctx)
	if err != nil {
		return ""
	}
	for _, gi := range gs {
		if gi.ID == g {
			return gi.Name
		}
	}
	return ""
}

// listed reports whether the platform still lists the group.
func (p *Plugin) listed(ctx context.Context, g bot.GroupID) (bool, error) {
	gs, err := p.env.Platform().Groups(ctx)
	if err != nil {
		return false, err
	}
	for _, gi := range gs {
		if gi.ID == g {
			return true, nil
		}
	}
	return false, nil
}

// exportStep writes and verifies the archive (a hard gate), scores
// readiness, and then dissolves, postpones or halts.
func (p *Plugin) exportStep(ctx context.Context, lc *Lifecycle) (bool, error) {
	g := lc.Group
	lang := p.env.Lang(g)
	// A run resumed after a crash may find the export (and the score)
	// already recorded: their audit entries are written once.
	recorded := lc.Export != nil && lc.Export.Job == lc.Job
	scored := lc.Score != nil
	// The archive goes by the name the group had when the countdown began,
	// not the one with the freeze prefix it carries by now.
	out, err := p.arch.Archive(ctx, export.Job{ID: lc.Job, Group: g, By: "plugin:countdown", Reason: "lifecycle", GroupName: lc.Name})
	if errors.Is(err, export.ErrBusy) {
		return false, p.setTimer(ctx, lc, "run", p.env.Now().Add(5*time.Minute), bot.MissedRun)
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err() // shutting down: the export is taken again at start
		}
		return false, p.halt(ctx, lc, p.env.T(lang, "countdown.halt.export", map[string]string{"err": bot.ShortError(err, 300)}), true)
	}
	lc, ok, err := p.update(ctx, g, lc.ID, func(lc *Lifecycle) error {
		if lc.State != StateExporting {
			return errStale
		}
		lc.Export = out
		return nil
	})
	if err != nil || !ok {
		return ok, err
	}
	failpoint.Inject("countdown.export.done")
	if !recorded {
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.export",
			Detail: fmt.Sprintf("archive %s written and verified before dissolving: %d records", out.Name, out.Records),
			Data: map[string]string{"countdown": lc.ID, "job": out.Job, "manifest_sha256": out.ManifestSHA256, "file_sha256": out.FileSHA256,
				"records": strconv.FormatInt(out.Records, 10), "archive": out.Name}}); err != nil {
			return false, err
		}
	}
	if ok, err := p.mark(ctx, g, lc.ID, "archive:"+strconv.Itoa(lc.Attempt)); err != nil {
		return false, err
	} else if ok && lc.Confirmer != "" {
		p.arch.Deliver(ctx, bot.ToUser(lc.Confirmer), p.env.Lang(""), out, lc.ConfirmedBy)
	}
	if lc.Observed != "" {
		// The group went before its time; there is nothing left to
		// dissolve, only the record to keep.
		return true, p.dissolved(ctx, lc, lc.Observed)
	}
	score, verr := p.readiness(ctx, lc)
	if verr != nil {
		return false, p.halt(ctx, lc, p.env.T(lang, "countdown.halt.verify", map[string]string{"err": bot.ShortError(verr, 300)}), true)
	}
	lc, ok, err = p.update(ctx, g, lc.ID, func(lc *Lifecycle) error {
		if lc.State != StateExporting {
			return errStale
		}
		lc.Score = score
		return nil
	})
	if err != nil || !ok {
		return ok, err
	}
	failpoint.Inject("countdown.readiness")
	cfg := p.cfg(g)
	if !scored {
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.readiness",
			Detail: fmt.Sprintf("readiness %d/100 (threshold %d)", score.Total, cfg.ReadinessThreshold), Evidence: score.Text(bot.LangEN),
			Data: map[string]string{"countdown": lc.ID, "score": strconv.Itoa(score.Total), "threshold": strconv.Itoa(cfg.ReadinessThreshold)}}); err != nil {
			return false, err
		}
	}
	opLang := p.env.Lang("")
	name := p.groupName(lc)
	report := p.env.T(opLang, "countdown.op.readiness", map[string]string{"group": name, "score": strconv.Itoa(score.Total),
		"threshold": strconv.Itoa(cfg.ReadinessThreshold), "lines": score.Text(opLang)})
	if score.Total < cfg.ReadinessThreshold {
		if lc.Postponed >= cfg.MaxPostpones {
			return false, p.halt(ctx, lc, p.env.T(opLang, "countdown.halt.postpone", map[string]string{"n": strconv.Itoa(lc.Postponed)}), false)
		}
		return false, p.postpone(ctx, lc, report)
	}
	if ok, err := p.mark(ctx, g, lc.ID, "readiness:"+strconv.Itoa(lc.Attempt)); err != nil {
		return false, err
	} else if ok {
		p.env.NotifyOperators(ctx, report+"\n"+p.env.T(opLang, "countdown.op.dissolving", nil), bot.PrioReply)
	}
	if _, ok, err := p.transit(ctx, g, lc.ID, []State{StateExporting}, StateDissolving, func(lc *Lifecycle) { lc.DissolveStarted = p.env.Now() }); err != nil || !ok {
		return ok, err
	}
	failpoint.Inject("countdown.dissolve.recorded")
	return true, nil
}

// postpone moves the deadline after a score under the threshold; the
// group stays frozen and the export is taken again at the new deadline.
func (p *Plugin) postpone(ctx context.Context, lc *Lifecycle, report string) error {
	g := lc.Group
	cfg := p.cfg(g)
	until := p.env.Now().Add(cfg.Postpone.D())
	lc, ok, err := p.transit(ctx, g, lc.ID, []State{StateExporting}, StateFrozen, func(lc *Lifecycle) {
		lc.Postponed++
		lc.Deadline, lc.Waiting = until, true
	})
	if err != nil || !ok {
		return err
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.postpone",
		Detail: fmt.Sprintf("readiness %d/100 under %d: postponed to %s", lc.Score.Total, cfg.ReadinessThreshold, until.UTC().Format(time.RFC3339)),
		Data:   map[string]string{"countdown": lc.ID, "score": strconv.Itoa(lc.Score.Total), "until": until.UTC().Format(time.RFC3339), "postponed": strconv.Itoa(lc.Postponed)}}); err != nil {
		return err
	}
	if ok, err := p.mark(ctx, g, lc.ID, "postpone:"+strconv.Itoa(lc.Postponed)); err != nil {
		return err
	} else if ok {
		lang := p.env.Lang(g)
		if !lc.Silent {
			p.announce(ctx, g, p.env.T(lang, "countdown.postponed", map[string]string{"when": p.when(until),
				"score": strconv.Itoa(lc.Score.Total), "threshold": strconv.Itoa(cfg.ReadinessThreshold)}))
		}
		opLang := p.env.Lang("")
		p.env.NotifyOperators(ctx, report+"\n"+p.env.T(opLang, "countdown.op.postponed", map[string]string{"when": p.when(until),
			"n": strconv.Itoa(lc.Postponed), "max": strconv.Itoa(cfg.MaxPostpones)}), bot.PrioReply)
	}
	return p.armTimers(ctx, lc)
}

// halt stops the lifecycle where it is: nothing destructive happens until
// an operator retries or cancels. exportFailed raises AlertExportFailed.
func (p *Plugin) halt(ctx context.Context, lc *Lifecycle, reason string, exportFailed bool) error {
	g := lc.Group
	from := []State{StateCounting, StateFrozen, StateExporting, StateDissolving, StateAwaiting}
	lc, ok, err := p.transit(ctx, g, lc.ID, from, StateHalted, func(lc *Lifecycle) { lc.Halt = reason; lc.Halts++ })
	if err != nil || !ok {
		return err
	}
	p.cancelTimers(ctx, g, "remind", "deadline", "verify", "retry", "run")
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.halt", Detail: "lifecycle halted: " + reason,
		Data: map[string]string{"countdown": lc.ID, "attempt": strconv.Itoa(lc.Attempt)}}); err != nil {
		return err
	}
	ok, err = p.mark(ctx, g, lc.ID, "halt:"+strconv.Itoa(lc.Halts))
	if err != nil || !ok {
		return err
	}
	lang := p.env.Lang("")
	name := p.groupName(lc)
	text := p.env.T(lang, "countdown.op.halted", map[string]string{"group": name, "reason": reason, "name": name})
	if exportFailed {
		p.env.Alert(ctx, bot.Alert{Kind: bot.AlertExportFailed, Group: g, Key: "countdown/" + lc.ID + "/" + strconv.Itoa(lc.Attempt),
			Text: text, Data: map[string]string{"countdown": lc.ID, "reason": reason}})
		return nil
	}
	p.env.NotifyOperators(ctx, text, bot.PrioModeration)
	return nil
}

// dissolve takes the destructive step through the best the platform
// offers: Dissolver, else Kicker for every member, else an operator task.
// The group counts as dissolved only when the bot observes it.
func (p *Plugin) dissolve(ctx context.Context, lc *Lifecycle) (bool, error) {
	g := lc.Group
	plat := p.env.Platform()
	d, canDissolve := plat.(bot.Dissolver)
	k, canKick := plat.(bot.Kicker)
	switch {
	case lc.Method == "task" || lc.Method == "" && !canDissolve && !canKick:
		return p.createTask(ctx, lc)
	case canDissolve && (lc.Method == "" || lc.Method == "dissolver"):
		lc, ok, err := p.claimCall(ctx, lc, "dissolver")
		if err != nil || !ok || lc.Method == "task" {
			return ok, err
		}
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.dissolve", Detail: "dissolving through the platform",
			Data: map[string]string{"countdown": lc.ID, "method": "dissolver", "call": strconv.Itoa(lc.Calls), "manifest_sha256": lc.Export.ManifestSHA256}}); err != nil {
			return false, err
		}
		failpoint.Inject("countdown.dissolve.calling")
		err = d.Dissolve(ctx, g)
		failpoint.Inject("countdown.dissolve.called")
		return p.afterCall(ctx, lc, err)
	case canKick && (lc.Method == "" || lc.Method == "kicker"):
		ms, err := p.env.Store.Members(ctx, g)
		if err != nil {
			return false, err
		}
		var present []bot.UserID
		for _, m := range ms {
			if m.Present && m.User != bot.SelfID {
				present = append(present, m.User)
			}
		}
		lc, ok, err := p.claimCall(ctx, lc, "kicker")
		if err != nil || !ok || lc.Method == "task" {
			return ok, err
		}
		if len(present) == 0 {
			return true, p.dissolved(ctx, lc, "no members left")
		}
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.dissolve", Detail: fmt.Sprintf("removing all %d members (the platform cannot dissolve)", len(present)),
			Data: map[string]string{"countdown": lc.ID, "method": "kicker", "call": strconv.Itoa(lc.Calls)}}); err != nil {
			return false, err
		}
		failpoint.Inject("countdown.dissolve.calling")
		err = k.Kick(ctx, g, present...)
		failpoint.Inject("countdown.dissolve.called")
		return p.afterCall(ctx, lc, err)
	}
	return p.createTask(ctx, lc)
}

// claimCall records, before the platform is called, that one more call
// with method is being made; after three calls the lifecycle falls back to
// an operator task (Method "task"). ok is false when the lifecycle moved
// on meanwhile.
func (p *Plugin) claimCall(ctx context.Context, lc *Lifecycle, method string) (*Lifecycle, bool, error) {
	return p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error {
		if lc.State != StateDissolving {
			return errStale
		}
		lc.Method = method
		lc.Calls++
		if lc.Calls > 3 {
			lc.Method = "task"
		}
		return nil
	})
}

// afterCall handles the platform's answer to a dissolve or kick call.
func (p *Plugin) afterCall(ctx context.Context, lc *Lifecycle, err error) (bool, error) {
	g := lc.Group
	cfg := p.cfg(g)
	if err == nil {
		// Believe it when it is seen: the group's end arrives as an event
		// (observeGone), and the verify timer falls back to a person if
		// the group is still there by then.
		return false, p.setTimer(ctx, lc, "verify", p.env.Now().Add(cfg.VerifyAfter.D()), bot.MissedRun)
	}
	p.env.Log.Warn("dissolve call failed", "group_id", string(g), "method", lc.Method, "err", err)
	if bot.Retryable(err) {
		backoff := time.Minute << min(lc.Calls, 5)
		return false, p.setTimer(ctx, lc, "retry", p.env.Now().Add(backoff), bot.MissedConfirm)
	}
	if errors.Is(err, bot.ErrUnknownTarget) {
		if listed, lerr := p.listed(ctx, g); lerr == nil && !listed {
			return true, p.dissolved(ctx, lc, "no longer listed by the platform")
		}
	}
	_, _, uerr := p.update(ctx, g, lc.ID, func(lc *Lifecycle) error { lc.Method = "task"; return nil })
	return true, uerr
}

// createTask asks an operator to dissolve on the phone and waits for the
// runtime to observe the outcome (bot removed, group gone, members gone).
func (p *Plugin) createTask(ctx context.Context, lc *Lifecycle) (bool, error) {
	g := lc.Group
	tasks, err := p.env.Store.Tasks(ctx)
	if err != nil {
		return false, err
	}
	var task *bot.Task
	for i := range tasks {
		t := tasks[i]
		if t.Owner == p.Name() && t.Ref == lc.ID && (t.State == bot.TaskOpen || t.State == bot.TaskDone) {
			task = &t
		}
	}
	if task == nil {
		lang := p.env.Lang("")
		name := p.groupName(lc)
		current := name
		if rec, ok := p.env.Group(g); ok {
			current = rec.Name // what the phone shows now
		}
		archiveName := ""
		if lc.Export != nil {
			archiveName = lc.Export.Name
		}
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.dissolve", Detail: "the platform cannot dissolve; asking an operator to do it on the phone",
			Data: map[string]string{"countdown": lc.ID, "method": "task"}}); err != nil {
			return false, err
		}
		t, err := p.env.CreateTask(ctx, bot.Task{Kind: "dissolve_group", Ref: lc.ID, Group: g, Watch: bot.WatchGroupGone,
			Title: p.env.T(lang, "countdown.task.title", map[string]string{"group": name}),
			Steps: p.env.T(lang, "countdown.task.steps", map[string]string{"group": current, "archive": archiveName})})
		if err != nil {
			return false, err
		}
		task = &t
	}
	failpoint.Inject("countdown.task.created")
	_, ok, err := p.transit(ctx, g, lc.ID, []State{StateDissolving}, StateAwaiting, func(lc *Lifecycle) {
		lc.Method, lc.Task = "task", task.ID
	})
	return ok, err
}

// observedGone reports whether the store shows g dissolved or the bot
// removed, which only observed events set.
func (p *Plugin) observedGone(ctx context.Context, g bot.GroupID) (bool, string) {
	rec, err := p.env.Store.Group(ctx, g)
	if err != nil {
		return false, ""
	}
	switch {
	case rec.Gone:
		return true, "group gone"
	case !rec.BotPresent:
		return true, "bot removed"
	}
	return false, ""
}

// dissolved records the observed end of the group.
func (p *Plugin) dissolved(ctx context.Context, lc *Lifecycle, observed string) error {
	g := lc.Group
	from := []State{StateDissolving, StateAwaiting, StateExporting}
	lc, ok, err := p.transit(ctx, g, lc.ID, from, StateDissolved, func(lc *Lifecycle) {
		lc.Dissolved = p.env.Now()
		if lc.Observed == "" {
			lc.Observed = observed
		}
	})
	if err != nil || !ok {
		return err
	}
	failpoint.Inject("countdown.dissolved")
	p.cancelTimers(ctx, g, "remind", "deadline", "verify", "retry", "run")
	data := map[string]string{"countdown": lc.ID, "method": lc.Method, "observed": lc.Observed}
	if lc.Export != nil {
		data["manifest_sha256"], data["archive"] = lc.Export.ManifestSHA256, lc.Export.Name
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: g, Action: "countdown.dissolved", Detail: "dissolved, as observed: " + lc.Observed, Data: data}); err != nil {
		return err
	}
	p.kick(g)
	return nil
}

// dissolvedNotices tells the operators, once, how the group ended and
// until when it can be restored.
func (p *Plugin) dissolvedNotices(ctx context.Context, lc *Lifecycle) error {
	ok, err := p.mark(ctx, lc.Group, lc.ID, "dissolved")
	if err != nil || !ok {
		return err
	}
	lang := p.env.Lang("")
	how := "countdown.how." + lc.Method
	if lc.Method == "" || lc.Method == "early" {
		how = "countdown.how.early"
	}
	archiveName, sha := "-", "-"
	if lc.Export != nil {
		archiveName, sha = export.DisplayPath(p.env.Global(), lc.Export.File), short(lc.Export.ManifestSHA256)
	}
	name := p.groupName(lc)
	p.env.NotifyOperators(ctx, p.env.T(lang, "countdown.op.dissolved", map[string]string{
		"group": name, "how": p.env.T(lang, how, nil), "when": p.when(lc.Dissolved), "archive": archiveName, "sha": sha,
		"until": p.when(lc.Dissolved.Add(p.cfg(lc.Group).RestoreWindow.D())), "name": name,
	}), bot.PrioReply)
	failpoint.Inject("countdown.done.sent")
	return nil
}

// confirmPayload is what a lifecycle's confirmation request carries.
type confirmPayload struct {
	ID    string      `json:"id"`
	Group bot.GroupID `json:"group"`
}

// ask requests an operator's code for kind ("start", "resume", "retry").
func (p *Plugin) ask(ctx context.Context, lc *Lifecycle, kind, action string) (bot.Confirmation, error) {
	pl, _ := json.Marshal(confirmPayload{ID: lc.ID, Group: lc.Group})
	return p.env.RequestConfirmation(ctx, bot.ConfirmRequest{Kind: kind, Group: lc.Group, Payload: pl, Action: action, RequestedBy: lc.By})
}

// schedule lays out the reminders of a countdown confirmed at start and
// due at deadline: one per offset shorter than the countdown (and not
// within a minute of its start, which the start notice covers).
func schedule(offsets []time.Duration, start, deadline time.Time) []Reminder {
	var out []Reminder
	for _, off := range offsets {
		due := deadline.Add(-off)
		if due.After(start.Add(time.Minute)) {
			out = append(out, Reminder{Offset: off, Due: due})
		}
	}
	slices.SortFunc(out, func(a, b Reminder) int { return a.Due.Compare(b.Due) })
	return out
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}
