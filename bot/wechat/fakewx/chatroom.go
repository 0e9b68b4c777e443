package fakewx

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// ChatRoomOp is one webwxupdatechatroom or webwxcreatechatroom call.
type ChatRoomOp struct {
	// Fun is the fun query parameter exactly as sent. openwechat's kick
	// (Group.RemoveMembers) sends none, so it is "" there.
	Fun string
	// Op is what the call did: "addmember", "invitemember", "delmember"
	// (inferred from DelMemberList when Fun is empty), "modtopic" or
	// "create".
	Op string
	// Group is the group key; "" when the ChatRoomName was unknown or a
	// create failed.
	Group        string
	ChatRoomName string
	// UserNames are the members named in the call, People their keys where
	// the session knows them.
	UserNames []string
	People    []string
	Topic     string // NewTopic of modtopic, Topic of create
	Ret       int
}

// ChatRoomOps returns every chat-room call, oldest first.
func (s *Server) ChatRoomOps() []ChatRoomOp {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.roomOps)
	for i := range out {
		out[i].UserNames = slices.Clone(out[i].UserNames)
		out[i].People = slices.Clone(out[i].People)
	}
	return out
}

// SetCreateChatRoomFails switches the failing webwxcreatechatroom answer
// (Ret 0, empty ChatRoomName) on or off.
func (s *Server) SetCreateChatRoomFails(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createFail = fail
}

// resolvePeople maps UserNames to person keys, skipping unknown ones.
func (s *Server) resolvePeople(names []string) []string {
	var keys []string
	for _, n := range names {
		if ref, ok := s.refOf(n); ok {
			if kind, key := splitRef(ref); kind == "person" {
				keys = append(keys, key)
			}
		}
	}
	return keys
}

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// handleUpdateChatRoom does addmember (the friends join at once),
// invitemember (each friend gets an invitation card and joins only when a
// test calls AcceptInvitation), modtopic (the group is renamed) and
// delmember (no effect unless Options.KickWorks). Each effect queues the
// system message the bot would see. Adding or inviting anyone who is not a
// friend answers Ret 1.
func (s *Server) handleUpdateChatRoom(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BaseRequest      baseRequest
		ChatRoomName     string
		AddMemberList    string
		InviteMemberList string
		DelMemberList    string
		NewTopic         string
	}
	if !s.decode(w, r, &req) {
		return
	}
	fun := r.URL.Query().Get("fun")
	op := fun
	if op == "" && req.DelMemberList != "" {
		op = "delmember"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := ChatRoomOp{Fun: fun, Op: op, ChatRoomName: req.ChatRoomName}
	switch op {
	case "addmember":
		rec.UserNames = splitList(req.AddMemberList)
	case "invitemember":
		rec.UserNames = splitList(req.InviteMemberList)
	case "delmember":
		rec.UserNames = splitList(req.DelMemberList)
	case "modtopic":
		rec.Topic = req.NewTopic
	}
	rec.People = s.resolvePeople(rec.UserNames)
	ret, msg := s.checkBase(req.BaseRequest), ""
	var g *group
	if ref, ok := s.refOf(req.ChatRoomName); ok {
		if kind, key := splitRef(ref); kind == "group" {
			rec.Group, g = key, s.groups[key]
		}
	}
	switch {
	case ret != 0:
	case g == nil || !g.botIn():
		ret, msg = 1, "fakewx: unknown chat room or the bot is not in it"
	case len(rec.People) != len(rec.UserNames):
		ret, msg = 1, "fakewx: unknown member UserName"
	default:
		ret, msg = s.applyRoomOp(g, op, rec)
	}
	rec.Ret = ret
	s.roomOps = append(s.roomOps, rec)
	s.bump()
	writeBaseErr(w, ret, msg)
}

