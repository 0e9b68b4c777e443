// Package inviter lets people join managed groups by DMing a keyword to the
// bot (the "password" of Wechaty's RoomInviter, the seeds' 群活码): the
// person gets the group's rules by DM and an invitation to the group for
// that keyword with the fewest members below its cap, overflowing to the
// next one when a group is full. Someone already in one of the groups is
// told so. Requests are limited per person and in total per hour, friend
// requests that carry a keyword can be accepted on their own, and every
// invitation is audited and only counts as done when the person shows up
// in the group's member list.
package inviter

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
)

// Config is the inviter's config section (global: DMs belong to no group).
type Config struct {
	// Keywords map what people DM to the groups they are invited into.
	Keywords []Keyword `yaml:"keywords"`
	// Match is "exact" (the whole DM is the keyword, ignoring spaces, case
	// and full-width forms) or "contains" (the keyword anywhere in the DM).
	Match string `yaml:"match"`
	// Strategy picks among a keyword's groups below their cap: "fewest"
	// (the group with the fewest members) or "fill" (the first one, in
	// the order listed, so groups fill up one after another).
	Strategy string `yaml:"strategy"`
	// Cap is the default member cap of each group (WeChat allows 500).
	Cap int `yaml:"cap"`
	// PerUserHourly caps keyword requests per person per hour.
	PerUserHourly int `yaml:"per_user_hourly"`
	// GlobalHourly caps invitations (and accepted friend requests) per
	// hour in total: bursts of invitations get accounts banned.
	GlobalHourly int `yaml:"global_hourly"`
	// AutoAccept accepts friend requests whose text contains a keyword,
	// then handles them as a keyword DM.
	AutoAccept bool `yaml:"auto_accept"`
	// VerifyWithin: an invitation the person has not accepted by then
	// expires (audited) and frees its place.
	VerifyWithin bot.Duration `yaml:"verify_within"`
}

// Keyword is one keyword and the groups it invites into.
type Keyword struct {
	Keyword string `yaml:"keyword"`
	// Groups are managed group names, in overflow order.
	Groups []string `yaml:"groups"`
	// Cap overrides the default cap for these groups.
	Cap int `yaml:"cap"`
	// Rules, when set, are sent instead of the rules plugin's text.
	Rules string `yaml:"rules"`
}

// GlobalOnlyKeys implements bot.GlobalOnly: keywords are DMed to the bot,
// not said in a group, so there is nothing to configure per group.
func (c *Config) GlobalOnlyKeys() []string { return []string{"*"} }

// Validate checks the config.
func (c *Config) Validate() error {
	switch {
	case c.Match != "exact" && c.Match != "contains":
		return &bot.FieldError{Path: "match", Msg: fmt.Sprintf("%q is not exact or contains", c.Match)}
	case c.Strategy != "fewest" && c.Strategy != "fill":
		return &bot.FieldError{Path: "strategy", Msg: fmt.Sprintf("%q is not fewest or fill", c.Strategy)}
	case c.Cap < 1 || c.Cap > 500:
		return &bot.FieldError{Path: "cap", Msg: "must be between 1 and 500"}
	case c.PerUserHourly < 1:
		return &bot.FieldError{Path: "per_user_hourly", Msg: "must be at least 1"}
	case c.GlobalHourly < 1:
		return &bot.FieldError{Path: "global_hourly", Msg: "must be at least 1"}
	case c.VerifyWithin.D() < time.Minute:
		return &bot.FieldError{Path: "verify_within", Msg: "must be at least 1m"}
	}
	seen := map[string]bool{}
	for i, k := range c.Keywords {
		p := fmt.Sprintf("keywords[%d]", i)
		n := norm(k.Keyword)
		switch {
		case n == "":
			return &bot.FieldError{Path: p + ".keyword", Msg: "empty keyword"}
		case seen[n]:
			return &bot.FieldError{Path: p + ".keyword", Msg: fmt.Sprintf("keyword %q is listed twice", k.Keyword)}
		case len(k.Groups) == 0:
			return &bot.FieldError{Path: p + ".groups", Msg: "name at least one group"}
		case k.Cap < 0 || k.Cap > 500:
			return &bot.FieldError{Path: p + ".cap", Msg: "must be between 1 and 500 (0: the default cap)"}
		}
		for j, g := range k.Groups {
			if strings.TrimSpace(g) == "" {
				return &bot.FieldError{Path: fmt.Sprintf("%s.groups[%d]", p, j), Msg: "empty group name"}
			}
		}
		seen[n] = true
	}
	return nil
}

