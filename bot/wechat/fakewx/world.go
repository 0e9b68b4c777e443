package fakewx

import (
	"fmt"
	"slices"
)

// SelfKey is the person key of the bot account. Use it as a member key to
// place the bot in a group's member list or as a group Owner to make the bot
// the owner (IsOwner = 1).
const SelfKey = "self"

// FileHelperKey is the key and the UserName of the File Transfer helper
// (文件传输助手); it is the same in every session.
const FileHelperKey = "filehelper"

// World is the scripted account: the bot itself, the people it knows and the
// groups it is in. Keys are stable handles for tests; the session UserNames
// (@..., @@...) are generated anew at every login, as the real server does.
type World struct {
	// Self is the bot account. Its Key is always SelfKey; Uin defaults to
	// 2000000001 and NickName to "群管机器人".
	Self Person
	// People are friends and strangers (non-friend group members). Members
	// named only in a GroupSpec are added as non-friends.
	People []Person
	// Groups the bot is in.
	Groups []GroupSpec
	// MPs are the nicknames of official accounts (公众号) in the contact list,
	// so an adapter can be tested for ignoring them.
	MPs []string
}

// Person is someone the bot account can see. In a World it is a spec; the
// accessors return it with UserName filled in for the current session.
type Person struct {
	// Key is the stable handle tests use; it defaults to NickName.
	Key        string
	NickName   string
	RemarkName string // the remark the bot account set on its phone; friends only
	Friend     bool
	AttrStatus int64
	Sex        int
	Province   string
	City       string
	Signature  string
	// Uin is only sent for Self; the server sends 0 for everyone else.
	Uin int64

	// UserName is the current session's name. It is ignored in a World.
	UserName string
}

// GroupSpec describes a group in a World.
type GroupSpec struct {
	// Key is the stable handle tests use; it defaults to Topic and does not
	// change when the group is renamed.
	Key   string
	Topic string
	// Owner is the key of the owning person; SelfKey makes the bot the owner.
	Owner   string
	Members []MemberSpec
	// Unsaved groups are not "saved to contacts" (保存到通讯录), so
	// webwxgetcontact leaves them out; they still appear in webwxinit's
	// recent-chat ContactList and in webwxbatchgetcontact.
	Unsaved bool
}

// MemberSpec places a person in a group. The bot is added as the first member
// unless a MemberSpec with Person SelfKey places it elsewhere.
type MemberSpec struct {
	// Person is the person key. If no Person with that key exists, a
	// non-friend is created from NickName (default: the key) and AttrStatus.
	Person      string
	NickName    string
	AttrStatus  int64
	DisplayName string // the group card (群昵称)
}

// Group is a snapshot of a group, with names valid for the current session.
type Group struct {
	Key      string
	Topic    string
	UserName string
	Owner    string // person key of the owner
	IsOwner  bool   // the bot owns the group
	Saved    bool
	// BotIn is false after RemoveBotFromGroup; Gone is true after RemoveGroup.
	BotIn   bool
	Gone    bool
	Members []Member
	// Invited are the keys of the people with an open invitation card
	// (from invitemember), oldest first.
	Invited []string
}

// Member is a snapshot of one person in one group.
type Member struct {
	Person      string // person key
	NickName    string
	DisplayName string
	RemarkName  string
	Friend      bool
	AttrStatus  int64
	UserName    string
}

// group is the server's mutable record of a group.
type group struct {
	key     string
	topic   string
	owner   string
	members []member // in join order; includes the bot while botIn
	invited []string // person keys with an open invitation card
	saved   bool
	gone    bool
}

type member struct {
	person string
	card   string
}

func (g *group) has(person string) bool {
	return g.index(person) >= 0
}

func (g *group) index(person string) int {
	return slices.IndexFunc(g.members, func(m member) bool { return m.person == person })
}

func (g *group) botIn() bool { return !g.gone && g.has(SelfKey) }

