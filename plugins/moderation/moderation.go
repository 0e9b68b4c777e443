// Package moderation keeps managed groups clean: keyword and expression
// word lists in categories, antiflood, and a warning ladder that turns
// accumulated points into a public warning, a DM to the admins with the
// evidence, and removal (a kick where the platform can, an operator task
// with the phone steps on web WeChat). Every action goes into the audit
// log with the triggering text, so false positives can be reviewed.
//
// Matching is done by package engine (normalisation, one-pass
// Aho-Corasick, RE2 expressions, allow-lists); this package is the policy
// around it. A config version's word lists are compiled when the config is
// validated, so a broken word file or expression is refused with its file
// and line and the running version stays; the compiled matcher rides on
// that config version, which the runtime swaps atomically on reload.
//
// Antiflood is part of this plugin rather than its own because its
// offences share everything with keyword hits: the ladder and its points,
// the exemptions, the actions and the audit records.
package moderation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/moderation/engine"
)

// Plugin is the moderation plugin.
type Plugin struct {
	env   *bot.Env
	flood *floodTracker
	// lists is the fingerprint of the global word lists in force, so a
	// reload that changes them is audited once.
	lists atomic.Pointer[string]
}

// New returns the plugin.
func New() *Plugin { return &Plugin{flood: newFloodTracker()} }

// Name implements bot.Plugin.
func (p *Plugin) Name() string { return "moderation" }

// DefaultConfig implements bot.Configurable.
func (p *Plugin) DefaultConfig() any { return defaultConfig() }

// Init implements bot.Initializer.
func (p *Plugin) Init(env *bot.Env) error {
	p.env = env
	fp := p.fingerprint()
	p.lists.Store(&fp)
	return env.Cron("flood_sweep", "@every 30m", func(ctx context.Context) {
		f := bot.ConfigFor[Config](p.env, "").Flood
		keep := max(f.Rate.Within.D(), f.Repeat.Within.D(), f.Wave.Within.D(), time.Minute)
		p.flood.sweep(p.env.Now(), keep)
	})
}

func (p *Plugin) fingerprint() string {
	if wl := bot.ConfigFor[Config](p.env, "").compiled; wl != nil {
		return wl.fingerprint
	}
	return ""
}

// Reload implements bot.Reloader. The new config version arrives with its
// word lists already compiled (they were checked at validation); when they
// changed, the change is audited with their sizes and fingerprint, which
// every hit record also carries.
func (p *Plugin) Reload(ctx context.Context) error {
	cfg := bot.ConfigFor[Config](p.env, "")
	fp := p.fingerprint()
	old := p.lists.Swap(&fp)
	if old != nil && *old == fp {
		return nil
	}
	wl := cfg.compiled
	if wl == nil {
		wl = &wordlist{}
	}
	p.env.Log.Info("word lists reloaded", "words", wl.words, "regexes", wl.regexes, "allow", wl.allows, "lists", fp)
	_, err := p.env.Audit(ctx, bot.AuditEntry{Action: "moderation.lists",
		Detail: fmt.Sprintf("word lists now %d words, %d expressions, %d allow entries (lists %s)", wl.words, wl.regexes, wl.allows, fp),
		Data:   map[string]string{"lists": fp, "words": strconv.Itoa(wl.words), "regexes": strconv.Itoa(wl.regexes), "allow": strconv.Itoa(wl.allows)}})
	return err
}

// HandleEvent implements bot.EventHandler: every group message from a
// person is checked for floods, spam waves and the word lists.
func (p *Plugin) HandleEvent(ctx context.Context, ev *bot.Event) error {
	if ev.Group == "" {
		return nil // DMs (operators' included) are never moderated
	}
	if ev.Kind == bot.EventMemberLeft {
		var us []bot.UserID
		for _, m := range ev.Members {
			us = append(us, m.ID)
		}
		p.flood.forget(ev.Group, us)
		return nil
	}
	if ev.Kind != bot.EventMessage || ev.Message == nil || ev.FromSelf || ev.Sender == "" || ev.Sender == bot.SelfID {
		return nil
	}
	rec, ok := p.env.Group(ev.Group)
	if !ok || rec.Frozen {
		return nil
	}
	cfg := bot.ConfigFor[Config](p.env, ev.Group)
	if !cfg.Enabled {
		return nil
	}
	var role bot.Role
	roleOf := func() bot.Role {
		if role == 0 {
			role = p.env.Role(ctx, ev.Group, ev.Sender)
		}
		return role
	}
	// Commands of admins and up are theirs to phrase (a /warn reason quotes
	// the offending words); members' commands are checked like any text.
	if ev.IsCommand && roleOf() >= bot.RoleAdmin {
		return nil
	}
	exempt := func() bool { return roleOf() >= cfg.exemptRole() }
	now := p.env.Now()
	text := ev.Message.Text
	key, keyed := uint64(0), false
	if ev.Message.Type == bot.MsgText {
		key, keyed = p.flood.textKey(text, cfg.Flood.MinLength)
	}

	var errs []error
	if hit, fired := p.flood.observe(ev.Group, ev.Sender, now, text, key, keyed, cfg.Flood); fired && !exempt() {
		errs = append(errs, p.floodOffence(ctx, cfg, ev, hit))
	}
	if keyed && !exempt() {
		global := bot.ConfigFor[Config](p.env, "")
		if wh, ok := p.flood.observeWave(post{g: ev.Group, u: ev.Sender, name: ev.SenderName, at: now}, text, key, global.Flood.Wave); ok {
			errs = append(errs, p.waveOffence(ctx, global, wh))
		}
	}
	if ev.Message.Type == bot.MsgText {
		var hits []engine.Hit
		if m := cfg.matcher(); m != nil && m.Any(text) {
			hits = m.Match(text, hits)
		}
		hits = cfg.detect(text, hits)
		if len(hits) > 0 && !exempt() {
			errs = append(errs, p.keywordOffence(ctx, cfg, ev, hits))
		}
	}
	return errors.Join(errs...)
}

