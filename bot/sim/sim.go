// Package sim is an in-memory platform with every capability (kick,
// dissolve, rename, invite, create group, accept friends). Groups and people
// are created in code or from a world file; everything the bot sends or
// does is recorded. Every test and `qunguan demo` run on it. WebLike wraps
// it with exactly web WeChat's capabilities, so both paths of every
// capability check are exercised.
package sim

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qunguan/qunguan/bot"
	"go.yaml.in/yaml/v3"
)

// Action is one thing the bot did on the platform.
type Action struct {
	Time time.Time
	// Kind is send_text, send_file, send_image, kick, dissolve, rename,
	// invite, create_group or accept_friend.
	Kind string
	// To is the group name, "DM:<nick>", or "filehelper".
	To    string
	Text  string
	Users []string
	Err   error
	// Path is the local file of send_file and send_image (Text is its base
	// name), so tests can open what the bot sent while it still exists.
	Path string
}

func (a Action) String() string {
	var b strings.Builder
	b.WriteString(a.Kind)
	b.WriteString(" ")
	b.WriteString(a.To)
	if len(a.Users) > 0 {
		b.WriteString(" [" + strings.Join(a.Users, ", ") + "]")
	}
	if a.Text != "" {
		b.WriteString(": " + a.Text)
	}
	if a.Err != nil {
		b.WriteString(" (error: " + a.Err.Error() + ")")
	}
	return b.String()
}

// User is a simulated person.
type User struct {
	ID     bot.UserID
	Nick   string
	Remark string
	Friend bool
}

// Group is a simulated group.
type Group struct {
	ID      bot.GroupID
	Name    string
	Members []bot.UserID
	Cards   map[bot.UserID]string
	BotIn   bool
	Gone    bool
}

// Platform is the simulated platform.
type Platform struct {
	clock bot.Clock

	mu     sync.Mutex
	self   User
	users  map[bot.UserID]*User
	groups map[bot.GroupID]*Group
	byNick map[string][]*User // in id order

	nextUser int
	nextGrp  int
	actions  []Action
	fail     map[string][]error
	emit     func(bot.Event)
	pending  []bot.Event
	busy     bool
	online   bool
	msgSeq   int
	onAction func(Action)
	persist  string
	saveErr  error
}

// New returns an empty world whose bot account is nicknamed selfNick.
func New(clock bot.Clock, selfNick string) *Platform {
	return &Platform{
		clock: clock,
		self:  User{ID: bot.SelfID, Nick: selfNick},
		users: map[bot.UserID]*User{}, groups: map[bot.GroupID]*Group{}, byNick: map[string][]*User{},
		fail: map[string][]error{},
	}
}

// Name implements bot.Platform.
func (p *Platform) Name() string { return "sim" }

// SetEmitter sets where events go; the sync harness passes Runtime.Handle.
func (p *Platform) SetEmitter(f func(bot.Event)) {
	p.mu.Lock()
	p.emit = f
	p.mu.Unlock()
}

// Run delivers events to emit until ctx is done (async use: the demo's
// interactive mode). It emits a login event first.
func (p *Platform) Run(ctx context.Context, emit func(bot.Event)) error {
	p.SetEmitter(emit)
	p.Login()
	<-ctx.Done()
	return nil
}

// queue adds events and delivers them unless a delivery is already running
// (a capability called by a plugin while handling an event); the outer
// delivery loop then picks them up after the current event, as a real
// platform would report them later.
func (p *Platform) queue(evs ...bot.Event) {
	p.mu.Lock()
	p.saveLocked()
	if p.emit == nil {
		// Nobody is connected (the bot is stopped): as on a real platform,
		// what happens now is never delivered; the bot can only notice its
		// results later, e.g. in the member list at the next login.
		p.pending = nil
		p.mu.Unlock()
		return
	}
	p.pending = append(p.pending, evs...)
	if p.busy {
		p.mu.Unlock()
		return
	}
	p.busy = true
	for len(p.pending) > 0 {
		ev := p.pending[0]
		p.pending = p.pending[1:]
		emit := p.emit
		p.mu.Unlock()
		emit(ev)
		p.mu.Lock()
	}
	p.busy = false
	p.mu.Unlock()
}