func (k Keyword) cap(c *Config) int {
	if k.Cap > 0 {
		return k.Cap
	}
	return c.Cap
}

// norm folds width and case and drops spaces, for forgiving matching.
func norm(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(bot.FoldWidth(s))), "")
}

// RulesProvider is implemented by the plugin that keeps group rules
// (plugins/rules); the inviter finds it by this method, without an import.
type RulesProvider interface {
	GroupRules(ctx context.Context, g bot.GroupID) (string, bool)
}

// Plugin is the inviter plugin.
type Plugin struct {
	env *bot.Env
}

// New returns the plugin.
func New() *Plugin { return &Plugin{} }

// Name implements bot.Plugin.
func (p *Plugin) Name() string { return "inviter" }

// DefaultConfig implements bot.Configurable.
func (p *Plugin) DefaultConfig() any {
	return &Config{Match: "exact", Strategy: "fewest", Cap: 450, PerUserHourly: 3, GlobalHourly: 20, VerifyWithin: bot.Duration(24 * time.Hour)}
}

// Init implements bot.Initializer: an hourly sweep expires invitations
// nobody accepted.
func (p *Plugin) Init(env *bot.Env) error {
	p.env = env
	return env.Cron("expire", "@hourly", func(ctx context.Context) { p.expire(ctx) })
}

// Texts implements bot.Texter.
func (p *Plugin) Texts() bot.Catalog { return texts }

func (p *Plugin) cfg() *Config { return bot.ConfigFor[Config](p.env, "") }

// match returns the keyword a text asks for, if any.
func (p *Plugin) match(cfg *Config, text string, contains bool) (Keyword, bool) {
	t := norm(text)
	if t == "" {
		return Keyword{}, false
	}
	for _, k := range cfg.Keywords {
		kw := norm(k.Keyword)
		if t == kw || (contains && strings.Contains(t, kw)) {
			return k, true
		}
	}
	return Keyword{}, false
}

// HandleEvent implements bot.EventHandler: keyword DMs, friend requests
// with a keyword, and the joins that verify invitations.
func (p *Plugin) HandleEvent(ctx context.Context, ev *bot.Event) error {
	cfg := p.cfg()
	switch {
	case ev.Kind == bot.EventMemberJoined:
		return p.joined(ctx, ev)
	case ev.Kind == bot.EventFriendRequest && ev.FriendRequest != nil:
		return p.friendRequest(ctx, cfg, ev)
	case ev.IsDM() && !ev.IsCommand && !ev.FromSelf && ev.Message.Type == bot.MsgText:
		k, ok := p.match(cfg, ev.Message.Text, cfg.Match == "contains")
		if !ok {
			return nil
		}
		return p.request(ctx, cfg, k, ev.Sender, ev.SenderName)
	}
	return nil
}

func (p *Plugin) friendRequest(ctx context.Context, cfg *Config, ev *bot.Event) error {
	req := ev.FriendRequest
	if !cfg.AutoAccept {
		return nil
	}
	k, ok := p.match(cfg, req.Text, true)
	if !ok {
		p.env.Log.Info("friend request without a keyword left for a human")
		return nil
	}
	acc, ok := p.env.Platform().(bot.FriendAccepter)
	if !ok {
		p.env.Log.Warn("friend request with a keyword, but this platform cannot accept friends")
		return nil
	}
	now := p.env.Now()
	if n, err := p.recent(ctx, "rate/global", now); err != nil {
		return err
	} else if n >= cfg.GlobalHourly {
		p.env.Log.Warn("friend request left for later: hourly invitation limit reached", "limit", cfg.GlobalHourly)
		return nil
	}
	u, err := acc.AcceptFriend(ctx, *req)
	if err != nil {
		return fmt.Errorf("accept friend request: %w", err)
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Action: "inviter.friend_accepted", Evidence: req.Text,
		Detail: fmt.Sprintf("accepted the friend request of %s for keyword %q", bot.ActorName(u, req.Nick), k.Keyword),
		Data:   map[string]string{"user": string(u), "keyword": k.Keyword}}); err != nil {
		return err
	}
	return p.request(ctx, cfg, k, u, req.Nick)
}