// keywordOffence turns a message's hits into an incident: one finding per
// category, the first hit of each named in public and all of them in the
// audit record.
func (p *Plugin) keywordOffence(ctx context.Context, cfg *Config, ev *bot.Event, hits []engine.Hit) error {
	wl := cfg.compiled
	text := ev.Message.Text
	hits = sortHits(hits)
	byCat := map[string]*finding{}
	var order []string
	var all []string
	for _, h := range hits {
		var r rule
		if h.Pattern >= 0 {
			r = wl.rules[h.Pattern]
		} else {
			r = rule{category: cfg.detectorCategory(h.Pattern), entry: "detector:" + detectorNames[h.Pattern]}
		}
		match := text[h.Start:h.End]
		all = append(all, fmt.Sprintf("%s:%s@%d-%d", r.category, r.entry, h.Start, h.End))
		if byCat[r.category] != nil {
			continue
		}
		cat := cfg.Categories[r.category]
		f := &finding{category: r.category, label: cat.Label, points: cat.Points, level: cat.level, silent: cat.Silent, rule: r.entry, match: match}
		f.describe = func(lang bot.Lang) string {
			entry := f.rule
			if name, ok := strings.CutPrefix(f.rule, "detector:"); ok {
				entry = p.env.T(lang, "moderation.detector."+name, nil)
			}
			return p.env.T(lang, "moderation.rule_word", map[string]string{"label": f.label.In(lang), "entry": entry, "match": f.match})
		}
		byCat[r.category] = f
		order = append(order, r.category)
	}
	inc := incident{kind: "hit", group: ev.Group, user: ev.Sender, name: ev.SenderName, evidence: text, msgID: ev.Message.ID, hits: strings.Join(all, "; ")}
	for _, c := range order {
		inc.findings = append(inc.findings, *byCat[c])
	}
	_, err := p.process(ctx, inc)
	return err
}

// builtinFinding is a finding of a built-in check.
func (p *Plugin) builtinFinding(category string, pen Penalty, rule string, describe func(lang bot.Lang) string) finding {
	return finding{category: category, label: catalog["moderation.cat."+category], points: pen.Points, level: pen.level, rule: rule, describe: describe}
}

// floodOffence handles a rate or repeat check that fired: one alert to the
// operators (deduplicated per member and group) and one incident.
func (p *Plugin) floodOffence(ctx context.Context, cfg *Config, ev *bot.Event, hit floodHit) error {
	pen := cfg.Flood.Rate.Penalty
	if hit.kind == catRepeat {
		pen = cfg.Flood.Repeat.Penalty
	}
	count, within := strconv.Itoa(hit.count), hit.within
	f := p.builtinFinding(hit.kind, pen, fmt.Sprintf("%s %d/%s", hit.kind, hit.count, bot.FormatDuration(within, bot.LangEN)), nil)
	f.describe = func(lang bot.Lang) string {
		return p.env.T(lang, "moderation.rule_flood", map[string]string{"label": f.label.In(lang), "count": count, "within": bot.FormatDuration(within, lang)})
	}
	loc := p.env.Global().Location
	var lines []string
	for _, s := range hit.evidence {
		lines = append(lines, s.at.In(loc).Format("15:04:05")+" "+s.text)
	}
	inc := incident{kind: hit.kind, group: ev.Group, user: ev.Sender, name: ev.SenderName, evidence: strings.Join(lines, "\n"),
		msgID: ev.Message.ID, findings: []finding{f}, alerted: true}
	out, err := p.process(ctx, inc)
	if err != nil {
		return err
	}
	lang := p.env.Lang(ev.Group)
	action := p.env.T(lang, "moderation.level."+out.Level.String(), nil)
	if !out.Announce && out.Level > LevelLog {
		// The ladder held the public step back (notice cooldown): say
		// what did happen.
		action = p.env.T(lang, "moderation.level.held", map[string]string{"level": action, "total": strconv.Itoa(out.Total)})
	}
	p.env.Alert(ctx, bot.Alert{Kind: bot.AlertSpamWave, Group: ev.Group, Key: "flood/" + string(ev.Group) + "/" + string(ev.Sender),
		Text: p.env.T(lang, "moderation.alert_flood", map[string]string{"group": ev.GroupName, "name": ev.SenderName, "rule": f.describe(lang),
			"action": action, "text": clip(inc.evidence, 600)}),
		Data: map[string]string{"user": string(ev.Sender), "check": hit.kind, "count": count}})
	return nil
}