// applyRoomOp changes the world for an accepted chat-room call. Caller holds
// s.mu.
func (s *Server) applyRoomOp(g *group, op string, rec ChatRoomOp) (int, string) {
	switch op {
	case "addmember", "invitemember":
		for _, k := range rec.People {
			if !s.people[k].Friend {
				return 1, fmt.Sprintf("fakewx: %q is not a friend", k)
			}
		}
		if op == "invitemember" {
			// Each gets an invitation card in their chat with the bot. The
			// bot's session is told nothing: whether the real server syncs
			// the sent card back to it is unverified.
			for _, k := range rec.People {
				if !g.has(k) && !slices.Contains(g.invited, k) {
					g.invited = append(g.invited, k)
				}
			}
			return 0, ""
		}
		var names []string
		for _, k := range rec.People {
			if !g.has(k) {
				g.join(k, "")
				names = append(names, s.seenName(k))
			}
		}
		if len(names) > 0 {
			s.touch(groupRef(g.key), contactMod)
			s.enqueue(&queued{typ: 10000, from: groupRef(g.key), to: personRef(SelfKey), content: SysYouInvited(names...)})
		}
	case "modtopic":
		g.topic = rec.Topic
		s.touch(groupRef(g.key), contactMod)
		s.enqueue(&queued{typ: 10000, from: groupRef(g.key), to: personRef(SelfKey), content: SysYouRenamed(rec.Topic)})
	case "delmember":
		if !s.opts.KickWorks {
			return 0, ""
		}
		for _, k := range rec.People {
			if i := g.index(k); i >= 0 && k != SelfKey {
				g.members = slices.Delete(g.members, i, i+1)
				s.enqueue(&queued{typ: 10000, from: groupRef(g.key), to: personRef(SelfKey), content: SysYouRemoved(s.seenName(k))})
			}
		}
		s.touch(groupRef(g.key), contactMod)
	default:
		return 1, "fakewx: unknown fun " + op
	}
	return 0, ""
}

// handleCreateChatRoom creates a group owned by the bot with the given
// friends. Like a real new group it is not saved to contacts, so only
// webwxbatchgetcontact (and the next webwxinit) shows it.
func (s *Server) handleCreateChatRoom(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BaseRequest baseRequest
		MemberList  []struct{ UserName string }
		Topic       string
	}
	if !s.decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := ChatRoomOp{Op: "create", Topic: req.Topic}
	for _, m := range req.MemberList {
		rec.UserNames = append(rec.UserNames, m.UserName)
	}
	rec.People = s.resolvePeople(rec.UserNames)
	ret := s.checkBase(req.BaseRequest)
	msg := ""
	if ret == 0 && len(rec.People) != len(rec.UserNames) {
		ret, msg = 1, "fakewx: unknown member UserName"
	}
	for _, k := range rec.People {
		if ret == 0 && !s.people[k].Friend {
			ret, msg = 1, fmt.Sprintf("fakewx: %q is not a friend", k)
		}
	}
	if ret != 0 || s.createFail {
		rec.Ret = ret
		s.roomOps = append(s.roomOps, rec)
		s.bump()
		if ret == 0 {
			// What the real server answers when it refuses to create a
			// group, typically because of its rate limit: success with no
			// group. openwechat does not notice.
			msg = "<e><ret>-1</ret><message>创建群聊失败，请稍后再试</message></e>"
		}
		writeJSON(w, createResponse{BaseResponse: baseResponse{Ret: ret, ErrMsg: msg}, MemberList: []createMember{}})
		return
	}
	base := req.Topic
	if base == "" {
		base = "群聊"
	}
	key := base
	for i := 2; s.groups[key] != nil; i++ {
		key = fmt.Sprintf("%s#%d", base, i)
	}
	spec := GroupSpec{Key: key, Topic: req.Topic, Owner: SelfKey, Unsaved: true}
	var names []string
	for _, k := range rec.People {
		spec.Members = append(spec.Members, MemberSpec{Person: k})
		names = append(names, s.seenName(k))
	}
	g := s.addGroup(spec)
	s.touch(groupRef(g.key), contactAdd)
	s.enqueue(&queued{typ: 10000, from: groupRef(g.key), to: personRef(SelfKey), content: SysYouInvited(names...)})
	rec.Group, rec.ChatRoomName = key, s.nameOf(groupRef(key))
	s.roomOps = append(s.roomOps, rec)
	s.bump()
	resp := createResponse{BaseResponse: baseResponse{ErrMsg: "Everything is OK"}, ChatRoomName: rec.ChatRoomName, Topic: req.Topic}
	for _, n := range rec.UserNames {
		resp.MemberList = append(resp.MemberList, createMember{UserName: n})
	}
	resp.MemberCount = len(resp.MemberList)
	writeJSON(w, resp)
}

type createResponse struct {
	BaseResponse baseResponse
	ChatRoomName string
	MemberCount  int
	MemberList   []createMember
	Topic        string
	PYInitial    string
	QuanPin      string
	BlackList    string
}

type createMember struct {
	UserName     string
	MemberStatus int
}

// World mutations. They are silent, like a voluntary leave: no message is
// queued. Pair them with SendSystem where the real server would send one.
// The change shows in later webwxgetcontact/webwxbatchgetcontact answers,
// and synccheck reports it with selector 4 or 6.

