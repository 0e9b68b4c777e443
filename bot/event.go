package bot

import (
	"fmt"
	"time"
)

// EventKind says what happened.
type EventKind uint8

// The kinds of Event a platform emits.
const (
	EventMessage       EventKind = iota + 1 // a message in a group or a DM
	EventMemberJoined                       // one or more members joined a group
	EventMemberLeft                         // one or more members left or were removed
	EventGroupRenamed                       // a group's name changed
	EventBotAdded                           // the bot account was added to a group
	EventBotRemoved                         // the bot account was removed from a group
	EventGroupGone                          // a group no longer exists (dissolved or lost)
	EventFriendRequest                      // someone asked to become the bot's friend
	EventLogin                              // the platform session is up
	EventLogout                             // the platform session ended
)

var eventKindNames = map[EventKind]string{
	EventMessage:       "message",
	EventMemberJoined:  "member_joined",
	EventMemberLeft:    "member_left",
	EventGroupRenamed:  "group_renamed",
	EventBotAdded:      "bot_added",
	EventBotRemoved:    "bot_removed",
	EventGroupGone:     "group_gone",
	EventFriendRequest: "friend_request",
	EventLogin:         "login",
	EventLogout:        "logout",
}

func (k EventKind) String() string {
	if s, ok := eventKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("event_kind(%d)", k)
}

// MsgType is the type of a message's content.
type MsgType uint8

// Message content types. Everything the runtime does not treat specially
// (voice, video, cards, red packets, ...) is MsgOther with a Summary.
const (
	MsgText MsgType = iota + 1
	MsgImage
	MsgFile
	MsgOther
)

func (t MsgType) String() string {
	switch t {
	case MsgText:
		return "text"
	case MsgImage:
		return "image"
	case MsgFile:
		return "file"
	case MsgOther:
		return "other"
	}
	return fmt.Sprintf("msg_type(%d)", t)
}

// Message is the content of an EventMessage.
type Message struct {
	// ID is the platform's message id, kept for evidence and export.
	ID   string
	Type MsgType
	// Text is the text for MsgText, and a short description otherwise
	// ("[图片]", the file name, "[语音]").
	Text string
	// FileName and Size describe an image or file attachment.
	FileName string
	Size     int64
	// MediaPath is where the platform saved the attachment, if it did.
	MediaPath string
}

// Member is a person as seen in one group.
type Member struct {
	ID UserID
	// Nick is the person's own nickname; anyone can set it to anything.
	Nick string
	// Card is the group card (群昵称) within this group.
	Card string
	// Remark is the remark name the bot account set for this person on its
	// phone; only friends have one and only the bot account can set it.
	Remark string
	// Friend reports whether the person is the bot account's friend.
	Friend bool
}

// DisplayName is the name to show for m in a group: the group card, else
// the nickname.
func (m Member) DisplayName() string {
	if m.Card != "" {
		return m.Card
	}
	if m.Nick != "" {
		return m.Nick
	}
	return string(m.ID)
}

// FriendRequest is the payload of an EventFriendRequest.
type FriendRequest struct {
	// Ticket is the platform's handle for accepting the request.
	Ticket string
	Nick   string
	// Text is what the person wrote in the request.
	Text string
}

// Event is one thing that happened on the platform, already mapped onto
// durable ids. Every event carries the group (zero for DMs and account
// events), the sender (the acting person where known) and the time.
type Event struct {
	Kind EventKind
	Time time.Time

	// Group is the group the event happened in; zero for DMs.
	Group     GroupID
	GroupName string

	// Sender is who sent the message or did the action.
	Sender UserID
	// SenderName is the sender's display name in the group, or nickname.
	SenderName string
	// SenderRemark is the remark name the bot account set for the sender
	// (friends only). Operators are recognised by it.
	SenderRemark string
	// FromSelf reports that the bot account itself sent this message, from
	// this process or from the phone. Self messages are never answered,
	// except FromFileHelper ones.
	FromSelf bool
	// FromFileHelper reports a message the owner typed into the phone's File
	// Transfer chat: an owner command.
	FromFileHelper bool

	// Message is set for EventMessage.
	Message *Message

	// Members are the people who joined or left (EventMemberJoined/Left).
	Members []Member
	// Inviter is who invited the joiners, when known.
	Inviter     UserID
	InviterName string

	// OldName and NewName are set for EventGroupRenamed.
	OldName, NewName string

	// FriendRequest is set for EventFriendRequest.
	FriendRequest *FriendRequest

	// Reason explains a logout, a removal or a platform notice.
	Reason string

	// Late marks an event noticed only after the fact, such as a leave found
	// when the member list was compared at login: it is recorded and counted,
	// but nobody should be greeted or bid goodbye as if it just happened.
	Late bool

	// IsCommand is set by the runtime when the message was a command the
	// router handled, so plugins can leave it alone.
	IsCommand bool
}

// IsDM reports whether the event is a direct message to the bot account.
func (ev *Event) IsDM() bool { return ev.Kind == EventMessage && ev.Group == "" }

// Text returns the message text, or "" for events without one.
func (ev *Event) Text() string {
	if ev.Message == nil {
		return ""
	}
	return ev.Message.Text
}
