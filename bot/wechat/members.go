package wechat

import (
	"context"
	"sort"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Member diffs. WeChat sends no message when someone leaves on their own,
// and the join messages name people only as the bot sees them, so the
// member list is the truth: it is read again on every join or removal
// message, for a sender the snapshot lacks, after invites and renames,
// and for each managed group on a staggered timer. Joined and left events
// come from the difference to the snapshot. The first snapshot of a
// session is the baseline and makes no events: at login the runtime
// reconciles its own records with Members.

// refreshCause says why a member list is read again, which decides what
// the resulting events say.
type refreshCause struct {
	// sys is the join or removal message that triggered the read.
	sys *sysMsg
	// reason goes into left events.
	reason string
	// by renamed the group, when the read follows a rename.
	by     bot.UserID
	byName string
	// invited are the UserNames the bot account has just invited. When
	// set, they alone are credited to it: the read follows the bot's own
	// call, not a join message, so anyone else who appears had joined
	// unnoticed, and an invitee who got a card is not among the joiners.
	invited map[string]bool
}

// refreshLogged is refreshGroup for callers that carry on regardless.
func (o *owner) refreshLogged(g *groupState, c refreshCause) []bot.Event {
	evs, err := o.refreshGroup(g, c)
	if err != nil {
		o.log.Warn("member list not read", "group_id", string(g.id), "err", err)
	}
	return evs
}

// refreshGroup reads the group's member list and returns the events the
// difference to the snapshot means.
func (o *owner) refreshGroup(g *groupState, c refreshCause) ([]bot.Event, error) {
	s, err := o.live()
	if err != nil {
		return nil, err
	}
	det, err := o.details(s, []string{g.userName})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	g.refreshed = now
	u := det[g.userName]
	if u == nil || !hasMember(u, s.self.UserName) {
		if !g.botIn {
			return nil, nil
		}
		g.botIn = false
		return []bot.Event{{Kind: bot.EventBotRemoved, Time: now, Group: g.id, GroupName: g.name,
			Reason: "the bot account is no longer in the member list"}}, nil
	}
	var evs []bot.Event
	if !g.botIn {
		g.botIn = true
		evs = append(evs, bot.Event{Kind: bot.EventBotAdded, Time: now, Group: g.id, GroupName: g.name,
			Reason: "the bot account is in the member list again"})
	}
	if u.NickName != "" && u.NickName != g.name {
		evs = append(evs, o.renamed(g, u.NickName, c.by, c.byName, "noticed when reading the member list")...)
	}

	changed := false
	listed := map[string]bool{}
	var joined []*memberState
	var rest []sessionMember
	for _, m := range u.MemberList {
		if m.UserName == s.self.UserName {
			continue
		}
		listed[m.UserName] = true
		fp := fingerprintOf(m)
		if old := g.members[m.UserName]; old != nil {
			if old.fp != fp {
				old.fp, changed = fp, true
			}
			continue
		}
		ms := &memberState{userName: m.UserName, fp: fp}
		joined = append(joined, ms)
		if f := o.friends[m.UserName]; f != nil && f.id != "" {
			ms.id = f.id
			continue
		}
		rest = append(rest, sessionMember{UserName: m.UserName, FP: fp})
	}
	// Someone coming back keeps their id: joiners are matched against the
	// record's former members.
	taken := map[bot.UserID]bool{}
	for _, m := range g.members {
		taken[m.id] = true
	}
	former := map[bot.UserID]memberRecord{}
	if rec := o.ids.groups[g.id]; rec != nil {
		for id, r := range rec.Members {
			if !r.Present && !taken[id] {
				former[id] = r
			}
		}
	}
	ids, _ := matchMembers(rest, former, taken)
	for _, m := range joined {
		if m.id == "" {
			if id, ok := ids[m.userName]; ok {
				m.id = id
			} else {
				m.id = o.newPersonID(m.userName, m.fp.Nick)
			}
		}
		g.members[m.userName] = m
		if o.friends[m.userName] == nil {
			o.people[m.userName], o.peopleNick[m.userName] = m.id, m.fp.Nick
		}
	}
	var left []*memberState
	for n, m := range g.members {
		if !listed[n] {
			left = append(left, m)
			delete(g.members, n)
		}
	}
	if changed || len(joined) > 0 || len(left) > 0 {
		o.saveGroup(g, nil)
	}
	evs = append(evs, o.joinEvents(g, joined, c, now)...)
	if len(left) > 0 {
		sortMembers(left)
		ev := bot.Event{Kind: bot.EventMemberLeft, Time: now, Group: g.id, GroupName: g.name, Members: o.botMembers(left), Reason: c.reason}
		if c.sys != nil && c.sys.Kind == sysRemoved {
			ev.Sender, ev.SenderName = bot.SelfID, s.self.NickName
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// joinEvents reports joiners. When a join message named an inviter and as
// many people as joined, they all get that inviter, however the names were
// spelled (a remark shown where the list has a nickname); otherwise only
// the joiners it names do. After the bot's own invitation only the people
// it invited get it as inviter.
func (o *owner) joinEvents(g *groupState, joined []*memberState, c refreshCause, now time.Time) []bot.Event {
	if len(joined) == 0 {
		return nil
	}
	sortMembers(joined)
	base := bot.Event{Kind: bot.EventMemberJoined, Time: now, Group: g.id, GroupName: g.name}
	if c.sys == nil || c.sys.Kind != sysJoin || (!c.sys.ActorSelf && c.sys.Actor == "") {
		base.Members = o.botMembers(joined)
		return []bot.Event{base}
	}
	invited := base
	if c.sys.ActorSelf {
		invited.Inviter, invited.InviterName = bot.SelfID, o.sess.self.NickName
	} else {
		invited.InviterName = c.sys.Actor
		if id, ok := o.byName(g, c.sys.Actor); ok {
			invited.Inviter = id
		}
	}
	named := map[string]bool{}
	for _, n := range c.sys.Names {
		named[n] = true
	}
	credited := func(m *memberState) bool {
		if c.invited != nil {
			return c.invited[m.userName]
		}
		f := o.friends[m.userName]
		return named[m.fp.Nick] || named[m.fp.Card] || (f != nil && named[f.remark])
	}
	var with, without []*memberState
	for _, m := range joined {
		if credited(m) {
			with = append(with, m)
		} else {
			without = append(without, m)
		}
	}
	if c.invited == nil && len(joined) == len(c.sys.Names) {
		with, without = joined, nil
	}
	var evs []bot.Event
	if len(with) > 0 {
		invited.Members = o.botMembers(with)
		evs = append(evs, invited)
	}
	if len(without) > 0 {
		base.Members = o.botMembers(without)
		evs = append(evs, base)
	}
	return evs
}

func sortMembers(ms []*memberState) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })
}

func (o *owner) botMembers(ms []*memberState) []bot.Member {
	out := make([]bot.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, o.botMember(m))
	}
	return out
}