// join adds a person who is not a member; an invitation card they had is
// used up.
func (g *group) join(person, card string) {
	g.members = append(g.members, member{person: person, card: card})
	g.invited = slices.DeleteFunc(g.invited, func(k string) bool { return k == person })
}

// DefaultWorld returns a small world for tests: the bot owns 技术群 (alice,
// bob, carol, dave) and is a plain member of 闲聊群 (owned by carol, with
// alice and eve). alice and eve are friends with remarks, bob is a friend
// without one, carol and dave are not friends, and dave shares bob's
// nickname so identity code cannot rely on nicknames.
func DefaultWorld() World {
	return World{
		Self: Person{NickName: "群管机器人", Uin: 2000000001},
		People: []Person{
			{Key: "alice", NickName: "爱丽丝", RemarkName: "[u1] 爱丽丝", Friend: true, AttrStatus: 100101, Sex: 2, Province: "浙江", City: "杭州"},
			{Key: "bob", NickName: "Bob", Friend: true, AttrStatus: 100201, Sex: 1},
			{Key: "carol", NickName: "卡罗尔", AttrStatus: 100301, Sex: 2},
			{Key: "dave", NickName: "Bob", AttrStatus: 100401, Sex: 1},
			{Key: "eve", NickName: "伊芙", RemarkName: "eve-op", Friend: true, AttrStatus: 100501, Sex: 2},
		},
		Groups: []GroupSpec{
			{Topic: "技术群", Owner: SelfKey, Members: []MemberSpec{
				{Person: "alice", DisplayName: "Alice@技术"},
				{Person: "bob"},
				{Person: "carol", DisplayName: "卡卡"},
				{Person: "dave"},
			}},
			{Topic: "闲聊群", Owner: "carol", Members: []MemberSpec{
				{Person: "carol"},
				{Person: "alice"},
				{Person: "eve", DisplayName: "伊芙🌸"},
			}},
		},
		MPs: []string{"腾讯新闻"},
	}
}

// load fills the server's world from w. It panics on an inconsistent World:
// that is a bug in the test that built it.
func (s *Server) load(w World) {
	self := w.Self
	self.Key = SelfKey
	if self.NickName == "" {
		self.NickName = "群管机器人"
	}
	if self.Uin == 0 {
		self.Uin = 2000000001
	}
	self.Friend = false
	s.people = map[string]*Person{SelfKey: &self}
	for _, p := range w.People {
		s.addPerson(p)
	}
	s.groups = map[string]*group{}
	for _, g := range w.Groups {
		s.addGroup(g)
	}
	s.mps = append(s.mps, w.MPs...)
}

func (s *Server) addPerson(p Person) *Person {
	if p.Key == "" {
		p.Key = p.NickName
	}
	if p.NickName == "" {
		p.NickName = p.Key
	}
	if p.Key == "" {
		panic("fakewx: person without Key or NickName")
	}
	if _, dup := s.people[p.Key]; dup {
		panic(fmt.Sprintf("fakewx: duplicate person key %q", p.Key))
	}
	p.UserName = ""
	s.people[p.Key] = &p
	s.personOrder = append(s.personOrder, p.Key)
	return &p
}

func (s *Server) addGroup(spec GroupSpec) *group {
	if spec.Key == "" {
		spec.Key = spec.Topic
	}
	if spec.Key == "" {
		panic("fakewx: group without Key or Topic")
	}
	if _, dup := s.groups[spec.Key]; dup {
		panic(fmt.Sprintf("fakewx: duplicate group key %q", spec.Key))
	}
	g := &group{key: spec.Key, topic: spec.Topic, owner: spec.Owner, saved: !spec.Unsaved}
	for _, m := range spec.Members {
		s.ensurePerson(m)
		if g.has(m.Person) {
			panic(fmt.Sprintf("fakewx: %q listed twice in group %q", m.Person, spec.Key))
		}
		g.members = append(g.members, member{person: m.Person, card: m.DisplayName})
	}
	if !g.has(SelfKey) {
		g.members = slices.Insert(g.members, 0, member{person: SelfKey})
	}
	if g.owner != "" && !g.has(g.owner) {
		panic(fmt.Sprintf("fakewx: owner %q of group %q is not a member", g.owner, spec.Key))
	}
	s.groups[g.key] = g
	s.groupOrder = append(s.groupOrder, g.key)
	return g
}

