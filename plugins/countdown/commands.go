package countdown

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Commands implements bot.Commander.
func (p *Plugin) Commands() []*bot.Command {
	length := bot.Arg{Name: "length", Label: bot.Text{ZH: "时长", EN: "length"}, Kind: bot.ArgDuration}
	reason := bot.Arg{Name: "reason", Label: bot.Text{ZH: "原因", EN: "reason"}, Kind: bot.ArgRest, Optional: true}
	return []*bot.Command{
		{
			Name: "countdown", Aliases: []string{"解散倒计时"},
			Args: []bot.Arg{length, reason},
			Help: bot.Text{ZH: "解散倒计时：/解散倒计时 3天 课程结束（运营者用验证码确认后开始；加 --静默 只通知运营者）",
				EN: "Dissolve countdown: /countdown 3d course over (starts once an operator confirms by code; add --silent to tell operators only)"},
			Perm: bot.RoleAdmin, Scope: bot.ScopeGroup, Run: p.countdownCommand,
			Subcommands: []*bot.Command{
				{Name: "status", Aliases: []string{"状态"}, Perm: bot.RoleAdmin, Run: p.statusCommand,
					Help: bot.Text{ZH: "查看解散流程的状态", EN: "Show the dissolve's state"}},
				{Name: "cancel", Aliases: []string{"取消"}, Perm: bot.RoleAdmin, Run: p.cancelCommand,
					Help: bot.Text{ZH: "取消解散（已开始解散后不能取消）", EN: "Cancel the dissolve (not once dissolving has begun)"}},
				{Name: "extend", Aliases: []string{"延长", "延后"}, Args: []bot.Arg{length}, Perm: bot.RoleAdmin, Run: p.extendCommand,
					Help: bot.Text{ZH: "推迟解散时间，如 /解散倒计时 延长 2天", EN: "Move the deadline later, e.g. /countdown extend 2d"}},
				{Name: "retry", Aliases: []string{"重试"}, Perm: bot.RoleOperator, Run: p.retryCommand,
					Help: bot.Text{ZH: "解散暂停（如导出失败）后，处理好再重试（需验证码）", EN: "Retry a halted dissolve (e.g. after a failed export), with a code"}},
			},
		},
		{
			Name: "dissolve", Aliases: []string{"解散", "解散本群"},
			Args: []bot.Arg{reason},
			Help: bot.Text{ZH: "立即解散本群：先冻结、导出并校验，再解散（需运营者验证码确认）",
				EN: "Dissolve this group now: freeze, export and verify, then dissolve (an operator confirms by code)"},
			Perm: bot.RoleAdmin, Scope: bot.ScopeGroup, Run: p.dissolveCommand,
		},
		{
			Name: "restore", Aliases: []string{"恢复群"},
			Args: []bot.Arg{{Name: "group", Label: bot.Text{ZH: "群名", EN: "group"}, Kind: bot.ArgRest, Optional: true}},
			Help: bot.Text{ZH: "恢复期内重建已解散的群，并拉回是机器人好友的原成员", EN: "Within the restore window, recreate a dissolved group and add back former members who are friends"},
			Perm: bot.RoleOperator, Scope: bot.ScopeDM, Run: p.restoreCommand,
		},
		{
			Name: "audit", Aliases: []string{"审计", "审计日志"},
			Args: []bot.Arg{{Name: "n", Label: bot.Text{ZH: "条数", EN: "count"}, Kind: bot.ArgInt, Optional: true}},
			Help: bot.Text{ZH: "查看审计日志最近的记录（/审计 @群名 20 只看一个群）", EN: "Recent audit log entries (/audit @GROUP 20 for one group)"},
			Perm: bot.RoleOperator, Scope: bot.ScopeDM, Run: p.auditCommand,
		},
	}
}

// splitMode takes --silent / --announced (and their Chinese forms) out of
// the reason.
func splitMode(reason string, silent bool) (string, bool) {
	var keep []string
	for _, w := range strings.Fields(reason) {
		switch strings.ToLower(bot.FoldWidth(w)) {
		case "--silent", "--静默", "静默":
			silent = true
		case "--announced", "--announce", "--公告", "公告":
			silent = false
		default:
			keep = append(keep, w)
		}
	}
	return strings.Join(keep, " "), silent
}

