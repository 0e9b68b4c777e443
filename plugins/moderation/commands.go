package moderation

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/qunguan/qunguan/bot"
)

// Commands implements bot.Commander.
func (p *Plugin) Commands() []*bot.Command {
	name := bot.Arg{Name: "name", Label: catalog["moderation.label.name"], Kind: bot.ArgString}
	return []*bot.Command{
		{Name: "warn", Aliases: []string{"警告"}, Help: catalog["moderation.help.warn"],
			Args: []bot.Arg{name, {Name: "reason", Label: catalog["moderation.label.reason"], Kind: bot.ArgRest, Optional: true}},
			Perm: bot.RoleAdmin, Scope: bot.ScopeGroup, Run: p.warn},
		{Name: "warns", Aliases: []string{"违规记录"}, Help: catalog["moderation.help.warns"],
			Args: []bot.Arg{{Name: "name", Label: catalog["moderation.label.name"], Kind: bot.ArgRest, Optional: true}},
			Perm: bot.RoleMember, Scope: bot.ScopeGroup, Run: p.warns},
		{Name: "unwarn", Aliases: []string{"撤销警告"}, Help: catalog["moderation.help.unwarn"],
			Args: []bot.Arg{{Name: "name", Label: catalog["moderation.label.name"], Kind: bot.ArgRest}},
			Perm: bot.RoleAdmin, Scope: bot.ScopeGroup, Run: p.unwarn},
	}
}

// resolve finds the member a command names; the reply is set when the
// name matched nobody or several people (a numbered choice). With former,
// people who have left are found too (when no present member matches):
// their record must stay reviewable and undoable.
func (p *Plugin) resolve(ctx context.Context, c *bot.Call, query string, former bool) (bot.MemberRecord, bool) {
	resolve := p.env.ResolveMember
	if former {
		resolve = p.env.ResolveFormerMember
	}
	m, reply := resolve(ctx, c.Group, query, c.Asker(), c.Lang)
	if reply != "" {
		c.Reply(ctx, reply)
		return m, false
	}
	return m, true
}

func (p *Plugin) warn(ctx context.Context, c *bot.Call) error {
	m, ok := p.resolve(ctx, c, c.Args.String("name"), false)
	if !ok {
		return nil
	}
	if role := p.env.Role(ctx, c.Group, m.User); m.User == bot.SelfID || role >= c.Role {
		return bot.Errorf("cannot_warn", "%s", c.T("moderation.cannot_warn", map[string]string{"role": role.Name(c.Lang)}))
	}
	cfg := bot.ConfigFor[Config](p.env, c.Group)
	reason := strings.TrimSpace(c.Args.String("reason"))
	f := p.builtinFinding(catManual, Penalty{Points: cfg.ManualPoints, level: LevelWarn}, "manual", nil)
	f.describe = func(lang bot.Lang) string {
		if reason == "" {
			return f.label.In(lang)
		}
		if lang == bot.LangEN {
			return f.label.In(lang) + ": " + reason
		}
		return f.label.In(lang) + "：" + reason
	}
	evidence := reason
	if evidence == "" {
		evidence = c.Event.Text()
	}
	out, err := p.process(ctx, incident{kind: "warn", group: c.Group, user: m.User, name: m.DisplayName(), evidence: evidence,
		msgID: c.Event.Message.ID, findings: []finding{f}, by: bot.ActorName(c.Asker(), c.AskerName()), byName: c.AskerName(), byUser: c.Asker(), reason: reason})
	if err != nil {
		return err
	}
	if c.InDM() {
		c.Reply(ctx, c.T("moderation.warned_dm", map[string]string{"group": c.GroupName, "name": m.DisplayName(),
			"total": strconv.Itoa(out.Total), "decay": bot.FormatDuration(cfg.Ladder.Decay.D(), c.Lang)}))
	}
	return nil
}

func (p *Plugin) warns(ctx context.Context, c *bot.Call) error {
	cfg := bot.ConfigFor[Config](p.env, c.Group)
	user, name := c.Asker(), c.AskerName()
	if q := strings.TrimSpace(c.Args.String("name")); q != "" {
		m, ok := p.resolve(ctx, c, q, true)
		if !ok {
			return nil
		}
		if m.User != c.Asker() && c.Role < bot.RoleAdmin {
			return bot.Errorf("not_yours", "%s", c.T("moderation.warns_others", nil))
		}
		user, name = m.User, m.DisplayName()
	}
	s, err := p.state(ctx, c.Group, user)
	if err != nil {
		return err
	}
	now := p.env.Now()
	s.prune(now, cfg.Ladder.Decay.D())
	decay := bot.FormatDuration(cfg.Ladder.Decay.D(), c.Lang)
	if len(s.Offences) == 0 && s.Task == "" {
		c.Reply(ctx, c.T("moderation.warns_none", map[string]string{"name": name, "decay": decay}))
		return nil
	}
	var steps []string
	for _, st := range cfg.Ladder.Steps {
		steps = append(steps, c.T("moderation.step", map[string]string{"points": strconv.Itoa(st.Points), "what": c.T("moderation.what."+st.level.String(), nil)}))
	}
	var b strings.Builder
	b.WriteString(c.T("moderation.warns_header", map[string]string{"name": name, "total": strconv.Itoa(s.total()), "decay": decay, "steps": strings.Join(steps, listSep(c.Lang))}))
	loc := p.env.Global().Location
	for _, o := range s.Offences {
		b.WriteString("\n")
		b.WriteString(c.T("moderation.warns_line", map[string]string{"time": o.At.In(loc).Format("01-02 15:04"), "rule": p.describeOffence(cfg, o, c.Lang), "points": strconv.Itoa(o.Points)}))
	}
	if s.Task != "" {
		b.WriteString("\n")
		b.WriteString(c.T("moderation.warns_task", map[string]string{"id": s.Task}))
	}
	c.Reply(ctx, b.String())
	return nil
}

