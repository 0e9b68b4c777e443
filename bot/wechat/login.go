package wechat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot"
)

// contacts is the contact list split by kind.
type contacts struct {
	friends []*openwechat.User
	groups  []string // UserNames of groups saved to contacts
	mps     map[string]bool
}

// readContacts reads the whole contact list (webwxgetcontact, paged).
func (o *owner) readContacts(s *session) (contacts, error) {
	list, err := s.bot.Caller.WebWxGetContact(s.ctx(), s.info)
	if err != nil {
		return contacts{}, mapErr("read contacts", err)
	}
	c := contacts{mps: map[string]bool{}}
	for _, u := range list {
		switch {
		case u.UserName == s.self.UserName || u.UserName == fileHelper:
		case isGroup(u.UserName):
			c.groups = append(c.groups, u.UserName)
		case u.VerifyFlag&8 != 0:
			// Official accounts: 8, 24 and 136 all carry this bit.
			c.mps[u.UserName] = true
		case strings.HasPrefix(u.UserName, "@"):
			c.friends = append(c.friends, u)
		}
	}
	return c, nil
}

// batchSize is the most contacts webwxbatchgetcontact answers at once.
const batchSize = 50

// details reads groups (with their member lists) or people by UserName.
func (o *owner) details(s *session, names []string) (map[string]*openwechat.User, error) {
	out := make(map[string]*openwechat.User, len(names))
	for i := 0; i < len(names); i += batchSize {
		var batch openwechat.Members
		for _, n := range names[i:min(i+batchSize, len(names))] {
			batch = append(batch, &openwechat.User{UserName: n})
		}
		got, err := s.bot.Caller.WebWxBatchGetContact(s.ctx(), batch, s.req)
		if err != nil {
			return nil, mapErr("read group details", err)
		}
		for _, u := range got {
			out[u.UserName] = u
		}
	}
	return out, nil
}

// hasMember reports whether userName is in u's member list.
func hasMember(u *openwechat.User, userName string) bool {
	for _, m := range u.MemberList {
		if m.UserName == userName {
			return true
		}
	}
	return false
}

func fingerprintOf(u *openwechat.User) fingerprint {
	return fingerprint{Nick: u.NickName, Card: u.DisplayName, Attr: u.AttrStatus}
}

// mapSession reads the new session's contacts and groups and maps them
// onto durable ids. It returns rename events for groups renamed while the
// bot was away, to be emitted before the login.
func (o *owner) mapSession(s *session) ([]bot.Event, error) {
	c, err := o.readContacts(s)
	if err != nil {
		return nil, err
	}
	saved := map[string]bool{}
	names := append([]string(nil), c.groups...)
	for _, n := range c.groups {
		saved[n] = true
	}
	for _, n := range s.recent {
		if !saved[n] {
			names = append(names, n)
		}
	}
	det, err := o.details(s, names)
	if err != nil {
		return nil, err
	}
	// Only from here on does the session's state change: a failed read
	// above leaves everything as it was for the retry.
	o.reset()
	o.mps = c.mps
	o.contactsAt = time.Now()

	var sg []sessionGroup
	for _, n := range names {
		u := det[n]
		if u == nil || !hasMember(u, s.self.UserName) {
			continue // the bot left, or the group is gone
		}
		sg = append(sg, sessionGroup{UserName: n, Name: u.NickName, People: peopleOf(u, s.self.UserName)})
	}
	known := make([]*groupRecord, 0, len(o.ids.groups))
	for _, r := range o.ids.groups {
		known = append(known, r)
	}
	sort.Slice(known, func(i, j int) bool { return known[i].ID < known[j].ID })
	gm := matchGroups(sg, known)
	provisional := map[string]bool{}
	for _, a := range gm.Ambiguous {
		for _, n := range a.Sessions {
			provisional[n] = true
		}
	}

	o.mapFriends(c.friends)

	var renames []bot.Event
	for _, x := range sg {
		u := det[x.UserName]
		id, ok := gm.IDs[x.UserName]
		rec := o.ids.groups[id]
		if !ok {
			id = bot.NewGroupID()
			rec = &groupRecord{ID: id, Name: u.NickName, Members: map[bot.UserID]memberRecord{}}
		}
		g := &groupState{id: id, userName: x.UserName, name: u.NickName, saved: saved[x.UserName], botIn: true,
			provisional: provisional[x.UserName], members: map[string]*memberState{}, refreshed: time.Now()}
		if rec.Name != "" && rec.Name != g.name {
			renames = append(renames, bot.Event{Kind: bot.EventGroupRenamed, Time: time.Now(), Group: id, GroupName: g.name,
				OldName: rec.Name, NewName: g.name, Reason: "renamed while the bot was offline"})
		}
		o.addGroup(g, rec, u, s.self.UserName)
	}
	o.newFriendIDs()
	o.saveFriends()
	asked := map[bot.GroupID]bool{}
	for _, a := range gm.Ambiguous {
		o.askGroups(a)
		for _, id := range a.Known {
			asked[id] = true
		}
	}
	o.noticeGroups(asked)
	o.log.Info("session mapped", "session", s.gen, "groups", len(o.groups), "friends", len(o.friends),
		"ambiguous", len(gm.Ambiguous))
	return renames, nil
}