func (p *Plugin) groupFor(c *bot.Call) (bot.GroupRecord, error) {
	rec, ok := p.env.Group(c.Group)
	if !ok || rec.Gone || !rec.BotPresent {
		return rec, bot.Errorf("gone", "%s", c.T("countdown.gone", nil))
	}
	return rec, nil
}

func (p *Plugin) countdownCommand(ctx context.Context, c *bot.Call) error {
	rec, err := p.groupFor(c)
	if err != nil {
		return err
	}
	cfg := p.cfg(c.Group)
	length := c.Args.Duration("length")
	if length < time.Minute {
		return bot.Errorf("too_short", "%s", c.T("countdown.too_short", nil))
	}
	if length > cfg.MaxLength.D() {
		return bot.Errorf("too_long", "%s", c.T("countdown.too_long", map[string]string{"max": bot.FormatDuration(cfg.MaxLength.D(), c.Lang)}))
	}
	reason, silent := splitMode(c.Args.String("reason"), cfg.Mode == "silent")
	lc := &Lifecycle{Group: c.Group, Name: p.baseName(c.Group, rec.Name), State: StateConfirming, Trigger: "command",
		Length: length, Silent: silent, Reason: reason, By: actor(c), Asker: c.Asker()}
	return p.request(ctx, c, lc)
}

func (p *Plugin) dissolveCommand(ctx context.Context, c *bot.Call) error {
	rec, err := p.groupFor(c)
	if err != nil {
		return err
	}
	reason, silent := splitMode(c.Args.String("reason"), p.cfg(c.Group).Mode == "silent")
	lc := &Lifecycle{Group: c.Group, Name: p.baseName(c.Group, rec.Name), State: StateConfirming, Trigger: "dissolve",
		Silent: silent, Reason: reason, By: actor(c), Asker: c.Asker()}
	return p.request(ctx, c, lc)
}

// request stores a new lifecycle waiting for confirmation and asks the
// operators for the code. c is nil for rules.
func (p *Plugin) request(ctx context.Context, c *bot.Call, lc *Lifecycle) error {
	lang := p.env.Lang("")
	if err := p.create(ctx, lc); errors.Is(err, errBusy) {
		cur, _ := p.load(ctx, lc.Group)
		state := ""
		if cur != nil {
			state = p.env.T(lang, "countdown.state."+string(cur.State), nil)
		}
		if c == nil {
			return nil
		}
		return bot.Errorf("busy", "%s", c.T("countdown.busy", map[string]string{"state": state}))
	} else if err != nil {
		return err
	}
	name := p.groupName(lc)
	vars := map[string]string{"group": name, "mode": p.modeText(lc, lang), "reason": p.reason(lc, lang), "by": bot.DisplayActor(lc.By)}
	var action string
	switch {
	case lc.Trigger == "dissolve":
		action = p.env.T(lang, "countdown.action.now", vars)
	case strings.HasPrefix(lc.Trigger, "rule:"):
		vars["rule"], vars["when"] = strings.TrimPrefix(lc.Trigger, "rule:"), p.when(lc.Deadline)
		action = p.env.T(lang, "countdown.action.rule", vars)
	default:
		vars["length"] = bot.FormatDuration(lc.Length, lang)
		vars["when"] = p.when(p.env.Now().Add(lc.Length))
		action = p.env.T(lang, "countdown.action.start", vars)
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Actor: lc.By, Action: "countdown.request", Detail: action, Evidence: lc.Reason,
		Data: map[string]string{"countdown": lc.ID, "trigger": lc.Trigger}}); err != nil {
		return err
	}
	conf, err := p.ask(ctx, lc, "start", action)
	if err != nil {
		return err
	}
	lc, _, err = p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error { lc.ConfirmExpires = conf.Expires; return nil })
	if err != nil {
		return err
	}
	if err := p.setTimer(ctx, lc, "expire", conf.Expires, bot.MissedRun); err != nil {
		return err
	}
	if c != nil {
		c.Reply(ctx, c.T("countdown.asked", map[string]string{"action": action}))
	}
	return nil
}

