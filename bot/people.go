package bot

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// roleFor computes the asker's role for an event, for group g (which may
// be the group a DM names). Only things others cannot forge count: the bot
// account itself, the remark name the bot account gave a friend, and
// admin grants stored by operators.
func (rt *Runtime) roleFor(ctx context.Context, ev *Event, g GroupID) Role {
	if ev.FromSelf {
		return RoleOwner
	}
	if rt.Config().IsOperator(ev.SenderRemark) {
		return RoleOperator
	}
	if g != "" && rt.isAdmin(g, ev.Sender) {
		return RoleAdmin
	}
	return RoleMember
}

// RoleOf returns u's role in group g, using the friends list for remarks.
func (rt *Runtime) RoleOf(ctx context.Context, g GroupID, u UserID) Role {
	if u == SelfID {
		return RoleOwner
	}
	for _, f := range rt.friendList(ctx) {
		if f.ID == u && rt.Config().IsOperator(f.Remark) {
			return RoleOperator
		}
	}
	if g != "" && rt.isAdmin(g, u) {
		return RoleAdmin
	}
	return RoleMember
}

func (rt *Runtime) isAdmin(g GroupID, u UserID) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.admins[g][u]
}

func (rt *Runtime) loadAdmins(ctx context.Context) error {
	gs, err := rt.store.Groups(ctx)
	if err != nil {
		return fmt.Errorf("load groups for admins: %w", err)
	}
	for _, g := range gs {
		grants, err := rt.store.Admins(ctx, g.ID)
		if err != nil {
			return fmt.Errorf("load admins: %w", err)
		}
		rt.mu.Lock()
		for _, a := range grants {
			if rt.admins[g.ID] == nil {
				rt.admins[g.ID] = map[UserID]bool{}
			}
			rt.admins[g.ID][a.User] = true
		}
		rt.mu.Unlock()
	}
	return nil
}

// SetAdmin grants or revokes group admin and audits it.
func (rt *Runtime) SetAdmin(ctx context.Context, g GroupID, m MemberRecord, on bool, by string) error {
	if err := rt.store.SetAdmin(ctx, AdminGrant{Group: g, User: m.User, GrantedBy: by, At: rt.clock.Now()}, on); err != nil {
		return err
	}
	rt.mu.Lock()
	if rt.admins[g] == nil {
		rt.admins[g] = map[UserID]bool{}
	}
	if on {
		rt.admins[g][m.User] = true
	} else {
		delete(rt.admins[g], m.User)
	}
	rt.mu.Unlock()
	action := "permission.admin_grant"
	if !on {
		action = "permission.admin_revoke"
	}
	_, err := rt.Audit(ctx, AuditEntry{Group: g, Actor: by, Action: action, Detail: fmt.Sprintf("%s %s", action, ActorName(m.User, m.DisplayName())), Data: map[string]string{"user": string(m.User)}})
	return err
}

// friendList returns the cached friends list, refreshing it when stale.
func (rt *Runtime) friendList(ctx context.Context) []Member {
	rt.mu.Lock()
	stale := rt.clock.Now().Sub(rt.friendsAt) > 10*time.Minute || rt.friendsAt.IsZero()
	fs := rt.friends
	rt.mu.Unlock()
	if stale {
		return rt.refreshFriends(ctx, false)
	}
	return fs
}

func (rt *Runtime) refreshFriends(ctx context.Context, force bool) []Member {
	fs, err := rt.platform.Friends(ctx)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if err != nil {
		if force {
			rt.log.Warn("friends not read", "err", err)
		}
		return rt.friends
	}
	rt.friends, rt.friendsAt = fs, rt.clock.Now()
	return fs
}

// Operators returns the operators currently reachable as friends.
func (rt *Runtime) Operators(ctx context.Context) []Member {
	var out []Member
	for _, f := range rt.friendList(ctx) {
		if rt.Config().IsOperator(f.Remark) {
			out = append(out, f)
		}
	}
	return out
}

// NotifyOperators DMs every operator; with none reachable, the owner's
// File Transfer chat gets it, so nothing is silently lost.
func (rt *Runtime) NotifyOperators(ctx context.Context, text string, prio Priority) int {
	ops := rt.Operators(ctx)
	if len(ops) == 0 {
		rt.Send(ctx, ToUser(SelfID), text, prio)
		return 1
	}
	for _, op := range ops {
		rt.Send(ctx, ToUser(op.ID), text, prio)
	}
	return len(ops)
}

// choiceList remembers a numbered list of candidates shown to someone, so
// they can answer with "#2".
type choiceList struct {
	ids []string
	at  time.Time
}

func (rt *Runtime) rememberChoices(key string, ids []string) {
	rt.mu.Lock()
	rt.choices[key] = choiceList{ids: ids, at: rt.clock.Now()}
	rt.mu.Unlock()
}