// peopleOf is the person keys of a group's members, for overlap.
func peopleOf(u *openwechat.User, self string) map[string]int {
	out := map[string]int{}
	for _, m := range u.MemberList {
		if m.UserName != self {
			out[fingerprintOf(m).person()]++
		}
	}
	return out
}

// addGroup fills g's members from the group's details, mapping them onto
// the record's ids, and saves the record with this session's names.
func (o *owner) addGroup(g *groupState, rec *groupRecord, u *openwechat.User, self string) {
	o.groups[g.userName], o.groupIDs[g.id] = g, g
	// In the session the record was written in, members keep their
	// UserNames: those identify them exactly.
	bySession := map[string]bot.UserID{}
	if rec.Session != "" && rec.Session == g.userName {
		for id, r := range rec.Members {
			if r.Present && r.Session != "" {
				bySession[r.Session] = id
			}
		}
	}
	taken := map[bot.UserID]bool{}
	var rest []sessionMember
	for _, m := range u.MemberList {
		if m.UserName == self {
			continue
		}
		ms := &memberState{userName: m.UserName, fp: fingerprintOf(m)}
		g.members[m.UserName] = ms
		if f := o.friends[m.UserName]; f != nil && f.id != "" {
			ms.id, taken[f.id] = f.id, true
			continue
		}
		if id, ok := bySession[m.UserName]; ok && !taken[id] {
			ms.id, taken[id] = id, true
			if f := o.friends[m.UserName]; f != nil {
				f.id = id
				o.friendIDs[id] = f
			}
			continue
		}
		rest = append(rest, sessionMember{UserName: m.UserName, FP: ms.fp})
	}
	ids, ambiguous := matchMembers(rest, rec.Members, taken)
	for _, m := range rest {
		ms := g.members[m.UserName]
		if id, ok := ids[m.UserName]; ok {
			ms.id = id
			if f := o.friends[m.UserName]; f != nil {
				f.id = id // a new friend who was already a member here
				o.friendIDs[id] = f
			}
			continue
		}
		ms.id = o.newPersonID(m.UserName, m.FP.Nick)
	}
	for _, m := range g.members {
		if f := o.friends[m.userName]; f == nil {
			o.people[m.userName], o.peopleNick[m.userName] = m.id, m.fp.Nick
		}
	}
	if len(ambiguous) > 0 {
		o.askMembers(g, ambiguous)
	}
	o.saveGroup(g, rec)
}

// newPersonID gives a person not matched to any record an id, the same
// in every group of this session.
func (o *owner) newPersonID(userName, nick string) bot.UserID {
	if f := o.friends[userName]; f != nil {
		if f.id == "" {
			f.id = bot.NewUserID()
			o.friendIDs[f.id] = f
		}
		return f.id
	}
	if id, ok := o.people[userName]; ok {
		return id
	}
	id := bot.NewUserID()
	o.people[userName], o.peopleNick[userName] = id, nick
	return id
}

