package wechat

import (
	"strconv"
	"strings"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot"
)

// rawMessage is the part of an openwechat.Message the adapter uses, copied
// on the sync goroutine so that nothing of openwechat's travels further.
type rawMessage struct {
	ID      string
	Type    openwechat.MessageType
	AppType openwechat.AppMessageType
	From    string
	To      string
	// Content is after openwechat's processing: the group sender prefix
	// removed, line breaks and HTML entities decoded.
	Content string
	// SenderInGroup is the member who sent a group message, read from the
	// raw content's "@name:<br/>" prefix.
	SenderInGroup string
	FileName      string
	FileSize      string
	MediaID       string
	EncryFileName string
	URL           string
	CreateTime    int64
	Recommend     openwechat.RecommendInfo
}

// Message types openwechat names in lower case or not at all.
const (
	msgStatusNotify openwechat.MessageType = 51
	msgSysNotice    openwechat.MessageType = 9999
)

// fileHelper is the File Transfer chat (文件传输助手); its name is the same
// in every session.
const fileHelper = "filehelper"

func copyMessage(m *openwechat.Message) rawMessage {
	r := rawMessage{
		ID: m.MsgId, Type: m.MsgType, AppType: m.AppMsgType,
		From: m.FromUserName, To: m.ToUserName, Content: m.Content,
		FileName: m.FileName, FileSize: m.FileSize, MediaID: m.MediaId, EncryFileName: m.EncryFileName, URL: m.Url,
		CreateTime: m.CreateTime, Recommend: m.RecommendInfo,
	}
	if isGroup(r.From) && r.Type != openwechat.MsgTypeSys {
		if name, _, ok := strings.Cut(m.RawContent, ":<br/>"); ok && strings.HasPrefix(name, "@") {
			r.SenderInGroup = name
		}
	}
	return r
}

func isGroup(userName string) bool { return strings.HasPrefix(userName, "@@") }

func (m rawMessage) time() time.Time {
	if m.CreateTime > 0 {
		return time.Unix(m.CreateTime, 0)
	}
	return time.Now()
}

// content describes the message for the runtime: text as is, pictures and
// files with their names, everything else as a short Chinese summary in
// brackets, the way WeChat itself shows it in chat lists.
func content(m rawMessage) *bot.Message {
	out := &bot.Message{ID: m.ID, Type: bot.MsgOther}
	switch m.Type {
	case openwechat.MsgTypeText:
		if m.URL != "" {
			out.Text = "[位置]"
			break
		}
		out.Type, out.Text = bot.MsgText, m.Content
	case openwechat.MsgTypeImage:
		out.Type, out.Text = bot.MsgImage, "[图片]"
	case openwechat.MsgTypeVoice:
		out.Text = "[语音]"
	case openwechat.MsgTypeVideo, openwechat.MsgTypeMicroVideo:
		out.Text = "[视频]"
	case openwechat.MsgTypeEmoticon:
		out.Text = "[表情]"
	case openwechat.MsgTypeShareCard:
		out.Text = "[名片]"
	case openwechat.MsgTypeLocation:
		out.Text = "[位置]"
	case openwechat.MsgTypeVoip, openwechat.MsgTypeVoipNotify, openwechat.MsgTypeVoipInvite:
		out.Text = "[通话]"
	case openwechat.MsgTypeRecalled:
		out.Text = "[撤回了一条消息]"
	case openwechat.MsgTypeApp:
		switch m.AppType {
		case openwechat.AppMsgTypeAttach:
			out.Type, out.Text, out.FileName = bot.MsgFile, m.FileName, m.FileName
			out.Size, _ = strconv.ParseInt(m.FileSize, 10, 64)
		case openwechat.AppMsgTypeUrl:
			out.Text = "[链接] " + m.FileName
		case openwechat.AppMsgTypeTransfers:
			out.Text = "[转账]"
		case openwechat.AppMsgTypeRedEnvelopes:
			out.Text = "[红包]"
		case openwechat.AppMsgTypeRealtimeShareLocation:
			out.Text = "[位置共享]"
		case openwechat.AppMsgTypeEmoji, openwechat.AppMsgTypeEmotion:
			out.Text = "[表情]"
		case openwechat.AppMsgTypeVideo:
			out.Text = "[视频] " + m.FileName
		case openwechat.AppMsgTypeAudio:
			out.Text = "[音乐] " + m.FileName
		default:
			out.Text = "[分享] " + m.FileName
		}
	default:
		out.Text = "[消息]"
	}
	out.Text = strings.TrimSpace(out.Text)
	return out
}

// convert turns one message into the events it means. It is the one place
// that knows what web WeChat's messages look like: who sent it (a member
// of a group, a friend, the bot account from the phone, the File Transfer
// chat), and what system messages and friend requests say. Lookups that
// need the network (a group not seen at login, a sender not in the member
// list) happen here, on the owner goroutine.
func (o *owner) convert(m rawMessage) []bot.Event {
	switch {
	case m.Type == msgStatusNotify || m.Type == msgSysNotice:
		// The phone reporting which chats it opened.
		return nil
	case m.Type == openwechat.MsgTypeVerify && m.From == "fmessage":
		return o.friendRequest(m)
	case m.Type == openwechat.MsgTypeSys:
		if isGroup(m.From) {
			return o.systemMessage(m)
		}
		// "你已添加了X，现在可以开始聊天了" and the like: the next
		// contact read shows the new friend.
		return nil
	case m.From == o.sess.self.UserName:
		return o.selfMessage(m)
	case isGroup(m.From):
		return o.groupMessage(m)
	case strings.HasPrefix(m.From, "@"):
		return o.directMessage(m)
	}
	return nil
}

