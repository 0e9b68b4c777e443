package countdown

import (
	"context"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// checkRules starts a countdown request for each managed group whose
// config rules name a deadline within reach (the longest reminder offset):
// dissolve N days after the bot first saw the group, at a cron time, or
// after N days without a message from a person. Each request still needs
// an operator's code. A request nobody confirmed is asked again after a
// day; one a person canceled is not asked again for the same deadline.
func (p *Plugin) checkRules(ctx context.Context) {
	p.mu.Lock()
	ready := p.reconciled
	p.mu.Unlock()
	if !ready {
		return
	}
	now := p.env.Now()
	for _, cached := range p.env.ManagedGroups() {
		cfg := p.cfg(cached.ID)
		if !cfg.Rules.any() {
			continue
		}
		g, err := p.env.Store.Group(ctx, cached.ID)
		if err != nil || g.Gone || !g.BotPresent {
			continue
		}
		rule, deadline := p.ruleDeadline(cfg, g, now)
		if rule == "" {
			continue
		}
		lead := cfg.Rules.MinNotice.D()
		if offs := cfg.offsets(); len(offs) > 0 && offs[0] > lead {
			lead = offs[0]
		}
		if deadline.Sub(now) > lead {
			continue
		}
		key := rule + "@" + deadline.UTC().Format(time.RFC3339)
		lc, err := p.load(ctx, g.ID)
		if err != nil {
			p.env.Log.Error("lifecycle not read for rules", "group_id", string(g.ID), "err", err)
			continue
		}
		if lc != nil {
			if !lc.State.terminal() || lc.State == StateDissolved {
				continue
			}
			if lc.RuleKey == key && (lc.Canceled != lapsed || now.Sub(lc.Updated) < 24*time.Hour) {
				continue
			}
		}
		req := &Lifecycle{Group: g.ID, Name: p.baseName(g.ID, g.Name), State: StateConfirming, Trigger: "rule:" + rule,
			Deadline: deadline, Silent: cfg.Mode == "silent", Reason: cfg.Rules.Reason, By: "config rule " + rule, RuleKey: key}
		if err := p.request(ctx, nil, req); err != nil {
			p.env.Log.Error("rule countdown not requested", "group_id", string(g.ID), "rule", rule, "err", err)
		}
	}
}

// lapsed is the cancel reason of a request nobody confirmed in time.
const lapsed = "not confirmed in time"

// ruleDeadline returns the earliest deadline the group's rules name.
func (p *Plugin) ruleDeadline(cfg *Config, g bot.GroupRecord, now time.Time) (string, time.Time) {
	var rule string
	var best time.Time
	consider := func(name string, t time.Time) {
		if t.IsZero() {
			return
		}
		if best.IsZero() || t.Before(best) {
			rule, best = name, t
		}
	}
	r := cfg.Rules
	if r.AfterFirstSeen > 0 && !g.FirstSeen.IsZero() {
		consider("after_first_seen", g.FirstSeen.Add(r.AfterFirstSeen.D()))
	}
	if r.At != "" {
		if s, err := bot.ParseCron(r.At); err == nil {
			consider("at", s.Next(now.In(p.loc())))
		}
	}
	if r.InactiveFor > 0 {
		last := g.LastHuman
		if last.IsZero() {
			last = g.FirstSeen
		}
		if !last.IsZero() {
			consider("inactive", last.Add(r.InactiveFor.D()))
		}
	}
	return rule, best
}