// pending is an invitation waiting for the person to appear, under
// "inv/<user>/<group>".
type pending struct {
	User      bot.UserID  `json:"user"`
	Name      string      `json:"name"`
	Group     bot.GroupID `json:"group"`
	GroupName string      `json:"group_name"`
	Keyword   string      `json:"keyword"`
	At        time.Time   `json:"at"`
	// Task is the operator task when the platform cannot invite.
	Task string `json:"task,omitempty"`
	// Card: the platform sent an invitation card the person must accept
	// (bot.ErrInvitePending).
	Card bool `json:"card,omitempty"`
	// Approval: the group's owner must approve the invitation
	// (bot.ErrInviteAwaitsApproval).
	Approval bool `json:"approval,omitempty"`
}

func pendingKey(u bot.UserID, g bot.GroupID) string { return "inv/" + string(u) + "/" + string(g) }

// pendings lists the open invitations (all, or one person's).
func (p *Plugin) pendings(ctx context.Context, u bot.UserID) ([]pending, error) {
	prefix := "inv/"
	if u != "" {
		prefix += string(u) + "/"
	}
	var out []pending
	err := p.env.KV.Scan(ctx, prefix, func(key string, val []byte) error {
		var pd pending
		if err := json.Unmarshal(val, &pd); err != nil {
			p.env.Log.Error("invitation record unreadable", "key", key, "err", err)
			return nil
		}
		out = append(out, pd)
		return nil
	})
	return out, err
}