// AddUser adds a person who is not the bot's friend.
func (p *Platform) AddUser(nick string) *User { return p.addUser(nick, "", false) }

// AddFriend adds a friend of the bot account with a remark name.
func (p *Platform) AddFriend(nick, remark string) *User { return p.addUser(nick, remark, true) }

func (p *Platform) addUser(nick, remark string, friend bool) *User {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextUser++
	u := &User{ID: bot.UserID(fmt.Sprintf("u_%04d", p.nextUser)), Nick: nick, Remark: remark, Friend: friend}
	p.users[u.ID] = u
	p.byNick[nick] = append(p.byNick[nick], u)
	return u
}

// AddGroup creates a group with the bot and the named people (created as
// non-friends when unknown).
func (p *Platform) AddGroup(name string, members ...string) *Group {
	var ids []bot.UserID
	for _, m := range members {
		ids = append(ids, p.userOrNew(m).ID)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextGrp++
	g := &Group{ID: bot.GroupID(fmt.Sprintf("g_%04d", p.nextGrp)), Name: name, Members: ids, Cards: map[bot.UserID]string{}, BotIn: true}
	p.groups[g.ID] = g
	return g
}

// User finds a person by nickname.
func (p *Platform) User(nick string) *User {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.userLocked(nick)
}

func (p *Platform) userLocked(nick string) *User {
	for _, u := range p.byNick[nick] {
		if u.Nick == nick {
			return u
		}
	}
	return nil
}

func (p *Platform) userOrNew(nick string) *User {
	if u := p.User(nick); u != nil {
		return u
	}
	return p.AddUser(nick)
}

// Group finds a group by current name.
func (p *Platform) Group(name string) *Group {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.groupLocked(name)
}

func (p *Platform) groupLocked(name string) *Group {
	var best *Group
	for _, g := range p.groups {
		if g.Name == name && !g.Gone && (best == nil || g.ID < best.ID) {
			best = g
		}
	}
	return best
}

// SetCard sets a member's group card.
func (p *Platform) SetCard(group, nick, card string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, u := p.groupLocked(group), p.userLocked(nick)
	g.Cards[u.ID] = card
}

// SetNick changes a person's nickname (anyone can, to anything).
func (p *Platform) SetNick(old, nick string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.userLocked(old)
	u.Nick = nick
	list := p.byNick[old]
	for i, x := range list {
		if x == u {
			p.byNick[old] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	p.byNick[nick] = append(p.byNick[nick], u)
	sort.Slice(p.byNick[nick], func(i, j int) bool { return p.byNick[nick][i].ID < p.byNick[nick][j].ID })
}

func (p *Platform) member(g *Group, id bot.UserID) bot.Member {
	u := p.users[id]
	m := bot.Member{ID: id, Card: g.Cards[id]}
	if u != nil {
		m.Nick, m.Friend = u.Nick, u.Friend
		if u.Friend {
			m.Remark = u.Remark
		}
	}
	return m
}

func (p *Platform) now() time.Time { return p.clock.Now() }

// Login emits a login event.
func (p *Platform) Login() {
	p.mu.Lock()
	p.online = true
	p.mu.Unlock()
	p.queue(bot.Event{Kind: bot.EventLogin, Time: p.now(), Sender: bot.SelfID})
}

// Logout emits a logout event with a reason.
func (p *Platform) Logout(reason string) {
	p.mu.Lock()
	p.online = false
	p.mu.Unlock()
	p.queue(bot.Event{Kind: bot.EventLogout, Time: p.now(), Sender: bot.SelfID, Reason: reason})
}

func (p *Platform) nextMsgID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgSeq++
	return fmt.Sprintf("m%d", p.msgSeq)
}

// Say makes nick send text in group.
func (p *Platform) Say(group, nick, text string) {
	p.sayMsg(group, nick, &bot.Message{Type: bot.MsgText, Text: text})
}

// SendMedia makes nick send an image or file in group.
func (p *Platform) SendMedia(group, nick string, typ bot.MsgType, fileName, path string) {
	desc := "[图片]"
	if typ == bot.MsgFile {
		desc = fileName
	}
	p.sayMsg(group, nick, &bot.Message{Type: typ, Text: desc, FileName: fileName, MediaPath: path})
}

func (p *Platform) sayMsg(group, nick string, m *bot.Message) {
	p.mu.Lock()
	g := p.groupLocked(group)
	if g == nil {
		p.mu.Unlock()
		panic("sim: no group " + group)
	}
	ev := bot.Event{Kind: bot.EventMessage, Time: p.now(), Group: g.ID, GroupName: g.Name, Message: m}
	if nick == "" || nick == p.self.Nick {
		ev.Sender, ev.SenderName, ev.FromSelf = bot.SelfID, p.self.Nick, true
	} else {
		u := p.userLocked(nick)
		if u == nil {
			p.mu.Unlock()
			panic("sim: no user " + nick)
		}
		mem := p.member(g, u.ID)
		ev.Sender, ev.SenderName, ev.SenderRemark = u.ID, mem.DisplayName(), mem.Remark
	}
	p.mu.Unlock()
	m.ID = p.nextMsgID()
	p.queue(ev)
}

// DM makes nick send text to the bot privately.
func (p *Platform) DM(nick, text string) {
	p.mu.Lock()
	u := p.userLocked(nick)
	if u == nil {
		p.mu.Unlock()
		panic("sim: no user " + nick)
	}
	ev := bot.Event{Kind: bot.EventMessage, Time: p.now(), Sender: u.ID, SenderName: u.Nick, Message: &bot.Message{Type: bot.MsgText, Text: text}}
	if u.Friend {
		ev.SenderRemark = u.Remark
	}
	p.mu.Unlock()
	ev.Message.ID = p.nextMsgID()
	p.queue(ev)
}

// FileHelper makes the owner type text into the phone's File Transfer chat.
func (p *Platform) FileHelper(text string) {
	ev := bot.Event{Kind: bot.EventMessage, Time: p.now(), Sender: bot.SelfID, SenderName: p.self.Nick, FromSelf: true, FromFileHelper: true,
		Message: &bot.Message{Type: bot.MsgText, Text: text}}
	ev.Message.ID = p.nextMsgID()
	p.queue(ev)
}

// Join adds people to group; inviter may be "".
func (p *Platform) Join(group, inviter string, nicks ...string) {
	p.mu.Lock()
	g := p.groupLocked(group)
	p.mu.Unlock()
	var ms []bot.Member
	for _, n := range nicks {
		u := p.userOrNew(n)
		p.mu.Lock()
		if !contains(g.Members, u.ID) {
			g.Members = append(g.Members, u.ID)
		}
		ms = append(ms, p.member(g, u.ID))
		p.mu.Unlock()
	}
	ev := bot.Event{Kind: bot.EventMemberJoined, Time: p.now(), Group: g.ID, GroupName: g.Name, Members: ms}
	if inviter != "" {
		p.mu.Lock()
		if iu := p.userLocked(inviter); iu != nil {
			ev.Inviter, ev.InviterName = iu.ID, iu.Nick
		}
		p.mu.Unlock()
	}
	p.queue(ev)
}

// Leave removes people from group as a voluntary leave.
func (p *Platform) Leave(group string, nicks ...string) {
	p.mu.Lock()
	g := p.groupLocked(group)
	var ms []bot.Member
	for _, n := range nicks {
		u := p.userLocked(n)
		if u == nil || !contains(g.Members, u.ID) {
			continue
		}
		ms = append(ms, p.member(g, u.ID))
		g.Members = remove(g.Members, u.ID)
	}
	ev := bot.Event{Kind: bot.EventMemberLeft, Time: p.now(), Group: g.ID, GroupName: g.Name, Members: ms}
	p.mu.Unlock()
	if len(ms) > 0 {
		p.queue(ev)
	}
}

// RenameBy makes nick rename the group.
func (p *Platform) RenameBy(group, nick, newName string) {
	p.mu.Lock()
	g := p.groupLocked(group)
	old := g.Name
	g.Name = newName
	ev := bot.Event{Kind: bot.EventGroupRenamed, Time: p.now(), Group: g.ID, GroupName: newName, OldName: old, NewName: newName}
	if u := p.userLocked(nick); u != nil {
		ev.Sender, ev.SenderName = u.ID, u.Nick
	}
	p.mu.Unlock()
	p.queue(ev)
}

// RemoveBot removes the bot account from group (done by a human owner).
func (p *Platform) RemoveBot(group, by string) {
	p.mu.Lock()
	g := p.groupLocked(group)
	if g == nil {
		p.mu.Unlock()
		panic("sim: no group " + group)
	}
	g.BotIn = false
	ev := bot.Event{Kind: bot.EventBotRemoved, Time: p.now(), Group: g.ID, GroupName: g.Name, Reason: "removed by " + by, SenderName: by}
	p.mu.Unlock()
	p.queue(ev)
}

// DissolveByHuman dissolves the group as its human owner would on the phone.
func (p *Platform) DissolveByHuman(group string) {
	p.mu.Lock()
	g := p.groupLocked(group)
	if g == nil {
		p.mu.Unlock()
		panic("sim: no group " + group)
	}
	g.Gone, g.BotIn, g.Members = true, false, nil
	ev := bot.Event{Kind: bot.EventGroupGone, Time: p.now(), Group: g.ID, GroupName: g.Name, Reason: "dissolved by owner"}
	p.mu.Unlock()
	p.queue(ev)
}

// FriendRequest makes a stranger ask to be the bot's friend.
func (p *Platform) FriendRequest(nick, text string) {
	p.queue(bot.Event{Kind: bot.EventFriendRequest, Time: p.now(), SenderName: nick,
		FriendRequest: &bot.FriendRequest{Ticket: "ticket-" + nick, Nick: nick, Text: text}})
}

// Inject emits an arbitrary event.
func (p *Platform) Inject(ev bot.Event) { p.queue(ev) }

// FailNext makes the next call of kind ("send_text", "kick", ...) fail with err.
func (p *Platform) FailNext(kind string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail[kind] = append(p.fail[kind], err)
}

func (p *Platform) failure(kind string) error {
	if q := p.fail[kind]; len(q) > 0 {
		p.fail[kind] = q[1:]
		return q[0]
	}
	return nil
}

// Actions returns everything the bot did, in order.
func (p *Platform) Actions() []Action {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Action(nil), p.actions...)
}

// TakeActions returns and clears the recorded actions.
func (p *Platform) TakeActions() []Action {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.actions
	p.actions = nil
	return a
}

func (p *Platform) record(a Action) error {
	a.Time = p.now()
	a.Err = p.failure(a.Kind)
	p.actions = append(p.actions, a)
	p.saveLocked()
	if p.onAction != nil {
		p.onAction(a)
	}
	return a.Err
}

// OnAction sets a callback for every action as it happens (the live sim
// console prints them). It runs with the platform locked: do not call back.
func (p *Platform) OnAction(f func(Action)) {
	p.mu.Lock()
	p.onAction = f
	p.mu.Unlock()
}

func (p *Platform) targetName(to bot.Target) (string, error) {
	if to.Group != "" {
		g := p.groups[to.Group]
		if g == nil || g.Gone || !g.BotIn {
			return "", fmt.Errorf("%w: group %s", bot.ErrUnknownTarget, to.Group)
		}
		return g.Name, nil
	}
	if to.User == bot.SelfID {
		return "filehelper", nil
	}
	u := p.users[to.User]
	if u == nil || !u.Friend {
		return "", fmt.Errorf("%w: user %s is not a friend", bot.ErrUnknownTarget, to.User)
	}
	return "DM:" + u.Nick, nil
}

// SendText implements bot.Platform.
func (p *Platform) SendText(ctx context.Context, to bot.Target, text string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.online {
		return bot.ErrOffline
	}
	name, err := p.targetName(to)
	if err != nil {
		return err
	}
	return p.record(Action{Kind: "send_text", To: name, Text: text})
}

// SendFile implements bot.Platform; the file must exist.
func (p *Platform) SendFile(ctx context.Context, to bot.Target, f bot.File) error {
	if _, err := os.Stat(f.Path); err != nil {
		return fmt.Errorf("sim: send file: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.online {
		return bot.ErrOffline
	}
	name, err := p.targetName(to)
	if err != nil {
		return err
	}
	kind := "send_file"
	if f.Image {
		kind = "send_image"
	}
	base := f.Path
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	return p.record(Action{Kind: kind, To: name, Text: base, Path: f.Path})
}

// Groups implements bot.Platform.
func (p *Platform) Groups(ctx context.Context) ([]bot.GroupInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []bot.GroupInfo
	for _, g := range p.groups {
		if g.BotIn && !g.Gone {
			out = append(out, bot.GroupInfo{ID: g.ID, Name: g.Name, MemberCount: len(g.Members)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Members implements bot.Platform (the bot itself is not listed).
func (p *Platform) Members(ctx context.Context, gid bot.GroupID) ([]bot.Member, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.groups[gid]
	if g == nil || g.Gone || !g.BotIn {
		return nil, fmt.Errorf("%w: group %s", bot.ErrUnknownTarget, gid)
	}
	var out []bot.Member
	for _, id := range g.Members {
		out = append(out, p.member(g, id))
	}
	return out, nil
}

// Friends implements bot.Platform.
func (p *Platform) Friends(ctx context.Context) ([]bot.Member, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []bot.Member
	for _, u := range p.users {
		if u.Friend {
			out = append(out, bot.Member{ID: u.ID, Nick: u.Nick, Remark: u.Remark, Friend: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Self implements bot.Platform.
func (p *Platform) Self(ctx context.Context) (bot.Member, error) {
	return bot.Member{ID: bot.SelfID, Nick: p.self.Nick}, nil
}

func (p *Platform) names(ids []bot.UserID) []string {
	var out []string
	for _, id := range ids {
		if u := p.users[id]; u != nil {
			out = append(out, u.Nick)
		} else {
			out = append(out, string(id))
		}
	}
	return out
}

// groupAction finds a live group (one the bot is in, when needBot) and
// records action a on it; p.mu must be held.
func (p *Platform) groupAction(gid bot.GroupID, a Action, needBot bool) (*Group, error) {
	g := p.groups[gid]
	if g == nil || g.Gone || (needBot && !g.BotIn) {
		return nil, fmt.Errorf("%w: group %s", bot.ErrUnknownTarget, gid)
	}
	a.To = g.Name
	if err := p.record(a); err != nil {
		return nil, err
	}
	return g, nil
}

// Kick implements bot.Kicker: the members are removed and a left event follows.
func (p *Platform) Kick(ctx context.Context, gid bot.GroupID, users ...bot.UserID) error {
	p.mu.Lock()
	g, err := p.groupAction(gid, Action{Kind: "kick", Users: p.names(users)}, true)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	var ms []bot.Member
	for _, u := range users {
		if contains(g.Members, u) {
			ms = append(ms, p.member(g, u))
			g.Members = remove(g.Members, u)
		}
	}
	ev := bot.Event{Kind: bot.EventMemberLeft, Time: p.now(), Group: g.ID, GroupName: g.Name, Members: ms, Sender: bot.SelfID, Reason: "kicked"}
	p.mu.Unlock()
	if len(ms) > 0 {
		p.queue(ev)
	}
	return nil
}

// Dissolve implements bot.Dissolver: the group is gone and an event follows.
func (p *Platform) Dissolve(ctx context.Context, gid bot.GroupID) error {
	p.mu.Lock()
	g, err := p.groupAction(gid, Action{Kind: "dissolve"}, false)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	g.Gone, g.BotIn, g.Members = true, false, nil
	ev := bot.Event{Kind: bot.EventGroupGone, Time: p.now(), Group: g.ID, GroupName: g.Name, Reason: "dissolved"}
	p.mu.Unlock()
	p.queue(ev)
	return nil
}

// Rename implements bot.Renamer.
func (p *Platform) Rename(ctx context.Context, gid bot.GroupID, name string) error {
	p.mu.Lock()
	g, err := p.groupAction(gid, Action{Kind: "rename", Text: name}, true)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	old := g.Name
	g.Name = name
	ev := bot.Event{Kind: bot.EventGroupRenamed, Time: p.now(), Group: g.ID, GroupName: name, OldName: old, NewName: name, Sender: bot.SelfID, FromSelf: true}
	p.mu.Unlock()
	p.queue(ev)
	return nil
}

// Invite implements bot.Inviter: friends only, as on WeChat.
func (p *Platform) Invite(ctx context.Context, gid bot.GroupID, users ...bot.UserID) error {
	p.mu.Lock()
	g, err := p.groupAction(gid, Action{Kind: "invite", Users: p.names(users)}, true)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	var ms []bot.Member
	for _, u := range users {
		if uu := p.users[u]; uu == nil || !uu.Friend {
			p.mu.Unlock()
			return fmt.Errorf("%w: %s is not a friend", bot.ErrUnknownTarget, u)
		}
		if !contains(g.Members, u) {
			g.Members = append(g.Members, u)
			ms = append(ms, p.member(g, u))
		}
	}
	ev := bot.Event{Kind: bot.EventMemberJoined, Time: p.now(), Group: g.ID, GroupName: g.Name, Members: ms, Inviter: bot.SelfID, InviterName: p.self.Nick}
	p.mu.Unlock()
	if len(ms) > 0 {
		p.queue(ev)
	}
	return nil
}

// CreateGroup implements bot.GroupCreator.
func (p *Platform) CreateGroup(ctx context.Context, name string, users ...bot.UserID) (bot.GroupID, error) {
	p.mu.Lock()
	if err := p.record(Action{Kind: "create_group", To: name, Users: p.names(users)}); err != nil {
		p.mu.Unlock()
		return "", err
	}
	for _, u := range users {
		if uu := p.users[u]; uu == nil || !uu.Friend {
			p.mu.Unlock()
			return "", fmt.Errorf("%w: %s is not a friend", bot.ErrUnknownTarget, u)
		}
	}
	p.nextGrp++
	g := &Group{ID: bot.GroupID(fmt.Sprintf("g_%04d", p.nextGrp)), Name: name, Members: append([]bot.UserID(nil), users...), Cards: map[bot.UserID]string{}, BotIn: true}
	p.groups[g.ID] = g
	p.mu.Unlock()
	p.queue(bot.Event{Kind: bot.EventBotAdded, Time: p.now(), Group: g.ID, GroupName: name, Sender: bot.SelfID})
	return g.ID, nil
}

// AcceptFriend implements bot.FriendAccepter.
func (p *Platform) AcceptFriend(ctx context.Context, req bot.FriendRequest) (bot.UserID, error) {
	p.mu.Lock()
	if err := p.record(Action{Kind: "accept_friend", To: "DM:" + req.Nick, Text: req.Text}); err != nil {
		p.mu.Unlock()
		return "", err
	}
	u := p.userLocked(req.Nick)
	p.mu.Unlock()
	if u == nil {
		u = p.AddUser(req.Nick)
	}
	p.mu.Lock()
	u.Friend = true
	p.mu.Unlock()
	return u.ID, nil
}

func contains(ids []bot.UserID, id bot.UserID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func remove(ids []bot.UserID, id bot.UserID) []bot.UserID {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// World is the YAML description of a simulated world (tests, the demo).
type World struct {
	Self   string       `yaml:"self"`
	Users  []WorldUser  `yaml:"users"`
	Groups []WorldGroup `yaml:"groups"`
}

// WorldUser is one person in a World.
type WorldUser struct {
	Nick   string `yaml:"nick"`
	Remark string `yaml:"remark"`
	Friend bool   `yaml:"friend"`
}

// WorldGroup is one group in a World.
type WorldGroup struct {
	Name    string            `yaml:"name"`
	Members []string          `yaml:"members"`
	Cards   map[string]string `yaml:"cards"`
	// BotRemoved and Gone describe a group the bot was removed from or
	// that was dissolved; snapshots (World) keep them so ids stay stable.
	BotRemoved bool `yaml:"bot_removed,omitempty"`
	Gone       bool `yaml:"gone,omitempty"`
}

// LoadWorld builds a platform from World YAML.
func LoadWorld(clock bot.Clock, data []byte) (*Platform, error) {
	var w World
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("sim world: %w", err)
	}
	return w.Build(clock), nil
}

// Build creates the platform described by w.
func (w World) Build(clock bot.Clock) *Platform {
	self := w.Self
	if self == "" {
		self = "群管机器人"
	}
	p := New(clock, self)
	for _, u := range w.Users {
		if u.Friend || u.Remark != "" {
			p.AddFriend(u.Nick, u.Remark)
		} else {
			p.AddUser(u.Nick)
		}
	}
	for _, wg := range w.Groups {
		g := p.AddGroup(wg.Name, wg.Members...)
		p.mu.Lock()
		for nick, card := range wg.Cards {
			if u := p.userLocked(nick); u != nil {
				g.Cards[u.ID] = card
			}
		}
		g.BotIn, g.Gone = !wg.BotRemoved && !wg.Gone, wg.Gone
		p.mu.Unlock()
	}
	return p
}

// World returns a snapshot of the simulated world: people and groups in
// id order, so that Build gives everyone the same ids again. People are
// named by nickname, which must therefore be unique.
func (p *Platform) World() World {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.worldLocked()
}

func (p *Platform) worldLocked() World {
	w := World{Self: p.self.Nick}
	uids := make([]bot.UserID, 0, len(p.users))
	for id := range p.users {
		uids = append(uids, id)
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	for _, id := range uids {
		u := p.users[id]
		w.Users = append(w.Users, WorldUser{Nick: u.Nick, Remark: u.Remark, Friend: u.Friend})
	}
	gids := make([]bot.GroupID, 0, len(p.groups))
	for id := range p.groups {
		gids = append(gids, id)
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	for _, id := range gids {
		g := p.groups[id]
		wg := WorldGroup{Name: g.Name, Members: p.names(g.Members), Gone: g.Gone, BotRemoved: !g.BotIn && !g.Gone}
		for uid, card := range g.Cards {
			if u := p.users[uid]; u != nil {
				if wg.Cards == nil {
					wg.Cards = map[string]string{}
				}
				wg.Cards[u.Nick] = card
			}
		}
		w.Groups = append(w.Groups, wg)
	}
	return w
}

// PersistTo makes the platform write its world (World) to path now and
// after every change, replacing the file atomically. The world outlives
// the bot: a crash test kills the process running the bot and starts
// another on the same world with LoadWorld.
func (p *Platform) PersistTo(path string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.persist = path
	p.saveLocked()
	return p.saveErr
}

// saveLocked writes the world to the persist path, if any. A failure is
// kept for PersistTo and logged nowhere: the sim has no logger, and the
// crash tests check the file they read.
func (p *Platform) saveLocked() {
	if p.persist == "" {
		return
	}
	data, err := yaml.Marshal(p.worldLocked())
	if err == nil {
		tmp := p.persist + ".tmp"
		if err = os.WriteFile(tmp, data, 0o600); err == nil {
			err = os.Rename(tmp, p.persist)
		}
	}
	p.saveErr = err
}

var (
	_ bot.Platform       = (*Platform)(nil)
	_ bot.Kicker         = (*Platform)(nil)
	_ bot.Dissolver      = (*Platform)(nil)
	_ bot.Renamer        = (*Platform)(nil)
	_ bot.Inviter        = (*Platform)(nil)
	_ bot.GroupCreator   = (*Platform)(nil)
	_ bot.FriendAccepter = (*Platform)(nil)
)

// SetOnline marks the simulated session up or down without emitting events.
func (p *Platform) SetOnline(on bool) {
	p.mu.Lock()
	p.online = on
	p.mu.Unlock()
}