// saveGroup writes the group's record: its name, its session name and
// every present member; members no longer listed stay as former members.
func (o *owner) saveGroup(g *groupState, rec *groupRecord) {
	now := time.Now()
	if rec == nil {
		rec = o.ids.groups[g.id]
	}
	if rec == nil {
		rec = &groupRecord{ID: g.id, Members: map[bot.UserID]memberRecord{}}
	}
	rec.Name, rec.Session, rec.Updated = g.name, g.userName, now
	present := map[bot.UserID]bool{}
	for _, m := range g.members {
		present[m.id] = true
		rec.Members[m.id] = memberRecord{FP: m.fp, Present: true, Seen: now, Session: m.userName}
	}
	for id, m := range rec.Members {
		if m.Present && !present[id] {
			m.Present = false
			rec.Members[id] = m
		}
	}
	if err := o.ids.putGroup(context.Background(), rec); err != nil {
		o.log.Error("identity record not saved", "group_id", string(g.id), "err", err)
	}
}

// mapFriends maps the contact list's friends onto friend records. Friends
// without a match get an id later, once the groups have had a chance to
// recognise them (newFriendIDs).
func (o *owner) mapFriends(list []*openwechat.User) {
	var sf []sessionFriend
	for _, u := range list {
		sf = append(sf, sessionFriend{UserName: u.UserName, Nick: u.NickName, Remark: u.RemarkName, Attr: u.AttrStatus})
	}
	var known []*friendRecord
	for _, r := range o.ids.friends {
		if o.friendIDs[r.ID] == nil {
			known = append(known, r)
		}
	}
	sort.Slice(known, func(i, j int) bool { return known[i].ID < known[j].ID })
	ids, shared := matchFriends(sf, known)
	for _, f := range sf {
		if o.friends[f.UserName] != nil {
			continue
		}
		fs := &friendState{userName: f.UserName, nick: f.Nick, remark: f.Remark, attr: f.Attr, id: ids[f.UserName]}
		o.friends[f.UserName] = fs
		if fs.id != "" {
			o.friendIDs[fs.id] = fs
		}
	}
	for remark, fs := range shared {
		o.askFriends(remark, fs)
	}
}

// newFriendIDs gives the friends still without an id a new one.
func (o *owner) newFriendIDs() {
	for _, f := range o.friends {
		if f.id == "" {
			f.id = bot.NewUserID()
			o.friendIDs[f.id] = f
		}
	}
}

func (o *owner) saveFriends() {
	for _, f := range o.friends {
		r := &friendRecord{ID: f.id, Remark: f.remark, Nick: f.nick, Attr: f.attr, Session: f.userName}
		if old := o.ids.friends[f.id]; old != nil && *old == *r {
			continue
		}
		if err := o.ids.putFriend(context.Background(), r); err != nil {
			o.log.Error("identity record not saved", "user_id", string(f.id), "err", err)
		}
	}
}

// reloadContacts reads the contact list again for new friends, changed
// remarks and newly saved groups; force skips the one-minute cache.
func (o *owner) reloadContacts(force bool) {
	if !force && time.Since(o.contactsAt) < time.Minute {
		return
	}
	s := o.sess
	c, err := o.readContacts(s)
	if err != nil {
		o.log.Warn("contacts not read", "err", err)
		return
	}
	o.contactsAt = time.Now()
	o.mps = c.mps
	var fresh []*openwechat.User
	for _, u := range c.friends {
		f := o.friends[u.UserName]
		if f == nil {
			fresh = append(fresh, u)
			continue
		}
		f.nick, f.remark, f.attr = u.NickName, u.RemarkName, u.AttrStatus
	}
	o.mapFriends(fresh)
	// A new friend may already be a member of a known group.
	for _, u := range fresh {
		f := o.friends[u.UserName]
		for _, g := range o.groups {
			if m := g.members[u.UserName]; m != nil && f.id == "" {
				f.id = m.id
				o.friendIDs[f.id] = f
			}
		}
	}
	o.newFriendIDs()
	o.saveFriends()
	for _, n := range c.groups {
		if g := o.groups[n]; g != nil {
			g.saved = true
			continue
		}
		g, evs := o.groupFor(n)
		if g != nil {
			g.saved = true
		}
		o.emit(evs...)
	}
}

