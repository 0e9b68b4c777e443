package wechat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot"
)

// target returns the session name to send to: a group the bot is in, a
// friend, or the File Transfer chat for the bot account itself.
func (o *owner) target(to bot.Target) (string, error) {
	switch {
	case to.Group != "":
		g := o.groupIDs[to.Group]
		if g == nil || !g.botIn {
			return "", fmt.Errorf("%w: group %s is not in this WeChat session", bot.ErrUnknownTarget, to.Group)
		}
		return g.userName, nil
	case to.User == bot.SelfID:
		return fileHelper, nil
	case to.User != "":
		f := o.friendIDs[to.User]
		if f == nil {
			return "", fmt.Errorf("%w: %s is not a friend of the bot account", bot.ErrUnknownTarget, to.User)
		}
		return f.userName, nil
	}
	return "", fmt.Errorf("%w: empty target", bot.ErrUnknownTarget)
}

// noteSent remembers a sent message's id so that its echo is dropped.
func (o *owner) noteSent(id string) {
	now := time.Now()
	for k, at := range o.sent {
		if now.Sub(at) > 10*time.Minute {
			delete(o.sent, k)
		}
	}
	if id != "" {
		o.sent[id] = now
	}
}

func (o *owner) sendText(to bot.Target, text string) error {
	s, err := o.live()
	if err != nil {
		return err
	}
	name, err := o.target(to)
	if err != nil {
		return err
	}
	msg := openwechat.NewTextSendMessage(text, s.self.UserName, name)
	sent, err := s.bot.Caller.WebWxSendMsg(s.ctx(), &openwechat.CallerWebWxSendMsgOptions{LoginInfo: s.info, BaseRequest: s.req, Message: msg})
	if err != nil {
		return mapErr("send text", err)
	}
	o.noteSent(sent.MsgId)
	o.log.Debug("text sent", "target", to.String(), "text", text)
	return nil
}

// inlineImage lists the formats WeChat shows as pictures; webp and the
// rest would fail the upload as a picture and go as files.
var inlineImage = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true}

func (o *owner) sendFile(to bot.Target, f bot.File) error {
	s, err := o.live()
	if err != nil {
		return err
	}
	name, err := o.target(to)
	if err != nil {
		return err
	}
	// An *os.File goes up under its own name; any other reader would be
	// copied to a temp file and reach the recipient with a random name.
	file, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("wechat send file: %w", err)
	}
	defer file.Close()
	var sent *openwechat.SentMessage
	if f.Image && inlineImage[strings.ToLower(filepath.Ext(f.Path))] {
		sent, err = s.bot.Caller.WebWxSendImageMsg(s.ctx(), file, &openwechat.CallerWebWxSendImageMsgOptions{
			FromUserName: s.self.UserName, ToUserName: name, BaseRequest: s.req, LoginInfo: s.info})
	} else {
		sent, err = s.bot.Caller.WebWxSendFile(s.ctx(), file, &openwechat.CallerWebWxSendFileOptions{
			FromUserName: s.self.UserName, ToUserName: name, BaseRequest: s.req, LoginInfo: s.info})
	}
	if err != nil {
		return mapErr("send file", err)
	}
	o.noteSent(sent.MsgId)
	return nil
}

func (o *owner) listGroups() ([]bot.GroupInfo, error) {
	if _, err := o.live(); err != nil {
		return nil, err
	}
	var out []bot.GroupInfo
	for _, g := range o.groups {
		if g.botIn {
			out = append(out, bot.GroupInfo{ID: g.id, Name: g.name, MemberCount: len(g.members)})
		}
	}
	return out, nil
}

func (o *owner) listMembers(id bot.GroupID) ([]bot.Member, error) {
	if _, err := o.live(); err != nil {
		return nil, err
	}
	g := o.groupIDs[id]
	if g == nil || !g.botIn {
		return nil, fmt.Errorf("%w: group %s is not in this WeChat session", bot.ErrUnknownTarget, id)
	}
	ms := make([]*memberState, 0, len(g.members))
	for _, m := range g.members {
		ms = append(ms, m)
	}
	sortMembers(ms)
	return o.botMembers(ms), nil
}