// live returns the group's lifecycle unless it has none or it ended.
func (p *Plugin) live(ctx context.Context, c *bot.Call) (*Lifecycle, error) {
	lc, err := p.load(ctx, c.Group)
	if err != nil {
		return nil, err
	}
	if lc == nil || lc.State == StateCanceled || lc.State == StateRestored {
		return nil, bot.Errorf("none", "%s", c.T("countdown.none", nil))
	}
	return lc, nil
}

func (p *Plugin) statusCommand(ctx context.Context, c *bot.Call) error {
	lc, err := p.live(ctx, c)
	if err != nil {
		return err
	}
	now := p.env.Now()
	lang := c.Lang
	when, left := "-", "-"
	if !lc.Deadline.IsZero() {
		when = p.when(lc.Deadline)
		if lc.Deadline.After(now) {
			left = bot.FormatDuration(lc.Deadline.Sub(now), lang)
		} else {
			left = c.T("countdown.status.past", nil)
		}
	} else if lc.Length > 0 {
		left = bot.FormatDuration(lc.Length, lang)
	}
	var rem []string
	for _, r := range lc.Reminders {
		s := p.when(r.Due)
		if !r.Sent.IsZero() {
			s += "✓"
		}
		rem = append(rem, s)
	}
	if len(rem) == 0 {
		rem = append(rem, "-")
	}
	confirmed := bot.DisplayActor(lc.ConfirmedBy)
	if confirmed == "" {
		confirmed = c.T("countdown.status.pending", nil)
	}
	var extra strings.Builder
	if lc.Export != nil {
		extra.WriteString(c.T("countdown.status.export", map[string]string{"name": lc.Export.Name, "records": strconv.FormatInt(lc.Export.Records, 10), "sha": short(lc.Export.ManifestSHA256)}))
	}
	if lc.Score != nil {
		extra.WriteString(c.T("countdown.status.score", map[string]string{"score": strconv.Itoa(lc.Score.Total)}))
	}
	if lc.Task != "" {
		extra.WriteString(c.T("countdown.status.task", map[string]string{"task": lc.Task}))
	}
	if lc.Halt != "" && lc.State == StateHalted {
		extra.WriteString(c.T("countdown.status.halt", map[string]string{"halt": lc.Halt}))
	}
	if lc.Hold {
		extra.WriteString(c.T("countdown.status.hold", nil))
	}
	c.Reply(ctx, c.T("countdown.status", map[string]string{
		"group": p.groupName(lc), "state": c.T("countdown.state."+string(lc.State), nil), "when": when, "left": left,
		"mode": p.modeText(lc, lang), "reason": p.reason(lc, lang), "by": bot.DisplayActor(lc.By), "confirmed": confirmed,
		"reminders": strings.Join(rem, "、"), "extra": extra.String(),
	}))
	return nil
}

func (p *Plugin) cancelCommand(ctx context.Context, c *bot.Call) error {
	lc, err := p.live(ctx, c)
	if err != nil {
		return err
	}
	switch lc.State {
	case StateDissolving, StateDissolved:
		return bot.Errorf("too_late", "%s", c.T("countdown.too_late", map[string]string{"state": c.T("countdown.state."+string(lc.State), nil)}))
	}
	done, told, err := p.cancel(ctx, lc, actor(c), "canceled by "+actor(c))
	if err != nil {
		return err
	}
	if done == nil {
		return bot.Errorf("none", "%s", c.T("countdown.none", nil))
	}
	if c.InDM() || !told {
		c.Reply(ctx, c.T("countdown.canceled_by", map[string]string{"group": p.groupName(done)}))
	}
	return nil
}