// groupMessage is a message a member sent to a group.
func (o *owner) groupMessage(m rawMessage) []bot.Event {
	g, evs := o.groupFor(m.From)
	if g == nil {
		return evs
	}
	ev := bot.Event{Kind: bot.EventMessage, Time: m.time(), Group: g.id, GroupName: g.name, Message: content(m)}
	mem, more := o.sender(g, m.SenderInGroup)
	evs = append(evs, more...)
	if mem != nil {
		ev.Sender, ev.SenderName = mem.id, mem.displayName()
		if f := o.friends[mem.userName]; f != nil {
			ev.SenderRemark = f.remark
		}
	}
	return append(evs, ev)
}

// selfMessage is a message the bot account sent. What qunguan sent comes
// back as an echo and is dropped (the runtime recorded it when it was
// sent); what the owner typed on the phone is reported with FromSelf, and
// what they typed into the File Transfer chat is an owner command.
func (o *owner) selfMessage(m rawMessage) []bot.Event {
	if _, echo := o.sent[m.ID]; echo {
		delete(o.sent, m.ID)
		return nil
	}
	ev := bot.Event{Kind: bot.EventMessage, Time: m.time(), Sender: bot.SelfID, SenderName: o.sess.self.NickName,
		FromSelf: true, Message: content(m)}
	var evs []bot.Event
	switch {
	case m.To == fileHelper:
		ev.FromFileHelper = true
	case isGroup(m.To):
		g, more := o.groupFor(m.To)
		evs = more
		if g == nil {
			return evs
		}
		ev.Group, ev.GroupName = g.id, g.name
	}
	return append(evs, ev)
}

// directMessage is a message from a friend (or an official account, which
// is ignored) to the bot account.
func (o *owner) directMessage(m rawMessage) []bot.Event {
	if o.mps[m.From] {
		return nil
	}
	ev := bot.Event{Kind: bot.EventMessage, Time: m.time(), Message: content(m)}
	f := o.friends[m.From]
	if f == nil {
		// A friend added since the contacts were read.
		o.reloadContacts(false)
		f = o.friends[m.From]
	}
	if f != nil {
		ev.Sender, ev.SenderName, ev.SenderRemark = f.id, f.nick, f.remark
		return []bot.Event{ev}
	}
	ev.Sender, ev.SenderName = o.stranger(m.From)
	return []bot.Event{ev}
}

// friendRequest is someone asking to become the bot account's friend.
// The ticket is kept for AcceptFriend during this session.
func (o *owner) friendRequest(m rawMessage) []bot.Event {
	r := m.Recommend
	if r.Ticket == "" {
		return nil
	}
	o.requests[r.Ticket] = r
	return []bot.Event{{
		Kind: bot.EventFriendRequest, Time: m.time(), SenderName: r.NickName,
		FriendRequest: &bot.FriendRequest{Ticket: r.Ticket, Nick: r.NickName, Text: r.Content},
	}}
}

// systemMessage reads a group's system message. Joins and removals make
// the member list be read again: the names in the text are only hints,
// the events carry the members as the list shows them.
func (o *owner) systemMessage(m rawMessage) []bot.Event {
	sm := parseSystem(m.Content)
	if sm.Kind == sysNone {
		o.log.Debug("system message ignored", "text", m.Content)
		return nil
	}
	_, known := o.groups[m.From]
	g, evs := o.groupFor(m.From)
	if g == nil {
		return evs
	}
	switch sm.Kind {
	case sysJoin:
		return append(evs, o.refreshLogged(g, refreshCause{sys: &sm})...)
	case sysRemoved:
		return append(evs, o.refreshLogged(g, refreshCause{sys: &sm, reason: "removed by the bot account"})...)
	case sysBotAdded:
		if known && g.botIn {
			return evs
		}
		// A group groupFor has just discovered has a fresh member list; one
		// the bot was removed from earlier in this session is read again,
		// and who came and went meanwhile is reported after the addition.
		var diff []bot.Event
		if known {
			g.botIn = true
			diff = o.refreshLogged(g, refreshCause{reason: "left while the bot was not in the group"})
		}
		ev := bot.Event{Kind: bot.EventBotAdded, Time: m.time(), Group: g.id, GroupName: g.name, SenderName: sm.Actor,
			Reason: "invited by " + sm.Actor}
		if id, ok := o.byName(g, sm.Actor); ok {
			ev.Sender = id
		}
		evs = append(evs, ev)
		return append(evs, diff...)
	case sysBotRemoved:
		if !g.botIn {
			return evs
		}
		g.botIn = false
		return append(evs, bot.Event{Kind: bot.EventBotRemoved, Time: m.time(), Group: g.id, GroupName: g.name,
			SenderName: sm.Actor, Reason: "removed by " + sm.Actor})
	case sysRenamed:
		var by bot.UserID
		byName := sm.Actor
		if sm.ActorSelf {
			by, byName = bot.SelfID, o.sess.self.NickName
		} else if id, ok := o.byName(g, sm.Actor); ok {
			by = id
		}
		return append(evs, o.renamed(g, sm.NewName, by, byName, "")...)
	}
	return evs
}