// describeOffence names an offence in /warns: the category label, and the
// reason of a manual warning. The matched words are not repeated in the
// group; admins have them in their DM and the audit log.
func (p *Plugin) describeOffence(cfg *Config, o offence, lang bot.Lang) string {
	label := o.Category
	if cat, ok := cfg.Categories[o.Category]; ok {
		label = cat.Label.In(lang)
	} else if t, ok := catalog["moderation.cat."+o.Category]; ok {
		label = t.In(lang)
	}
	if o.Reason != "" {
		if lang == bot.LangEN {
			label += ": " + o.Reason
		} else {
			label += "：" + o.Reason
		}
	}
	if o.By != "" {
		label += p.env.T(lang, "moderation.by", map[string]string{"name": o.By})
	}
	return label
}

func (p *Plugin) unwarn(ctx context.Context, c *bot.Call) error {
	m, ok := p.resolve(ctx, c, c.Args.String("name"), true)
	if !ok {
		return nil
	}
	cfg := bot.ConfigFor[Config](p.env, c.Group)
	now := p.env.Now()
	var undone offence
	var found bool
	var total int
	var task string
	if err := p.updateState(ctx, c.Group, m.User, func(s *memberState) {
		undone, found = undo(cfg, s, now)
		total, task = s.total(), s.Task
	}); err != nil {
		return err
	}
	decay := bot.FormatDuration(cfg.Ladder.Decay.D(), c.Lang)
	if !found {
		c.Reply(ctx, c.T("moderation.unwarn_none", map[string]string{"name": m.DisplayName(), "decay": decay}))
		return nil
	}
	by := bot.ActorName(c.Asker(), c.AskerName())
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: c.Group, Actor: by, Action: "moderation.unwarn",
		Detail:   fmt.Sprintf("%s: undid %s (+%d) of %s; now %d", bot.ActorName(m.User, m.DisplayName()), undone.Category, undone.Points, undone.At.Format("2006-01-02 15:04:05"), total),
		Evidence: undone.Match, Data: map[string]string{"user": string(m.User), "category": undone.Category, "rule": undone.Rule, "points": strconv.Itoa(undone.Points), "total": strconv.Itoa(total)}}); err != nil {
		return err
	}
	c.Reply(ctx, c.T("moderation.unwarned", map[string]string{"name": m.DisplayName(), "rule": p.describeOffence(cfg, undone, c.Lang),
		"points": strconv.Itoa(undone.Points), "total": strconv.Itoa(total)}))
	// Undoing a false positive also withdraws the removal it caused.
	if task != "" && cfg.ladderLevel(total) < LevelRemove {
		if err := p.cancelTask(ctx, c, task, m.User); err != nil {
			return err
		}
	}
	return nil
}

// cancelTask withdraws an open removal task.
func (p *Plugin) cancelTask(ctx context.Context, c *bot.Call, id string, u bot.UserID) error {
	tasks, err := p.env.Store.Tasks(ctx)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if t.ID != id || (t.State != bot.TaskOpen && t.State != bot.TaskDone) {
			continue
		}
		t.State, t.Note = bot.TaskCanceled, "withdrawn by /unwarn from "+bot.ActorName(c.Asker(), c.AskerName())
		if err := p.env.UpdateTask(ctx, t); err != nil {
			return err
		}
		if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: t.Group, Actor: bot.ActorName(c.Asker(), c.AskerName()), Action: "task.canceled",
			Detail: t.Title, Data: map[string]string{"task": t.ID, "note": t.Note}}); err != nil {
			return err
		}
		p.clearTask(ctx, c.Group, u)
		text := c.T("moderation.task_canceled", map[string]string{"id": t.ID})
		c.Reply(ctx, text)
		p.env.NotifyOperators(ctx, text+" "+t.Title, bot.PrioReply)
		return nil
	}
	p.clearTask(ctx, c.Group, u)
	return nil
}