// groupFor returns the group with this session name, discovering it when
// the session has not seen it yet: a group not saved to contacts that
// just spoke, one the bot was just added to, or one it created. The
// events are renames noticed on the way.
func (o *owner) groupFor(userName string) (*groupState, []bot.Event) {
	if g := o.groups[userName]; g != nil {
		return g, nil
	}
	s := o.sess
	det, err := o.details(s, []string{userName})
	if err != nil {
		o.log.Warn("new group not read", "err", err)
		return nil, nil
	}
	u := det[userName]
	if u == nil || !hasMember(u, s.self.UserName) {
		o.log.Info("message from a group the bot is not in; ignored")
		return nil, nil
	}
	var known []*groupRecord
	for _, r := range o.ids.groups {
		if o.groupIDs[r.ID] == nil {
			known = append(known, r)
		}
	}
	sort.Slice(known, func(i, j int) bool { return known[i].ID < known[j].ID })
	gm := matchGroups([]sessionGroup{{UserName: userName, Name: u.NickName, People: peopleOf(u, s.self.UserName)}}, known)
	id, ok := gm.IDs[userName]
	rec := o.ids.groups[id]
	var evs []bot.Event
	if !ok {
		id = bot.NewGroupID()
		rec = &groupRecord{ID: id, Name: u.NickName, Members: map[bot.UserID]memberRecord{}}
	} else if rec.Name != u.NickName {
		evs = append(evs, bot.Event{Kind: bot.EventGroupRenamed, Time: time.Now(), Group: id, GroupName: u.NickName,
			OldName: rec.Name, NewName: u.NickName, Reason: "renamed while the bot could not see the group"})
	}
	g := &groupState{id: id, userName: userName, name: u.NickName, saved: u.ContactFlag != 0, botIn: true,
		provisional: len(gm.Ambiguous) > 0, members: map[string]*memberState{}, refreshed: time.Now()}
	o.addGroup(g, rec, u, s.self.UserName)
	for _, a := range gm.Ambiguous {
		o.askGroups(a)
	}
	o.log.Info("group discovered", "group_id", string(id), "saved", g.saved)
	if !g.saved {
		o.tellUnsaved(g)
	}
	return g, evs
}

// stranger returns an id and name for someone who is neither a friend nor
// in a known member list (a DM from someone just removed as a friend).
func (o *owner) stranger(userName string) (bot.UserID, string) {
	if id, ok := o.people[userName]; ok {
		return id, o.peopleNick[userName]
	}
	nick := ""
	if det, err := o.details(o.sess, []string{userName}); err == nil && det[userName] != nil {
		nick = det[userName].NickName
	}
	return o.newPersonID(userName, nick), nick
}

// noticeGroups tells operators, once per group, about managed groups that
// are not saved to contacts, and about managed groups this login did not
// show at all (except those an identity question is already about).
func (o *owner) noticeGroups(asked map[bot.GroupID]bool) {
	for _, g := range o.groups {
		if g.saved {
			if _, told, _ := o.ids.flag(context.Background(), keyTold+string(g.id)); told {
				_ = o.ids.kv.Delete(context.Background(), keyTold+string(g.id))
			}
			continue
		}
		o.tellUnsaved(g)
	}
	rt := o.p.runtime()
	if rt == nil {
		return
	}
	for _, r := range rt.ManagedGroups() {
		if o.groupIDs[r.ID] == nil && r.BotPresent && !r.Gone && !asked[r.ID] {
			o.notice("missing", r.ID, map[string]string{"name": r.Name})
		}
	}
}

// notice tells operators about a group once the runtime is online: at
// once when the session is up, else right after the login event.
func (o *owner) notice(key string, g bot.GroupID, vars map[string]string) {
	if o.online {
		o.p.alert(key, g, vars, true)
		return
	}
	o.afterLogin = append(o.afterLogin, func() { o.p.alert(key, g, vars, true) })
}

// tellUnsaved asks operators to save a managed group to contacts, once.
func (o *owner) tellUnsaved(g *groupState) {
	if !o.isManaged(g) {
		return
	}
	key := keyTold + string(g.id)
	if _, told, err := o.ids.flag(context.Background(), key); told || err != nil {
		return
	}
	if err := o.ids.kv.Put(context.Background(), key, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		o.log.Warn("notice flag not saved", "err", err)
	}
	o.notice("unsaved", g.id, map[string]string{"name": g.name})
}

