package moderation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qunguan/qunguan/bot"
)

// finding is one category's part in an incident.
type finding struct {
	category string
	label    bot.Text
	points   int
	level    Level
	silent   bool
	rule     string // the entry or check, as the user configured it
	match    string // the flagged part of the original text
	// describe renders the rule for the admins' DM and /warns.
	describe func(lang bot.Lang) string
}

// incident is one thing a member did that moderation acts on.
type incident struct {
	kind     string // audit action suffix: hit, flood, repeat, wave, warn
	group    bot.GroupID
	user     bot.UserID
	name     string
	evidence string // the original text, verbatim
	msgID    string
	findings []finding
	// by, byUser and reason are set for manual warnings.
	by, byName, reason string
	byUser             bot.UserID
	// alerted: operators already got an alert about it, so the admins' DM
	// does not go to them again.
	alerted bool
	// hits lists every hit for the audit record.
	hits string
}

// outcome is what process did, for command replies and alerts.
type outcome struct {
	verdict
	removed string // "kick", "task" or ""
}

func memberKeyKV(g bot.GroupID, u bot.UserID) string { return "member/" + string(g) + "/" + string(u) }

func (p *Plugin) state(ctx context.Context, g bot.GroupID, u bot.UserID) (memberState, error) {
	var s memberState
	raw, err := p.env.KV.Get(ctx, memberKeyKV(g, u))
	if errors.Is(err, bot.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	err = json.Unmarshal(raw, &s)
	return s, err
}

// updateState applies f to the member's state in one transaction.
func (p *Plugin) updateState(ctx context.Context, g bot.GroupID, u bot.UserID, f func(*memberState)) error {
	return p.env.KV.Update(ctx, memberKeyKV(g, u), func(old []byte) ([]byte, error) {
		var s memberState
		if old != nil {
			if err := json.Unmarshal(old, &s); err != nil {
				return nil, fmt.Errorf("member state: %w", err)
			}
		}
		f(&s)
		if len(s.Offences) == 0 && s.Task == "" {
			return nil, nil
		}
		return json.Marshal(s)
	})
}

// process records an incident on the ladder, audits it with its evidence
// and takes the actions its level calls for.
func (p *Plugin) process(ctx context.Context, inc incident) (outcome, error) {
	cfg := bot.ConfigFor[Config](p.env, inc.group)
	now := p.env.Now()
	var offs []offence
	var base Level
	for _, f := range inc.findings {
		offs = append(offs, offence{At: now, Points: f.points, Category: f.category, Rule: f.rule, Match: f.match, By: inc.byName, Reason: inc.reason})
		base = max(base, f.level)
	}
	var out outcome
	err := p.updateState(ctx, inc.group, inc.user, func(s *memberState) {
		out.verdict = record(cfg, s, offs, base, now)
		if inc.by != "" {
			// An admin's own /warn is always said out loud.
			out.Announce, s.Notice, s.NoticeAt = true, max(s.Notice, out.Level), now
		}
		if out.Remove {
			// Claimed now so a second incident cannot start another removal.
			s.Task = "pending"
		}
	})
	if err != nil {
		return out, err
	}
	lang := p.env.Lang(inc.group)
	en := bot.LangEN
	var cats, rules []string
	for _, f := range inc.findings {
		cats = append(cats, f.category)
		rules = append(rules, f.describe(en))
	}
	actor := ""
	if inc.by != "" {
		actor = inc.by
	}
	data := map[string]string{
		"user": string(inc.user), "name": inc.name, "categories": strings.Join(cats, ","),
		"points": strconv.Itoa(out.Points), "total": strconv.Itoa(out.Total), "level": out.Level.String(),
		"announced": strconv.FormatBool(out.Announce),
	}
	if inc.msgID != "" {
		data["msg_id"] = inc.msgID
	}
	if inc.hits != "" {
		data["hits"] = inc.hits
	}
	if wl := cfg.compiled; wl != nil && inc.kind == "hit" {
		data["lists"] = wl.fingerprint
	}
	if inc.reason != "" {
		data["reason"] = inc.reason
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: inc.group, Actor: actor, Action: "moderation." + inc.kind,
		Detail: fmt.Sprintf("%s: %s (+%d, %d within %s) -> %s", bot.ActorName(inc.user, inc.name), strings.Join(rules, "; "),
			out.Points, out.Total, bot.FormatDuration(cfg.Ladder.Decay.D(), en), out.Level),
		Evidence: inc.evidence, Data: data}); err != nil {
		return out, err
	}
	p.env.Log.Info("offence recorded", "group_id", string(inc.group), "user_id", string(inc.user), "kind", inc.kind,
		"points", out.Points, "total", out.Total, "level", out.Level.String(), "announced", out.Announce)

	vars := map[string]string{
		"name": inc.name, "points": strconv.Itoa(out.Points), "total": strconv.Itoa(out.Total),
		"decay": bot.FormatDuration(cfg.Ladder.Decay.D(), lang), "next": p.nextHint(cfg, out.Total, lang),
	}
	if out.Remove {
		out.removed = p.remove(ctx, cfg, inc, out.Total)
	}
	// What members see: the removal, or a warning, never the flagged words.
	var labels []string
	for _, f := range inc.findings {
		if !f.silent {
			labels = append(labels, f.label.In(lang))
		}
	}
	public := ""
	switch {
	case len(labels) == 0 && inc.by == "":
	case out.removed == "kick":
		public = p.env.T(lang, "moderation.removed_kick", vars)
	case out.removed == "task":
		public = p.env.T(lang, "moderation.removed_task", vars)
	case out.Announce && inc.by != "":
		vars["reason"] = inc.reason
		if inc.reason == "" {
			vars["reason"] = p.env.T(lang, "moderation.no_reason", nil)
		}
		public = p.env.T(lang, "moderation.warn_manual", vars)
	case out.Announce && out.Level >= LevelWarn:
		vars["rule"] = strings.Join(labels, listSep(lang))
		public = p.env.T(lang, "moderation.warn", vars)
	}
	if public != "" {
		p.env.Send(ctx, bot.ToGroup(inc.group), strings.TrimSpace(public), bot.PrioModeration)
	}
	if (out.Announce || out.removed != "") && out.Level >= LevelNotify {
		p.notify(ctx, cfg, inc, out, now)
	}
	return out, nil
}