func (p *Plugin) extendCommand(ctx context.Context, c *bot.Call) error {
	lc, err := p.live(ctx, c)
	if err != nil {
		return err
	}
	by := c.Args.Duration("length")
	cfg := p.cfg(c.Group)
	now := p.env.Now()
	if !(lc.State == StateCounting || lc.State == StateFrozen && lc.Waiting) {
		return bot.Errorf("not_now", "%s", c.T("countdown.not_now", map[string]string{"state": c.T("countdown.state."+string(lc.State), nil)}))
	}
	if lc.Deadline.Add(by).Sub(now) > cfg.MaxLength.D() {
		return bot.Errorf("too_long", "%s", c.T("countdown.too_long", map[string]string{"max": bot.FormatDuration(cfg.MaxLength.D(), c.Lang)}))
	}
	lc, ok, err := p.update(ctx, c.Group, lc.ID, func(lc *Lifecycle) error {
		if !(lc.State == StateCounting || lc.State == StateFrozen && lc.Waiting) {
			return errStale
		}
		lc.Deadline = lc.Deadline.Add(by)
		lc.Extends++
		if lc.State == StateCounting {
			// The reminders start over for the new deadline; the ones
			// already sent were for the old one.
			lc.Reminders = schedule(cfg.offsets(), now, lc.Deadline)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !ok {
		return bot.Errorf("none", "%s", c.T("countdown.none", nil))
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: c.Group, Actor: actor(c), Action: "countdown.extend",
		Detail: fmt.Sprintf("deadline moved %s later, to %s", bot.FormatDuration(by, bot.LangEN), lc.Deadline.UTC().Format(time.RFC3339)),
		Data:   map[string]string{"countdown": lc.ID, "deadline": lc.Deadline.UTC().Format(time.RFC3339)}}); err != nil {
		return err
	}
	if _, ok := p.timer(c.Group, "remind"); ok {
		_ = p.env.CancelTimer(ctx, timerID(c.Group, "remind"))
	}
	if err := p.setTimer(ctx, lc, "deadline", lc.Deadline, bot.MissedConfirm); err != nil {
		return err
	}
	if err := p.armTimers(ctx, lc); err != nil {
		return err
	}
	vars := map[string]string{"by": bot.FormatDuration(by, c.Lang), "when": p.when(lc.Deadline)}
	if !lc.Silent {
		if ok, err := p.mark(ctx, c.Group, lc.ID, "extend:"+strconv.Itoa(lc.Extends)); err != nil {
			return err
		} else if ok {
			p.announce(ctx, c.Group, p.env.T(p.env.Lang(c.Group), "countdown.extended", vars))
		}
	}
	if c.InDM() || lc.Silent {
		c.Reply(ctx, c.T("countdown.extended_by", vars))
	}
	return nil
}

func (p *Plugin) retryCommand(ctx context.Context, c *bot.Call) error {
	lc, err := p.live(ctx, c)
	if err != nil {
		return err
	}
	if lc.State != StateHalted {
		return bot.Errorf("not_now", "%s", c.T("countdown.not_now", map[string]string{"state": c.T("countdown.state."+string(lc.State), nil)}))
	}
	lang := p.env.Lang("")
	if _, err := p.ask(ctx, lc, "retry", p.env.T(lang, "countdown.action.retry", map[string]string{"group": p.groupName(lc), "halt": lc.Halt})); err != nil {
		return err
	}
	c.Reply(ctx, c.T("countdown.retry_asked", nil))
	return nil
}

func (p *Plugin) auditCommand(ctx context.Context, c *bot.Call) error {
	n := c.Args.Int("n")
	if n <= 0 {
		n = 10
	}
	n = min(n, 50)
	es, err := p.env.Store.AuditEntries(ctx, bot.AuditFilter{Group: c.Group, Limit: n})
	if err != nil {
		return err
	}
	if len(es) == 0 {
		c.Reply(ctx, c.T("countdown.audit.none", nil))
		return nil
	}
	chain := c.T("countdown.audit.ok", nil)
	rep, err := p.env.Runtime().Store().VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if !rep.OK() {
		chain = c.T("countdown.audit.broken", map[string]string{"seq": strconv.FormatUint(rep.BrokenAt, 10), "reason": rep.Reason})
	}
	scope := ""
	if c.Group != "" {
		scope = c.T("countdown.audit.scope", map[string]string{"group": c.GroupName})
	}
	var b strings.Builder
	b.WriteString(c.T("countdown.audit.header", map[string]string{"n": strconv.Itoa(len(es)), "scope": scope, "chain": chain}))
	for _, e := range es {
		fmt.Fprintf(&b, "\n#%d %s %s %s：%s", e.Seq, p.when(e.Time), auditLabel(e.Action, c.Lang), e.Actor, oneLine(e.Detail, 80))
	}
	c.Reply(ctx, b.String())
	return nil
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
