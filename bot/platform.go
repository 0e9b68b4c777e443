package bot

import (
	"context"
	"errors"
	"fmt"
)

// Platform is what every messaging platform offers: a stream of events,
// sending to a group or a person, and reading groups, members, friends and
// the bot account itself. Anything more is a separate capability interface
// (Kicker, Dissolver, Renamer, Inviter, GroupCreator, FriendAccepter) that
// callers check by type assertion; see Capabilities.
type Platform interface {
	// Name identifies the platform in logs and status ("wechat", "sim").
	Name() string
	// Run delivers events to emit until ctx is done or the platform fails
	// for good. emit must not block for long.
	Run(ctx context.Context, emit func(Event)) error
	// SendText sends text to a group or a person.
	SendText(ctx context.Context, to Target, text string) error
	// SendFile sends a local file (an image when f.Image) to a group or a person.
	SendFile(ctx context.Context, to Target, f File) error
	// Groups lists the groups the bot account is in and can see.
	Groups(ctx context.Context) ([]GroupInfo, error)
	// Members lists a group's current members.
	Members(ctx context.Context, g GroupID) ([]Member, error)
	// Friends lists the bot account's friends with their remark names.
	Friends(ctx context.Context) ([]Member, error)
	// Self describes the bot account.
	Self(ctx context.Context) (Member, error)
}

// Target is where a send goes: a group, or a person by DM.
type Target struct {
	Group GroupID
	User  UserID
}

// ToGroup returns a Target for group g.
func ToGroup(g GroupID) Target { return Target{Group: g} }

// ToUser returns a Target for a DM to u.
func ToUser(u UserID) Target { return Target{User: u} }

func (t Target) String() string {
	if t.Group != "" {
		return string(t.Group)
	}
	return string(t.User)
}

// File is a local file to send.
type File struct {
	// Path is the file on disk; its base name is what the recipient sees.
	Path string
	// Image sends the file as a picture rather than an attachment.
	Image bool
}

// GroupInfo describes a group as the platform sees it now.
type GroupInfo struct {
	ID          GroupID
	Name        string
	MemberCount int
}

// Kicker removes members from a group.
type Kicker interface {
	Kick(ctx context.Context, g GroupID, users ...UserID) error
}

// Dissolver dissolves a group.
type Dissolver interface {
	Dissolve(ctx context.Context, g GroupID) error
}

// Renamer renames a group.
type Renamer interface {
	Rename(ctx context.Context, g GroupID, name string) error
}

// Inviter adds or invites people (friends of the bot account) into a group.
type Inviter interface {
	Invite(ctx context.Context, g GroupID, users ...UserID) error
}

// GroupCreator creates a group with the given friends.
type GroupCreator interface {
	CreateGroup(ctx context.Context, name string, users ...UserID) (GroupID, error)
}

// FriendAccepter accepts friend requests.
type FriendAccepter interface {
	AcceptFriend(ctx context.Context, req FriendRequest) (UserID, error)
}

// RuntimeUser is implemented by platforms that need runtime services
// beyond emitting events: the WeChat adapter asks operators, through
// operator tasks, which group is which when its identity mapping is
// ambiguous, and it refreshes only the groups the runtime manages. New
// hands the runtime to such a platform before anything runs. The platform
// calls the runtime from its own goroutines, never from inside a Platform
// method: the runtime calls those from its event loop and pacer, and many
// runtime methods call the platform again (creating a task DMs operators,
// which lists friends), so the call would wait for itself.
type RuntimeUser interface {
	UseRuntime(rt *Runtime)
}

// Capabilities lists what a platform can do beyond Platform.
type Capabilities struct {
	Kick, Dissolve, Rename, Invite, CreateGroup, AcceptFriend bool
}

// CapabilitiesOf checks p for each capability interface.
func CapabilitiesOf(p Platform) Capabilities {
	_, kick := p.(Kicker)
	_, dissolve := p.(Dissolver)
	_, rename := p.(Renamer)
	_, invite := p.(Inviter)
	_, create := p.(GroupCreator)
	_, accept := p.(FriendAccepter)
	return Capabilities{Kick: kick, Dissolve: dissolve, Rename: rename, Invite: invite, CreateGroup: create, AcceptFriend: accept}
}

// Errors a platform returns so the runtime can react. Wrap them with %w.
var (
	// ErrRateLimited means the platform asked us to slow down (WeChat 1205).
	ErrRateLimited = errors.New("platform rate limit")
	// ErrNetwork is a transient network failure worth retrying.
	ErrNetwork = errors.New("platform network error")
	// ErrOffline means the session is down; sends wait for the next login.
	ErrOffline = errors.New("platform offline")
	// ErrUnknownTarget means the group or person is not known to the session.
	ErrUnknownTarget = errors.New("unknown group or user")
	// ErrUnsupported means the platform cannot do this at all.
	ErrUnsupported = errors.New("not supported by this platform")
	// ErrInvitePending means an invitation went out but the person is not
	// a member yet: web WeChat sends groups of 40 or more an invitation
	// card to accept. Their join is reported as an event when it happens.
	ErrInvitePending = errors.New("invitation sent; not a member yet")
	// ErrInviteAwaitsApproval is an ErrInvitePending for a request the
	// platform accepted but that adds nobody until the group's owner
	// approves it (WeChat groups with invitation confirmation turned on).
	ErrInviteAwaitsApproval = fmt.Errorf("%w: the group owner must approve", ErrInvitePending)
)

// Retryable reports whether err is worth retrying after a backoff.
func Retryable(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrNetwork) || errors.Is(err, ErrOffline)
}