func (rt *Runtime) pickChoice(key, query string) (string, bool) {
	q := strings.TrimPrefix(FoldWidth(strings.TrimSpace(query)), "#")
	n, err := strconv.Atoi(q)
	if err != nil || !strings.HasPrefix(FoldWidth(strings.TrimSpace(query)), "#") {
		return "", false
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	c, ok := rt.choices[key]
	if !ok || rt.clock.Now().Sub(c.at) > 10*time.Minute || n < 1 || n > len(c.ids) {
		return "", false
	}
	return c.ids[n-1], true
}

// normName folds width and case and drops spaces, for forgiving matching.
func normName(s string) string {
	s = strings.ToLower(FoldWidth(s))
	return strings.Join(strings.Fields(s), "")
}

// resolveGroupName finds a managed group by id, exact name, prefix or
// substring (ignoring width, case and spaces), or by "#N" from the last
// list shown to asker. On failure it returns the reply to send.
func (rt *Runtime) resolveGroupName(ctx context.Context, query string, lang Lang, asker UserID) (GroupRecord, string) {
	groups := rt.ManagedGroups()
	key := string(asker) + "|group"
	if id, ok := rt.pickChoice(key, query); ok {
		for _, g := range groups {
			if string(g.ID) == id {
				return g, ""
			}
		}
	}
	q := normName(query)
	var exact, prefix, sub []GroupRecord
	for _, g := range groups {
		n := normName(g.Name)
		switch {
		case string(g.ID) == query || ShortID(string(g.ID)) == query || n == q:
			exact = append(exact, g)
		case strings.HasPrefix(n, q):
			prefix = append(prefix, g)
		case strings.Contains(n, q):
			sub = append(sub, g)
		}
	}
	for _, cands := range [][]GroupRecord{exact, prefix, sub} {
		switch len(cands) {
		case 0:
			continue
		case 1:
			return cands[0], ""
		}
		var b strings.Builder
		var ids []string
		for i, g := range cands {
			fmt.Fprintf(&b, "#%d %s（%s）\n", i+1, g.Name, g.ID)
			ids = append(ids, string(g.ID))
		}
		rt.rememberChoices(key, ids)
		return GroupRecord{}, rt.text("", lang, "router.ambiguous", map[string]string{"name": query, "choices": strings.TrimSpace(b.String())})
	}
	return GroupRecord{}, rt.text("", lang, "router.unknown_group", map[string]string{"name": query})
}

// ResolveGroup is resolveGroupName for plugins and the console.
func (rt *Runtime) ResolveGroup(ctx context.Context, query string, lang Lang, asker UserID) (GroupRecord, string) {
	return rt.resolveGroupName(ctx, query, lang, asker)
}

// ResolveMember finds a present member of g by id, exact group card or
// nickname, then by prefix, or by "#N" from the last list shown to asker.
// Several matches give a numbered list with ids beside names.
func (rt *Runtime) ResolveMember(ctx context.Context, g GroupID, query string, asker UserID, lang Lang) (MemberRecord, string) {
	return rt.resolveMember(ctx, g, query, asker, lang, false)
}

// ResolveFormerMember is ResolveMember that, when no present member
// matches, also looks among the people who have left g: an admin reviewing
// or undoing the record of a spammer who left must still be able to name
// them. Former members are marked as such in a choice list.
func (rt *Runtime) ResolveFormerMember(ctx context.Context, g GroupID, query string, asker UserID, lang Lang) (MemberRecord, string) {
	return rt.resolveMember(ctx, g, query, asker, lang, true)
}

func (rt *Runtime) resolveMember(ctx context.Context, g GroupID, query string, asker UserID, lang Lang, former bool) (MemberRecord, string) {
	query = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(query, "@"), "＠"))
	ms, err := rt.store.Members(ctx, g)
	if err != nil {
		rt.log.Error("members not read", "group_id", string(g), "err", err)
		return MemberRecord{}, rt.text("", lang, "router.internal", nil)
	}
	key := string(asker) + "|member|" + string(g)
	if id, ok := rt.pickChoice(key, query); ok {
		for _, m := range ms {
			if string(m.User) == id {
				return m, ""
			}
		}
	}
	q := normName(query)
	match := func(present bool) (MemberRecord, [][]MemberRecord, bool) {
		var exact, prefix []MemberRecord
		for _, m := range ms {
			if m.Present != present {
				continue
			}
			switch {
			case string(m.User) == query || ShortID(string(m.User)) == query:
				return m, nil, true
			case normName(m.Card) == q || normName(m.Nick) == q:
				exact = append(exact, m)
			case q != "" && (strings.HasPrefix(normName(m.Card), q) || strings.HasPrefix(normName(m.Nick), q)):
				prefix = append(prefix, m)
			}
		}
		return MemberRecord{}, [][]MemberRecord{exact, prefix}, false
	}
	m, tiers, ok := match(true)
	if ok {
		return m, ""
	}
	if former && len(tiers[0])+len(tiers[1]) == 0 {
		if m, tiers, ok = match(false); ok {
			return m, ""
		}
	}
	for _, cands := range tiers {
		switch len(cands) {
		case 0:
			continue
		case 1:
			return cands[0], ""
		}
		sort.Slice(cands, func(i, j int) bool { return cands[i].User < cands[j].User })
		var b strings.Builder
		var ids []string
		for i, m := range cands {
			left := ""
			if !m.Present {
				left = rt.text("", lang, "member.left_mark", nil)
			}
			fmt.Fprintf(&b, "#%d %s%s\n", i+1, m.DisplayName(), rt.text("", lang, "member.choice", map[string]string{"nick": m.Nick, "id": string(m.User), "left": left}))
			ids = append(ids, string(m.User))
		}
		rt.rememberChoices(key, ids)
		return MemberRecord{}, rt.text("", lang, "member.ambiguous", map[string]string{"name": query, "choices": strings.TrimSpace(b.String())})
	}
	return MemberRecord{}, rt.text("", lang, "member.not_found", map[string]string{"name": query})
}

// SetFrozen freezes or unfreezes group g and audits it.
func (rt *Runtime) SetFrozen(ctx context.Context, g GroupID, on bool, by string) error {
	rec, ok := rt.GroupRecord(g)
	if !ok {
		var err error
		rec, err = rt.store.Group(ctx, g)
		if err != nil {
			return err
		}
	}
	if rec.Frozen == on {
		return nil
	}
	rec.Frozen = on
	rt.putGroup(ctx, rec)
	action := "group.freeze"
	if !on {
		action = "group.unfreeze"
	}
	_, err := rt.Audit(ctx, AuditEntry{Group: g, Actor: by, Action: action, Detail: action + " " + rec.Name})
	return err
}