// ensurePerson returns the person a MemberSpec names, creating a non-friend
// if the key is new.
func (s *Server) ensurePerson(m MemberSpec) *Person {
	if m.Person == "" {
		panic("fakewx: MemberSpec without Person")
	}
	if p, ok := s.people[m.Person]; ok {
		return p
	}
	return s.addPerson(Person{Key: m.Person, NickName: m.NickName, AttrStatus: m.AttrStatus})
}

func (s *Server) mustGroup(key string) *group {
	g, ok := s.groups[key]
	if !ok {
		panic(fmt.Sprintf("fakewx: no group with key %q", key))
	}
	return g
}

func (s *Server) mustPerson(key string) *Person {
	p, ok := s.people[key]
	if !ok {
		panic(fmt.Sprintf("fakewx: no person with key %q", key))
	}
	return p
}

// seenName is how the bot account sees a person in system messages: its
// remark if it set one, else the nickname.
func (s *Server) seenName(key string) string {
	p := s.mustPerson(key)
	if p.RemarkName != "" {
		return p.RemarkName
	}
	return p.NickName
}

func (s *Server) personSnapshot(key string) Person {
	p := *s.mustPerson(key)
	p.UserName = s.nameOf(personRef(key))
	return p
}

func (s *Server) groupSnapshot(g *group) Group {
	out := Group{
		Key:      g.key,
		Topic:    g.topic,
		UserName: s.nameOf(groupRef(g.key)),
		Owner:    g.owner,
		IsOwner:  g.owner == SelfKey,
		Saved:    g.saved,
		BotIn:    g.botIn(),
		Gone:     g.gone,
	}
	for _, m := range g.members {
		out.Members = append(out.Members, s.memberSnapshot(m))
	}
	out.Invited = slices.Clone(g.invited)
	return out
}

func (s *Server) memberSnapshot(m member) Member {
	p := s.people[m.person]
	return Member{
		Person:      m.person,
		NickName:    p.NickName,
		DisplayName: m.card,
		RemarkName:  p.RemarkName,
		Friend:      p.Friend,
		AttrStatus:  p.AttrStatus,
		UserName:    s.nameOf(personRef(m.person)),
	}
}

// Self returns the bot account with its current session UserName.
func (s *Server) Self() Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.personSnapshot(SelfKey)
}

// Person returns the person with the given key. It panics if there is none.
func (s *Server) Person(key string) Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.personSnapshot(key)
}

// People returns every person except the bot, in the order they were added.
func (s *Server) People() []Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Person, 0, len(s.personOrder))
	for _, k := range s.personOrder {
		out = append(out, s.personSnapshot(k))
	}
	return out
}

// Group returns the group with the given key, including removed ones. It
// panics if there is none.
func (s *Server) Group(key string) Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groupSnapshot(s.mustGroup(key))
}

// Groups returns every group ever in the world, in creation order.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Group, 0, len(s.groupOrder))
	for _, k := range s.groupOrder {
		out = append(out, s.groupSnapshot(s.groups[k]))
	}
	return out
}

// Member returns person in group. It panics if the person is not a member.
func (s *Server) Member(groupKey, person string) Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGroup(groupKey)
	i := g.index(person)
	if i < 0 {
		panic(fmt.Sprintf("fakewx: %q is not a member of %q", person, groupKey))
	}
	return s.memberSnapshot(g.members[i])
}

// Resolve maps a session UserName back to a stable key. kind is "person"
// (including SelfKey), "group", "mp" or "filehelper"; ok is false for names
// the current session does not know, such as names from an earlier login.
func (s *Server) Resolve(userName string) (kind, key string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.refOf(userName)
	if !ok {
		return "", "", false
	}
	kind, key = splitRef(ref)
	return kind, key, true
}