// AddFriend adds a new person. With Friend set they appear in
// webwxgetcontact.
func (s *Server) AddFriend(p Person) {
	s.mu.Lock()
	defer s.mu.Unlock()
	np := s.addPerson(p)
	s.touch(personRef(np.Key), contactAdd)
}

// SetFriend makes an existing person a friend (with remark) or not.
func (s *Server) SetFriend(person string, friend bool, remark string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPerson(person)
	p.Friend, p.RemarkName = friend, remark
	s.touch(personRef(person), contactMod)
}

// AddGroup adds a group the bot has been put in.
func (s *Server) AddGroup(spec GroupSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.addGroup(spec)
	s.touch(groupRef(g.key), contactAdd)
}

// AddMember adds a person to a group (MemberSpec{Person: SelfKey} puts the
// bot back). A new key creates a non-friend person. An invitation card
// the person had for the group is used up.
func (s *Server) AddMember(groupKey string, m MemberSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGroup(groupKey)
	s.ensurePerson(m)
	if i := g.index(m.Person); i >= 0 {
		g.members[i].card = m.DisplayName
	} else {
		g.join(m.Person, m.DisplayName)
	}
	s.touch(groupRef(groupKey), contactMod)
}

// AcceptInvitation makes person accept the invitation card an invitemember
// call sent them: they join the group, and the bot gets content as a
// system message, or SysYouInvited with the name it sees them by when
// content is "" (see SysYouInvited for what is known about the real
// text). It returns the message's MsgId and panics if the person has no
// open invitation to the group.
func (s *Server) AcceptInvitation(groupKey, person, content string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGroup(groupKey)
	if !slices.Contains(g.invited, person) {
		panic(fmt.Sprintf("fakewx: %q has no open invitation to %q", person, groupKey))
	}
	g.join(person, "")
	if content == "" {
		content = SysYouInvited(s.seenName(person))
	}
	s.touch(groupRef(groupKey), contactMod)
	return s.enqueue(&queued{typ: 10000, from: groupRef(groupKey), to: personRef(SelfKey), content: content})
}

// DeclineInvitation drops person's invitation card to the group, as when
// they ignore it until it expires or refuse it. The bot is told nothing.
// It panics if the person has no open invitation to the group.
func (s *Server) DeclineInvitation(groupKey, person string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGroup(groupKey)
	i := slices.Index(g.invited, person)
	if i < 0 {
		panic(fmt.Sprintf("fakewx: %q has no open invitation to %q", person, groupKey))
	}
	g.invited = slices.Delete(g.invited, i, i+1)
}

// RemoveMember removes a person from a group without any message, as when
// someone leaves by themselves. Removing SelfKey is RemoveBotFromGroup.
func (s *Server) RemoveMember(groupKey, person string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGroup(groupKey)
	if i := g.index(person); i >= 0 {
		g.members = slices.Delete(g.members, i, i+1)
	}
	kind := contactMod
	if person == SelfKey {
		kind = contactDel
	}
	s.touch(groupRef(groupKey), kind)
}

// SetCard changes a member's group card (群昵称).
func (s *Server) SetCard(groupKey, person, card string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGroup(groupKey)
	i := g.index(person)
	if i < 0 {
		panic(fmt.Sprintf("fakewx: %q is not a member of %q", person, groupKey))
	}
	g.members[i].card = card
	s.touch(groupRef(groupKey), contactMod)
}

// RenameGroup changes a group's topic; its key stays.
func (s *Server) RenameGroup(groupKey, topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustGroup(groupKey).topic = topic
	s.touch(groupRef(groupKey), contactMod)
}

// SetSaved saves a group to contacts (保存到通讯录) or unsaves it, which
// decides whether webwxgetcontact lists it.
func (s *Server) SetSaved(groupKey string, saved bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustGroup(groupKey).saved = saved
	s.touch(groupRef(groupKey), contactMod)
}

// RemoveGroup makes a group disappear (dissolved): it leaves the contact
// list and webwxbatchgetcontact returns it without members.
func (s *Server) RemoveGroup(groupKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustGroup(groupKey).gone = true
	s.touch(groupRef(groupKey), contactDel)
}

// RemoveBotFromGroup takes the bot out of a group: the group leaves the
// contact list and webwxbatchgetcontact returns it without members. Pair it
// with SendSystem(group, SysYouWereRemoved(...)) for a kick.
func (s *Server) RemoveBotFromGroup(groupKey string) {
	s.RemoveMember(groupKey, SelfKey)
}