// recent counts the times under key within the last hour.
func (p *Plugin) recent(ctx context.Context, key string, now time.Time) (int, error) {
	raw, err := p.env.KV.Get(ctx, key)
	if errors.Is(err, bot.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return len(withinHour(raw, now)), nil
}

func withinHour(raw []byte, now time.Time) []time.Time {
	var ts []time.Time
	_ = json.Unmarshal(raw, &ts)
	return slices.DeleteFunc(ts, func(t time.Time) bool { return now.Sub(t) >= time.Hour || t.After(now) })
}

// note adds now to the times under key and returns how many fall within
// the last hour, now included.
func (p *Plugin) note(ctx context.Context, key string, now time.Time) (int, error) {
	n := 0
	err := p.env.KV.Update(ctx, key, func(old []byte) ([]byte, error) {
		ts := append(withinHour(old, now), now)
		n = len(ts)
		return json.Marshal(ts)
	})
	return n, err
}

func (p *Plugin) reply(ctx context.Context, u bot.UserID, key string, vars map[string]string) {
	p.env.Send(ctx, bot.ToUser(u), p.env.T(p.env.Global().Language, key, vars), bot.PrioReply)
}

// request handles one keyword request from person u.
func (p *Plugin) request(ctx context.Context, cfg *Config, k Keyword, u bot.UserID, name string) error {
	now := p.env.Now()
	log := p.env.Log.With("user_id", string(u), "keyword", k.Keyword)
	p.expire(ctx)

	// Per person: one answer saying so, then silence until the hour passes.
	n, err := p.note(ctx, "rate/user/"+string(u), now)
	if err != nil {
		return err
	}
	if n > cfg.PerUserHourly {
		log.Info("keyword request over the per-person limit", "count", n)
		if n == cfg.PerUserHourly+1 {
			p.reply(ctx, u, "inviter.too_often", map[string]string{"n": strconv.Itoa(cfg.PerUserHourly)})
		}
		return nil
	}

	groups := p.groupsFor(k)
	for _, g := range groups {
		m, err := p.env.Store.Member(ctx, g.ID, u)
		if err == nil && m.Present {
			p.reply(ctx, u, "inviter.already", map[string]string{"group": g.Name})
			return nil
		}
		if err != nil && !errors.Is(err, bot.ErrNotFound) {
			return err
		}
	}
	mine, err := p.pendings(ctx, u)
	if err != nil {
		return err
	}
	for _, pd := range mine {
		if !slices.ContainsFunc(groups, func(g bot.GroupRecord) bool { return g.ID == pd.Group }) {
			continue
		}
		switch {
		case pd.Task != "":
			// An organiser adds them by hand: nothing to look for.
			p.reply(ctx, u, "inviter.by_hand_open", map[string]string{"group": pd.GroupName})
		case pd.Approval:
			p.reply(ctx, u, "inviter.approval_open", map[string]string{"group": pd.GroupName})
		case pd.Card:
			// A new card only once this one expires: say when.
			left := (pd.At.Add(cfg.VerifyWithin.D()).Sub(now) + time.Minute - 1).Truncate(time.Minute)
			p.reply(ctx, u, "inviter.card_open", map[string]string{"group": pd.GroupName,
				"left": bot.FormatDuration(max(left, time.Minute), p.env.Global().Language)})
		default:
			p.reply(ctx, u, "inviter.pending", map[string]string{"group": pd.GroupName})
		}
		return nil
	}

	g, open, err := p.choose(ctx, cfg, k, groups)
	if err != nil {
		return err
	}
	if g.ID == "" {
		// Either every group is full, or none can take anyone at all (not
		// managed, the bot removed, frozen): the operators must act.
		key, alert, answer := "inviter.alert_full", "inviter/full/", "inviter.full"
		if open == 0 {
			key, alert, answer = "inviter.alert_none", "inviter/none/", "inviter.unavailable"
		}
		log.Warn("no group of the keyword can take anyone", "usable_groups", open)
		p.reply(ctx, u, answer, nil)
		p.env.Alert(ctx, bot.Alert{Kind: bot.AlertOther, Key: alert + norm(k.Keyword),
			Text: p.env.T(p.env.Global().Language, key, map[string]string{"keyword": k.Keyword, "cap": strconv.Itoa(k.cap(cfg)), "groups": strings.Join(k.Groups, "、")})})
		return nil
	}
	if total, err := p.recent(ctx, "rate/global", now); err != nil {
		return err
	} else if total >= cfg.GlobalHourly {
		log.Warn("keyword request over the hourly invitation limit", "limit", cfg.GlobalHourly)
		p.reply(ctx, u, "inviter.busy", nil)
		p.env.Alert(ctx, bot.Alert{Kind: bot.AlertOther, Key: "inviter/global",
			Text: p.env.T(p.env.Global().Language, "inviter.alert_busy", map[string]string{"n": strconv.Itoa(cfg.GlobalHourly)})})
		return nil
	}
	if _, err := p.note(ctx, "rate/global", now); err != nil {
		return err
	}

	rules := p.rules(ctx, k, g)
	pd := pending{User: u, Name: name, Group: g.ID, GroupName: g.Name, Keyword: k.Keyword, At: now}
	who := bot.ActorName(u, name)
	inv, can := p.env.Platform().(bot.Inviter)
	if !can {
		if rules != "" {
			p.reply(ctx, u, "inviter.rules", map[string]string{"group": g.Name, "rules": rules})
		}
		t, err := p.env.CreateTask(ctx, bot.Task{Kind: "invite_member", Group: g.ID, Users: []bot.UserID{u}, Watch: bot.WatchMembersAdded,
			Title: p.env.T(p.env.Lang(g.ID), "inviter.task_title", map[string]string{"name": name, "id": string(u), "group": g.Name}),
			Steps: p.env.T(p.env.Lang(g.ID), "inviter.task_steps", map[string]string{"name": name, "group": g.Name})})
		if err != nil {
			return err
		}
		pd.Task = t.ID
		if err := p.savePending(ctx, pd); err != nil {
			return err
		}
		p.reply(ctx, u, "inviter.by_hand", map[string]string{"group": g.Name})
		_, err = p.env.Audit(ctx, bot.AuditEntry{Group: g.ID, Action: "inviter.task",
			Detail: fmt.Sprintf("asked operators to add %s for keyword %q (task %s): this platform cannot invite", who, k.Keyword, t.ID),
			Data:   map[string]string{"user": string(u), "keyword": k.Keyword, "task": t.ID}})
		return err
	}
	// The invitation is recorded first: it holds the place in the group,
	// and the platform may report the join before Invite returns.
	if err := p.savePending(ctx, pd); err != nil {
		return err
	}
	if rules == "" {
		p.invite(ctx, inv, pd)
		return nil
	}
	// The rules go first and the invitation only once they were delivered
	// (sends are paced, the invitation is not), as Wechaty's RoomInviter does.
	text := p.env.T(p.env.Global().Language, "inviter.rules", map[string]string{"group": g.Name, "rules": rules})
	p.env.Runtime().Pacer().Enqueue(bot.ToUser(u), text, nil, bot.PrioReply, func(err error) {
		if err != nil {
			p.env.Go("invite_failed", func(ctx context.Context) { p.failed(ctx, pd, fmt.Errorf("rules not delivered: %w", err)) })
			return
		}
		p.env.Go("invite", func(ctx context.Context) { p.invite(ctx, inv, pd) })
	})
	return nil
}

// invite sends the invitation recorded in pd. An invitation card the
// person still has to accept (bot.ErrInvitePending) is a sent invitation:
// it stays open until they appear or it expires.
func (p *Plugin) invite(ctx context.Context, inv bot.Inviter, pd pending) {
	err := inv.Invite(ctx, pd.Group, pd.User)
	pending := errors.Is(err, bot.ErrInvitePending)
	if err != nil && !pending {
		p.failed(ctx, pd, err)
		return
	}
	approval := errors.Is(err, bot.ErrInviteAwaitsApproval)
	card := pending && !approval
	key, how := "inviter.invited", "invited"
	switch {
	case approval:
		key, how = "inviter.approval", "asked the group owner to approve"
	case card:
		key, how = "inviter.card", "sent an invitation card to"
	}
	if pending {
		if err := p.markPending(ctx, pd, approval); err != nil {
			p.env.Log.Error("invitation record not updated", "err", err)
		}
	}
	lang := p.env.Global().Language
	p.reply(ctx, pd.User, key, map[string]string{"group": pd.GroupName, "within": bot.FormatDuration(p.cfg().VerifyWithin.D(), lang)})
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: pd.Group, Action: "inviter.invite",
		Detail: fmt.Sprintf("%s %s for keyword %q; waiting for them to appear in the group", how, bot.ActorName(pd.User, pd.Name), pd.Keyword),
		Data: map[string]string{"user": string(pd.User), "keyword": pd.Keyword, "card": strconv.FormatBool(card),
			"approval": strconv.FormatBool(approval)}}); err != nil {
		p.env.Log.Error("invitation not audited", "err", err)
	}
}