// botMember describes a member for the runtime. The remark, which
// operators are recognised by, comes only from the bot account's own
// friend list: nobody else can set it.
func (o *owner) botMember(m *memberState) bot.Member {
	bm := bot.Member{ID: m.id, Nick: m.fp.Nick, Card: m.fp.Card}
	if f := o.friends[m.userName]; f != nil {
		bm.Remark, bm.Friend = f.remark, true
	}
	return bm
}

// byName finds the member a system message names. The bot sees a friend
// by the remark it gave them, anyone else by nickname; a group card may
// show too. The first kind of name that fits exactly one member wins;
// several fits at one level mean nobody.
func (o *owner) byName(g *groupState, name string) (bot.UserID, bool) {
	if name == "" {
		return "", false
	}
	levels := []func(m *memberState) bool{
		func(m *memberState) bool { f := o.friends[m.userName]; return f != nil && f.remark == name },
		func(m *memberState) bool { return m.fp.Nick == name },
		func(m *memberState) bool { return m.fp.Card == name },
	}
	for _, fits := range levels {
		var hit bot.UserID
		n := 0
		for _, m := range g.members {
			if fits(m) {
				hit = m.id
				n++
			}
		}
		if n == 1 {
			return hit, true
		}
		if n > 1 {
			return "", false
		}
	}
	return "", false
}

// sender finds the member who sent a group message. Someone the snapshot
// lacks has joined unnoticed (the list is read again, at most every 30 s
// per group for this reason) or has just left (a stand-in is made from
// what the server says about them).
func (o *owner) sender(g *groupState, userName string) (*memberState, []bot.Event) {
	if userName == "" {
		return nil, nil
	}
	if m := g.members[userName]; m != nil {
		return m, nil
	}
	var evs []bot.Event
	if time.Since(o.unknownAt[g.userName]) > 30*time.Second {
		o.unknownAt[g.userName] = time.Now()
		evs = o.refreshLogged(g, refreshCause{})
		if m := g.members[userName]; m != nil {
			return m, evs
		}
	}
	id, nick := o.stranger(userName)
	return &memberState{userName: userName, fp: fingerprint{Nick: nick}, id: id}, evs
}