func (o *owner) listFriends() ([]bot.Member, error) {
	if _, err := o.live(); err != nil {
		return nil, err
	}
	o.reloadContacts(false)
	out := make([]bot.Member, 0, len(o.friends))
	for _, f := range o.friends {
		out = append(out, bot.Member{ID: f.id, Nick: f.nick, Remark: f.remark, Friend: true})
	}
	return out, nil
}

func (o *owner) liveGroup(id bot.GroupID) (*session, *groupState, error) {
	s, err := o.live()
	if err != nil {
		return nil, nil, err
	}
	g := o.groupIDs[id]
	if g == nil || !g.botIn {
		return nil, nil, fmt.Errorf("%w: group %s is not in this WeChat session", bot.ErrUnknownTarget, id)
	}
	return s, g, nil
}

func (o *owner) rename(id bot.GroupID, name string) error {
	s, g, err := o.liveGroup(id)
	if err != nil {
		return err
	}
	if g.name == name {
		return nil
	}
	err = s.bot.Caller.WebWxRenameChatRoom(s.ctx(), &openwechat.CallerWebWxRenameChatRoomOptions{
		NewTopic: name, BaseRequest: s.req, LoginInfo: s.info, Group: &openwechat.Group{User: &openwechat.User{UserName: g.userName}}})
	if err != nil {
		return mapErr("rename group", err)
	}
	evs, err := o.refreshGroup(g, refreshCause{by: bot.SelfID, byName: s.self.NickName})
	o.emit(evs...)
	if err != nil {
		return fmt.Errorf("wechat rename: the name could not be read back: %w", err)
	}
	if g.name != name {
		return fmt.Errorf("wechat rename: WeChat accepted the request but the group is still called %q", g.name)
	}
	return nil
}

// friendsFor maps ids to friends of the session.
func (o *owner) friendsFor(users []bot.UserID) ([]*friendState, error) {
	var out []*friendState
	for _, u := range users {
		f := o.friendIDs[u]
		if f == nil {
			return nil, fmt.Errorf("%w: %s is not a friend of the bot account", bot.ErrUnknownTarget, u)
		}
		out = append(out, f)
	}
	return out, nil
}

func (o *owner) invite(id bot.GroupID, users []bot.UserID) error {
	s, g, err := o.liveGroup(id)
	if err != nil {
		return err
	}
	fs, err := o.friendsFor(users)
	if err != nil {
		return err
	}
	// WeChat refuses the whole call if one of them is a member already.
	var add []*openwechat.Friend
	var names []string
	invited := map[string]bool{}
	for _, f := range fs {
		if g.members[f.userName] == nil {
			add = append(add, &openwechat.Friend{User: &openwechat.User{UserName: f.userName}})
			names = append(names, f.nick)
			invited[f.userName] = true
		}
	}
	if len(add) == 0 {
		return nil
	}
	// The member count includes the bot account, as in openwechat's own
	// Group.AddFriendsIn; it picks the card from cardGroupSize on.
	size := len(g.members) + 1
	err = s.bot.Caller.AddFriendIntoChatRoom(s.ctx(), &openwechat.CallerAddFriendIntoChatRoomOptions{
		BaseRequest: s.req, LoginInfo: s.info, Group: &openwechat.Group{User: &openwechat.User{UserName: g.userName}},
		GroupLength: size, Friends: add})
	if err != nil {
		return mapErr("invite", err)
	}
	evs, err := o.refreshGroup(g, refreshCause{sys: &sysMsg{Kind: sysJoin, ActorSelf: true, Names: names}, invited: invited})
	o.emit(evs...)
	if err != nil {
		return fmt.Errorf("wechat invite: the member list could not be read back: %w", err)
	}
	var missing []string
	for _, f := range fs {
		if g.members[f.userName] == nil {
			missing = append(missing, f.nick)
		}
	}
	if len(missing) > 0 {
		why := "WeChat accepted the request; the group may need its owner's approval"
		if size >= cardGroupSize {
			why = fmt.Sprintf("a group of %d gets an invitation card, which they must accept", size)
		}
		return fmt.Errorf("wechat invite: not in the member list yet: %s (%s): %w", strings.Join(missing, ", "), why, bot.ErrInvitePending)
	}
	return nil
}