// listSep joins items of a list in lang.
func listSep(lang bot.Lang) string {
	if lang == bot.LangEN {
		return ", "
	}
	return "、"
}

// nextHint tells the member what the next ladder step is.
func (p *Plugin) nextHint(cfg *Config, total int, lang bot.Lang) string {
	s, ok := cfg.nextStep(total)
	if !ok {
		return ""
	}
	return p.env.T(lang, "moderation.next", map[string]string{"n": strconv.Itoa(s.Points), "what": p.env.T(lang, "moderation.what."+s.level.String(), nil)})
}

// clip shortens s to n characters for a DM (the audit keeps all of it).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// notify DMs the evidence to the group's admins who are the bot's friends
// (the bot can only DM friends) and to the operators.
func (p *Plugin) notify(ctx context.Context, cfg *Config, inc incident, out outcome, now time.Time) {
	lang := p.env.Lang(inc.group)
	var rules []string
	for _, f := range inc.findings {
		rules = append(rules, f.describe(lang))
	}
	rec, _ := p.env.Group(inc.group)
	action := p.env.T(lang, "moderation.level."+out.Level.String(), nil)
	text := p.env.T(lang, "moderation.dm", map[string]string{
		"group": rec.Name, "name": inc.name, "user": string(inc.user),
		"time": now.In(p.env.Global().Location).Format("01-02 15:04:05"), "rules": strings.Join(rules, listSep(lang)),
		"text": clip(inc.evidence, 500), "points": strconv.Itoa(out.Points), "total": strconv.Itoa(out.Total),
		"decay": bot.FormatDuration(cfg.Ladder.Decay.D(), lang), "action": action,
	})
	admins, err := p.env.Store.Admins(ctx, inc.group)
	if err != nil {
		p.env.Log.Error("admins not read", "group_id", string(inc.group), "err", err)
	}
	friends := map[bot.UserID]bool{}
	if len(admins) > 0 {
		fs, err := p.env.Platform().Friends(ctx)
		if err != nil {
			p.env.Log.Warn("friends not read for admin notice", "err", err)
		}
		for _, f := range fs {
			friends[f.ID] = true
		}
	}
	for _, a := range admins {
		if a.User == inc.user || a.User == inc.byUser || !friends[a.User] || p.env.Role(ctx, inc.group, a.User) >= bot.RoleOperator {
			continue
		}
		p.env.Send(ctx, bot.ToUser(a.User), text, bot.PrioModeration)
	}
	if !inc.alerted {
		p.env.NotifyOperators(ctx, text, bot.PrioModeration)
	}
}