// renamed applies a new group name and returns the rename event. A
// provisional group whose new name carries an old group's tag is that old
// group: an operator's answer to the identity question.
func (o *owner) renamed(g *groupState, newName string, by bot.UserID, byName, reason string) []bot.Event {
	if newName == "" || newName == g.name {
		return nil
	}
	var evs []bot.Event
	if g.provisional {
		evs = o.claimTagged(g, newName)
	}
	old := g.name
	g.name = newName
	o.saveGroup(g, nil)
	return append(evs, bot.Event{Kind: bot.EventGroupRenamed, Time: time.Now(), Group: g.id, GroupName: newName,
		OldName: old, NewName: newName, Sender: by, SenderName: byName, Reason: reason})
}

// claimTagged moves a provisional group onto the old record its new name
// is tagged with. The provisional id is reported gone (it was the same
// group all along), the members are mapped onto the old record's ids, and
// the differences to the old record are reported as joins and leaves.
func (o *owner) claimTagged(g *groupState, newName string) []bot.Event {
	var rec *groupRecord
	for _, r := range o.ids.groups {
		if o.groupIDs[r.ID] == nil && tagOf(newName, r.ID) {
			if rec != nil {
				return nil // tags of two groups: not an answer
			}
			rec = r
		}
	}
	if rec == nil {
		return nil
	}
	now := time.Now()
	prov := g.id
	o.log.Info("identity confirmed by an operator", "provisional_id", string(prov), "group_id", string(rec.ID))
	evs := []bot.Event{{Kind: bot.EventGroupGone, Time: now, Group: prov, GroupName: g.name,
		Reason: "the same group as " + string(rec.ID) + ", as an operator confirmed"}}
	delete(o.groupIDs, prov)
	g.id, g.provisional = rec.ID, false
	o.groupIDs[g.id] = g
	// The provisional record would only be one more namesake to confuse
	// the next login with.
	delete(o.ids.groups, prov)
	if err := o.ids.kv.Delete(context.Background(), keyGroup+string(prov)); err != nil {
		o.log.Warn("provisional identity record not deleted", "group_id", string(prov), "err", err)
	}

	taken := map[bot.UserID]bool{}
	var rest []sessionMember
	for _, m := range g.members {
		if f := o.friends[m.userName]; f != nil {
			taken[f.id] = true
			continue
		}
		rest = append(rest, sessionMember{UserName: m.userName, FP: m.fp})
	}
	ids, _ := matchMembers(rest, rec.Members, taken)
	var joined []*memberState
	for _, m := range g.members {
		if id, ok := ids[m.userName]; ok {
			m.id = id
		}
		if r, ok := rec.Members[m.id]; !ok || !r.Present {
			joined = append(joined, m)
		}
	}
	var left []*memberState
	present := map[bot.UserID]bool{}
	for _, m := range g.members {
		present[m.id] = true
	}
	for id, r := range rec.Members {
		if r.Present && !present[id] {
			left = append(left, &memberState{id: id, fp: r.FP})
		}
	}
	if len(joined) > 0 {
		sortMembers(joined)
		evs = append(evs, bot.Event{Kind: bot.EventMemberJoined, Time: now, Group: g.id, GroupName: newName, Members: o.botMembers(joined)})
	}
	if len(left) > 0 {
		sortMembers(left)
		evs = append(evs, bot.Event{Kind: bot.EventMemberLeft, Time: now, Group: g.id, GroupName: newName, Members: o.botMembers(left),
			Reason: "left while the group's identity was unsettled"})
	}
	o.saveGroup(g, rec)
	o.closeAsked(rec.ID)
	return evs
}

// closeAsked marks the identity task about a known group verified once no
// group of the session waits for an answer any more.
func (o *owner) closeAsked(id bot.GroupID) {
	for _, g := range o.groups {
		if g.provisional {
			return
		}
	}
	key := keyAsked + "g/" + string(id)
	taskID, ok, err := o.ids.flag(context.Background(), key)
	if err != nil || !ok {
		return
	}
	st := o.p.store
	o.later(func(ctx context.Context, rt Runtime) {
		t, err := st.Task(ctx, taskID)
		if err != nil || (t.State != bot.TaskOpen && t.State != bot.TaskDone) {
			return
		}
		t.State, t.Note = bot.TaskVerified, "answered: the group was renamed with its old number"
		if err := rt.UpdateTask(ctx, t); err != nil {
			o.log.Error("identity task not closed", "task", t.ID, "err", err)
		}
	})
}