// failed drops an invitation that could not be sent, tells the person and
// audits it.
func (p *Plugin) failed(ctx context.Context, pd pending, cause error) {
	p.env.Log.Warn("invitation failed", "group_id", string(pd.Group), "user_id", string(pd.User), "err", cause)
	if err := p.env.KV.Delete(ctx, pendingKey(pd.User, pd.Group)); err != nil {
		p.env.Log.Error("invitation record not removed", "err", err)
	}
	p.reply(ctx, pd.User, "inviter.failed", map[string]string{"group": pd.GroupName})
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: pd.Group, Action: "inviter.failed",
		Detail: fmt.Sprintf("inviting %s for keyword %q failed: %v", bot.ActorName(pd.User, pd.Name), pd.Keyword, cause),
		Data:   map[string]string{"user": string(pd.User), "keyword": pd.Keyword}}); err != nil {
		p.env.Log.Error("failed invitation not audited", "err", err)
	}
}

// markPending notes on the open invitation that it went out as a card, or
// waits for the owner's approval. The record is left alone if the person
// joined meanwhile.
func (p *Plugin) markPending(ctx context.Context, pd pending, approval bool) error {
	return p.env.KV.Update(ctx, pendingKey(pd.User, pd.Group), func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, nil
		}
		var cur pending
		if err := json.Unmarshal(old, &cur); err != nil {
			return old, nil
		}
		cur.Card, cur.Approval = !approval, approval
		return json.Marshal(cur)
	})
}

func (p *Plugin) savePending(ctx context.Context, pd pending) error {
	raw, err := json.Marshal(pd)
	if err != nil {
		return err
	}
	return p.env.KV.Put(ctx, pendingKey(pd.User, pd.Group), raw)
}