// waveOffence handles a spam wave: one alert for the wave, and an incident
// for each member who posted it (in each group), each judged by the
// ladder of their group.
func (p *Plugin) waveOffence(ctx context.Context, global *Config, wh waveHit) error {
	lang := p.env.Lang("")
	var names, senders []string
	seen := map[string]bool{}
	for _, g := range wh.groups {
		rec, _ := p.env.Group(g)
		names = append(names, p.env.T(lang, "moderation.quoted", map[string]string{"name": rec.Name}))
	}
	for _, ps := range wh.posts {
		if !seen[ps.name] {
			seen[ps.name] = true
			senders = append(senders, ps.name)
		}
	}
	sort.Strings(senders)
	n, within := len(wh.groups), global.Flood.Wave.Within.D()
	if wh.first {
		p.env.Alert(ctx, bot.Alert{Kind: bot.AlertSpamWave, Key: fmt.Sprintf("wave/%x", wh.key),
			Text: p.env.T(lang, "moderation.alert_wave", map[string]string{"within": bot.FormatDuration(within, lang), "n": strconv.Itoa(n),
				"groups": strings.Join(names, listSep(lang)), "senders": strings.Join(senders, listSep(lang)), "text": clip(wh.text, 300)}),
			Data: map[string]string{"groups": strconv.Itoa(n)}})
	}
	for _, ps := range wh.posts {
		cfg := bot.ConfigFor[Config](p.env, ps.g)
		if rec, ok := p.env.Group(ps.g); !ok || rec.Frozen || !cfg.Enabled {
			continue
		}
		f := p.builtinFinding(catWave, cfg.Flood.Wave.Penalty, fmt.Sprintf("wave %d groups/%s", n, bot.FormatDuration(within, bot.LangEN)), nil)
		f.describe = func(lang bot.Lang) string {
			return p.env.T(lang, "moderation.rule_wave", map[string]string{"label": f.label.In(lang), "groups": strconv.Itoa(n), "within": bot.FormatDuration(within, lang)})
		}
		if _, err := p.process(ctx, incident{kind: "wave", group: ps.g, user: ps.u, name: ps.name, evidence: wh.text, findings: []finding{f}, alerted: true}); err != nil {
			return err
		}
	}
	return nil
}

// GroupStatus implements bot.StatusReporter: how many members of g have
// points that still count, and how many removals wait for a human.
func (p *Plugin) GroupStatus(ctx context.Context, g bot.GroupID, lang bot.Lang) string {
	cfg := bot.ConfigFor[Config](p.env, g)
	if !cfg.Enabled {
		return p.env.T(lang, "moderation.status_off", nil)
	}
	now := p.env.Now()
	members, tasks := 0, 0
	err := p.env.KV.Scan(ctx, "member/"+string(g)+"/", func(_ string, val []byte) error {
		var s memberState
		if err := json.Unmarshal(val, &s); err != nil {
			return err
		}
		s.prune(now, cfg.Ladder.Decay.D())
		if s.total() > 0 {
			members++
		}
		if s.Task != "" {
			tasks++
		}
		return nil
	})
	if err != nil {
		p.env.Log.Error("member states not read", "group_id", string(g), "err", err)
	}
	return p.env.T(lang, "moderation.status", map[string]string{"members": strconv.Itoa(members), "tasks": strconv.Itoa(tasks),
		"decay": bot.FormatDuration(cfg.Ladder.Decay.D(), lang)})
}

// TaskClosed implements bot.TaskWatcher: a removal task was verified (the
// member is gone), expired or canceled.
func (p *Plugin) TaskClosed(ctx context.Context, t bot.Task) error {
	if t.Kind != "remove_member" {
		return nil
	}
	for _, u := range t.Users {
		if err := p.updateState(ctx, t.Group, u, func(s *memberState) {
			if s.Task == t.ID {
				s.Task = ""
			}
		}); err != nil {
			return err
		}
	}
	if t.State == bot.TaskVerified {
		_, err := p.env.Audit(ctx, bot.AuditEntry{Group: t.Group, Action: "moderation.removed",
			Detail: "removal verified: " + t.Title, Data: map[string]string{"task": t.ID, "users": t.Ref}})
		return err
	}
	return nil
}

var (
	_ bot.EventHandler   = (*Plugin)(nil)
	_ bot.Configurable   = (*Plugin)(nil)
	_ bot.Reloader       = (*Plugin)(nil)
	_ bot.TaskWatcher    = (*Plugin)(nil)
	_ bot.Texter         = (*Plugin)(nil)
	_ bot.Initializer    = (*Plugin)(nil)
	_ bot.StatusReporter = (*Plugin)(nil)
)