// remove takes the member out of the group: a kick where the platform can
// (verified by reading the member list), else an operator task that
// closes itself when the member is seen gone. It returns "kick" or "task".
func (p *Plugin) remove(ctx context.Context, cfg *Config, inc incident, total int) string {
	lang := p.env.Lang(inc.group)
	if k, ok := p.env.Platform().(bot.Kicker); ok {
		err := k.Kick(ctx, inc.group, inc.user)
		if err == nil {
			err = p.verifyGone(ctx, inc.group, inc.user)
		}
		if err == nil {
			_, _ = p.env.Audit(ctx, bot.AuditEntry{Group: inc.group, Action: "moderation.kick",
				Detail:   fmt.Sprintf("%s removed at %d points; verified gone from the member list", bot.ActorName(inc.user, inc.name), total),
				Evidence: inc.evidence, Data: map[string]string{"user": string(inc.user)}})
			p.clearTask(ctx, inc.group, inc.user)
			return "kick"
		}
		p.env.Log.Warn("kick failed, asking a human", "group_id", string(inc.group), "user_id", string(inc.user), "err", err)
		_, _ = p.env.Audit(ctx, bot.AuditEntry{Group: inc.group, Action: "moderation.kick_failed",
			Detail: fmt.Sprintf("%s: %v", bot.ActorName(inc.user, inc.name), err), Data: map[string]string{"user": string(inc.user)}})
	}
	rec, _ := p.env.Group(inc.group)
	nick := inc.name
	if m, err := p.env.Store.Member(ctx, inc.group, inc.user); err == nil && m.Nick != "" {
		nick = m.Nick
	}
	vars := map[string]string{"group": rec.Name, "name": inc.name, "nick": nick, "user": string(inc.user),
		"total": strconv.Itoa(total), "decay": bot.FormatDuration(cfg.Ladder.Decay.D(), lang)}
	t, err := p.env.CreateTask(ctx, bot.Task{Kind: "remove_member", Ref: string(inc.user), Group: inc.group, Users: []bot.UserID{inc.user},
		Title: p.env.T(lang, "moderation.task_title", vars), Steps: p.env.T(lang, "moderation.task_steps", vars), Watch: bot.WatchMembersGone})
	if err != nil {
		p.env.Log.Error("removal task not created", "group_id", string(inc.group), "err", err)
		p.clearTask(ctx, inc.group, inc.user)
		return ""
	}
	if err := p.updateState(ctx, inc.group, inc.user, func(s *memberState) { s.Task = t.ID }); err != nil {
		p.env.Log.Error("removal task not noted", "task", t.ID, "err", err)
	}
	return "task"
}

func (p *Plugin) verifyGone(ctx context.Context, g bot.GroupID, u bot.UserID) error {
	ms, err := p.env.Platform().Members(ctx, g)
	if err != nil {
		return fmt.Errorf("member list not read after kick: %w", err)
	}
	for _, m := range ms {
		if m.ID == u {
			return errors.New("still listed after kick")
		}
	}
	return nil
}

func (p *Plugin) clearTask(ctx context.Context, g bot.GroupID, u bot.UserID) {
	if err := p.updateState(ctx, g, u, func(s *memberState) { s.Task = "" }); err != nil {
		p.env.Log.Error("member state not updated", "group_id", string(g), "err", err)
	}
}