// ask opens an operator task once per question; the task's id is also
// kept under the extra keys, for closing it when the answer shows.
func (o *owner) ask(question string, t bot.Task, extra ...string) {
	sum := sha256.Sum256([]byte(question))
	key := keyAsked + hex.EncodeToString(sum[:8])
	if _, asked, err := o.ids.flag(context.Background(), key); asked || err != nil {
		return
	}
	o.log.Warn("identity ambiguous; asking operators", "kind", t.Kind, "group_id", string(t.Group))
	kv := o.ids.kv
	o.later(func(ctx context.Context, rt Runtime) {
		created, err := rt.CreateTask(ctx, t)
		if err != nil {
			o.log.Error("operator task not created", "err", err)
			return
		}
		for _, k := range append([]string{key}, extra...) {
			_ = kv.Put(ctx, k, []byte(created.ID))
		}
	})
}

// askGroups asks operators which session group is which known group.
func (o *owner) askGroups(a ambiguity) {
	lang := o.p.lang()
	var prov, cand, known []string
	name, example := "", ""
	for _, n := range a.Sessions {
		if g := o.groups[n]; g != nil {
			prov = append(prov, fmt.Sprintf("%s (%s)", g.name, g.id))
			name = g.name
		}
	}
	for _, id := range a.Known {
		r := o.ids.groups[id]
		if r == nil {
			continue
		}
		cand = append(cand, string(id))
		example = bot.ShortID(string(id))
		known = append(known, fmt.Sprintf("- %s #%s：%s", r.Name, bot.ShortID(string(id)), memberSample(r)))
	}
	vars := map[string]string{"n": fmt.Sprint(len(a.Sessions)), "name": name, "example": example,
		"candidates": strings.Join(cand, ", "), "provisional": strings.Join(prov, ", "), "known": strings.Join(known, "\n")}
	var group bot.GroupID
	if g := o.groups[a.Sessions[0]]; g != nil {
		group = g.id
	}
	var keys []string
	for _, id := range cand {
		keys = append(keys, keyAsked+"g/"+id)
	}
	o.ask("groups|"+strings.Join(cand, ",")+"|"+name, bot.Task{Owner: "wechat", Kind: "identity", Group: group,
		Title: text(lang, "group.title", vars), Steps: text(lang, "group.steps", vars)}, keys...)
}

// memberSample names a few present members of a recorded group.
func memberSample(r *groupRecord) string {
	var nicks []string
	for _, m := range r.Members {
		if m.Present {
			nicks = append(nicks, m.FP.Nick)
		}
	}
	sort.Strings(nicks)
	if len(nicks) > 5 {
		nicks = append(nicks[:5], "…")
	}
	return fmt.Sprintf("%d 人：%s", len(r.Members), strings.Join(nicks, "、"))
}

func (o *owner) askFriends(remark string, fs []sessionFriend) {
	var nicks []string
	for _, f := range fs {
		nicks = append(nicks, f.Nick)
	}
	sort.Strings(nicks)
	vars := map[string]string{"remark": remark, "n": fmt.Sprint(len(fs)), "nicks": strings.Join(nicks, "、")}
	lang := o.p.lang()
	o.ask("friends|"+remark+"|"+strings.Join(nicks, ","), bot.Task{Owner: "wechat", Kind: "identity",
		Title: text(lang, "friend.title", vars), Steps: text(lang, "friend.steps", vars)})
}

func (o *owner) askMembers(g *groupState, ms []sessionMember) {
	var nicks []string
	for _, m := range ms {
		nicks = append(nicks, m.FP.Nick)
	}
	sort.Strings(nicks)
	vars := map[string]string{"name": g.name, "n": fmt.Sprint(len(ms)), "nicks": strings.Join(nicks, "、")}
	lang := o.p.lang()
	o.ask("members|"+string(g.id)+"|"+strings.Join(nicks, ","), bot.Task{Owner: "wechat", Kind: "identity", Group: g.id,
		Title: text(lang, "member.title", vars), Steps: text(lang, "member.steps", vars)})
}