// groupsFor returns the keyword's groups that are managed, in config order.
func (p *Plugin) groupsFor(k Keyword) []bot.GroupRecord {
	managed := p.env.ManagedGroups()
	var out []bot.GroupRecord
	for _, name := range k.Groups {
		for _, g := range managed {
			if bot.FoldWidth(g.Name) == bot.FoldWidth(name) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// choose picks the group to invite into: among the groups that can take
// someone (the bot is in, not frozen), those whose members plus open
// invitations stay below the cap; the one with the fewest, or the first
// listed. It also returns how many groups could take someone at all, full
// or not; with no pick, g is zero.
func (p *Plugin) choose(ctx context.Context, cfg *Config, k Keyword, groups []bot.GroupRecord) (g bot.GroupRecord, usable int, err error) {
	open, err := p.pendings(ctx, "")
	if err != nil {
		return bot.GroupRecord{}, 0, err
	}
	reserved := map[bot.GroupID]int{}
	for _, pd := range open {
		reserved[pd.Group]++
	}
	bestSize := 0
	for _, c := range groups {
		if c.Gone || !c.BotPresent || c.Frozen {
			continue
		}
		usable++
		size := c.MemberCount + reserved[c.ID]
		if size >= k.cap(cfg) {
			continue
		}
		if g.ID == "" || (cfg.Strategy == "fewest" && size < bestSize) {
			g, bestSize = c, size
		}
		if cfg.Strategy == "fill" {
			break
		}
	}
	return g, usable, nil
}

// rules returns the rules to send before the invitation: the keyword's
// own text, else the rules plugin's for the group, else none.
func (p *Plugin) rules(ctx context.Context, k Keyword, g bot.GroupRecord) string {
	if t := strings.TrimSpace(k.Rules); t != "" {
		return t
	}
	for _, pl := range p.env.Runtime().Plugins() {
		if rp, ok := pl.(RulesProvider); ok {
			if t, ok := rp.GroupRules(ctx, g.ID); ok && strings.TrimSpace(t) != "" {
				return strings.TrimSpace(t)
			}
		}
	}
	p.env.Log.Debug("no rules to send", "group_id", string(g.ID))
	return ""
}

// joined closes the invitations of the people who just appeared.
func (p *Plugin) joined(ctx context.Context, ev *bot.Event) error {
	for _, m := range ev.Members {
		key := pendingKey(m.ID, ev.Group)
		raw, err := p.env.KV.Get(ctx, key)
		if errors.Is(err, bot.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		var pd pending
		if err := json.Unmarshal(raw, &pd); err != nil {
			return fmt.Errorf("invitation %s: %w", key, err)
		}
		if err := p.done(ctx, pd, "joined", ev.Time); err != nil {
			return err
		}
	}
	return nil
}

// done closes an invitation with an outcome: joined or expired.
func (p *Plugin) done(ctx context.Context, pd pending, outcome string, at time.Time) error {
	if err := p.env.KV.Delete(ctx, pendingKey(pd.User, pd.Group)); err != nil {
		return err
	}
	detail := fmt.Sprintf("%s appeared in the group %s after the invitation", bot.ActorName(pd.User, pd.Name), bot.FormatDuration(at.Sub(pd.At), bot.LangEN))
	if outcome != "joined" {
		detail = fmt.Sprintf("the invitation of %s was not accepted within %s", bot.ActorName(pd.User, pd.Name), bot.FormatDuration(at.Sub(pd.At), bot.LangEN))
	}
	_, err := p.env.Audit(ctx, bot.AuditEntry{Group: pd.Group, Action: "inviter." + outcome, Detail: detail,
		Data: map[string]string{"user": string(pd.User), "keyword": pd.Keyword, "task": pd.Task}})
	return err
}

// expire closes invitations older than verify_within.
func (p *Plugin) expire(ctx context.Context) {
	within := p.cfg().VerifyWithin.D()
	now := p.env.Now()
	open, err := p.pendings(ctx, "")
	if err != nil {
		p.env.Log.Error("invitations not read", "err", err)
		return
	}
	for _, pd := range open {
		if pd.Task != "" || now.Sub(pd.At) < within {
			continue // tasks expire on their own and tell TaskClosed
		}
		if err := p.done(ctx, pd, "expired", now); err != nil {
			p.env.Log.Error("invitation not expired", "err", err)
		}
	}
}

// TaskClosed implements bot.TaskWatcher: an operator task to add someone
// by hand was verified (they appeared), expired or was canceled.
func (p *Plugin) TaskClosed(ctx context.Context, t bot.Task) error {
	for _, u := range t.Users {
		raw, err := p.env.KV.Get(ctx, pendingKey(u, t.Group))
		if errors.Is(err, bot.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		var pd pending
		if err := json.Unmarshal(raw, &pd); err != nil {
			return err
		}
		outcome := "joined"
		if t.State != bot.TaskVerified {
			outcome = "expired"
		}
		if err := p.done(ctx, pd, outcome, p.env.Now()); err != nil {
			return err
		}
	}
	return nil
}

var (
	_ bot.Configurable = (*Plugin)(nil)
	_ bot.EventHandler = (*Plugin)(nil)
	_ bot.Initializer  = (*Plugin)(nil)
	_ bot.TaskWatcher  = (*Plugin)(nil)
	_ bot.Texter       = (*Plugin)(nil)
)