// cardGroupSize is the member count (the bot included) from which
// openwechat invites with fun=invitemember, which sends each friend an
// invitation card to accept, instead of fun=addmember, which adds them
// (openwechat v1.4.10 Client.AddMemberIntoChatRoom).
const cardGroupSize = 40

func (o *owner) createGroup(name string, users []bot.UserID) (bot.GroupID, error) {
	s, err := o.live()
	if err != nil {
		return "", err
	}
	fs, err := o.friendsFor(users)
	if err != nil {
		return "", err
	}
	if len(fs) == 0 {
		return "", fmt.Errorf("%w: a new group needs friends to invite", bot.ErrUnknownTarget)
	}
	var names []string
	for _, f := range fs {
		names = append(names, f.userName)
	}
	// The Client-level call, because the Caller-level one drops ErrMsg,
	// which is all WeChat says when it refuses.
	resp, err := s.bot.Caller.Client.WebWxCreateChatRoom(s.ctx(), &openwechat.ClientWebWxCreateChatRoomOption{
		Request: s.req, LoginInfo: s.info, Topic: name, Friends: names})
	if err != nil {
		return "", mapErr("create group", err)
	}
	defer resp.Body.Close()
	var item struct {
		BaseResponse openwechat.BaseResponse
		ChatRoomName string
	}
	if err := json.NewDecoder(resp.Body).Decode(&item); err != nil {
		return "", mapErr("create group", err)
	}
	if err := item.BaseResponse.Err(); err != nil {
		return "", mapErr("create group", err)
	}
	if item.ChatRoomName == "" {
		return "", fmt.Errorf("wechat create group: WeChat answered success but created no group (%s); it allows only a few new groups an hour",
			strings.TrimSpace(item.BaseResponse.ErrMsg))
	}
	det, err := o.details(s, []string{item.ChatRoomName})
	if err != nil {
		return "", fmt.Errorf("wechat create group: the new group could not be read back: %w", err)
	}
	u := det[item.ChatRoomName]
	if u == nil || !hasMember(u, s.self.UserName) {
		return "", fmt.Errorf("wechat create group: the new group %q does not list the bot account", name)
	}
	// A group made now is new, however much it looks like an old one.
	g := &groupState{id: bot.NewGroupID(), userName: u.UserName, name: u.NickName, saved: false, botIn: true,
		members: map[string]*memberState{}, refreshed: time.Now()}
	if g.name == "" {
		g.name = name
	}
	o.addGroup(g, &groupRecord{ID: g.id, Name: g.name, Members: map[bot.UserID]memberRecord{}}, u, s.self.UserName)
	o.emit(bot.Event{Kind: bot.EventBotAdded, Time: time.Now(), Group: g.id, GroupName: g.name, Sender: bot.SelfID,
		SenderName: s.self.NickName, Reason: "created by the bot account"})
	o.tellUnsaved(g)
	return g.id, nil
}

func (o *owner) acceptFriend(req bot.FriendRequest) (bot.UserID, error) {
	s, err := o.live()
	if err != nil {
		return "", err
	}
	r, ok := o.requests[req.Ticket]
	if !ok {
		return "", fmt.Errorf("%w: the friend request is not from the current login session", bot.ErrUnknownTarget)
	}
	err = s.bot.Caller.WebWxVerifyUser(s.ctx(), &openwechat.CallerWebWxVerifyUserOptions{RecommendInfo: r, BaseRequest: s.req, LoginInfo: s.info})
	if err != nil {
		return "", mapErr("accept friend", err)
	}
	delete(o.requests, req.Ticket)
	o.reloadContacts(true)
	f := o.friends[r.UserName]
	if f == nil {
		return "", fmt.Errorf("wechat accept friend: WeChat accepted the request but %s is not in the contact list", r.NickName)
	}
	return f.id, nil
}
