package sim

import (
	"context"

	"github.com/qunguan/qunguan/bot"
)

// WebLikePlatform exposes a sim Platform with exactly web WeChat's
// capabilities: it can rename, invite, create groups and accept friends,
// but it cannot kick or dissolve, so the runtime takes the operator-task
// path. The world (and the scripting methods) stay on the wrapped *Platform.
type WebLikePlatform struct{ p *Platform }

// WebLike wraps p.
func WebLike(p *Platform) *WebLikePlatform { return &WebLikePlatform{p: p} }

// Sim returns the wrapped platform for scripting.
func (w *WebLikePlatform) Sim() *Platform { return w.p }

// Name implements bot.Platform.
func (w *WebLikePlatform) Name() string { return "sim-web" }

// Run implements bot.Platform.
func (w *WebLikePlatform) Run(ctx context.Context, emit func(bot.Event)) error {
	return w.p.Run(ctx, emit)
}

// SendText implements bot.Platform.
func (w *WebLikePlatform) SendText(ctx context.Context, to bot.Target, text string) error {
	return w.p.SendText(ctx, to, text)
}

// SendFile implements bot.Platform.
func (w *WebLikePlatform) SendFile(ctx context.Context, to bot.Target, f bot.File) error {
	return w.p.SendFile(ctx, to, f)
}

// Groups implements bot.Platform.
func (w *WebLikePlatform) Groups(ctx context.Context) ([]bot.GroupInfo, error) {
	return w.p.Groups(ctx)
}

// Members implements bot.Platform.
func (w *WebLikePlatform) Members(ctx context.Context, g bot.GroupID) ([]bot.Member, error) {
	return w.p.Members(ctx, g)
}

// Friends implements bot.Platform.
func (w *WebLikePlatform) Friends(ctx context.Context) ([]bot.Member, error) { return w.p.Friends(ctx) }

// Self implements bot.Platform.
func (w *WebLikePlatform) Self(ctx context.Context) (bot.Member, error) { return w.p.Self(ctx) }

// Rename implements bot.Renamer.
func (w *WebLikePlatform) Rename(ctx context.Context, g bot.GroupID, name string) error {
	return w.p.Rename(ctx, g, name)
}

// Invite implements bot.Inviter.
func (w *WebLikePlatform) Invite(ctx context.Context, g bot.GroupID, users ...bot.UserID) error {
	return w.p.Invite(ctx, g, users...)
}

// CreateGroup implements bot.GroupCreator.
func (w *WebLikePlatform) CreateGroup(ctx context.Context, name string, users ...bot.UserID) (bot.GroupID, error) {
	return w.p.CreateGroup(ctx, name, users...)
}

// AcceptFriend implements bot.FriendAccepter.
func (w *WebLikePlatform) AcceptFriend(ctx context.Context, req bot.FriendRequest) (bot.UserID, error) {
	return w.p.AcceptFriend(ctx, req)
}

var (
	_ bot.Platform       = (*WebLikePlatform)(nil)
	_ bot.Renamer        = (*WebLikePlatform)(nil)
	_ bot.Inviter        = (*WebLikePlatform)(nil)
	_ bot.GroupCreator   = (*WebLikePlatform)(nil)
	_ bot.FriendAccepter = (*WebLikePlatform)(nil)
)
