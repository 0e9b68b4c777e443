package wechat

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot"
)

// owner is the state only the owner goroutine touches: the live session,
// the snapshot of groups, members and friends with their durable ids, and
// the identity records. Everything that calls into openwechat after login
// runs here (see supervisor.go).
type owner struct {
	p      *Platform
	log    *slog.Logger
	ids    *idStore
	emitFn func(bot.Event)

	// sess is the logged-in session; online means it is set up (names
	// mapped) and the runtime was told. pending is a session whose setup
	// failed and is retried; its messages wait in held.
	sess       *session
	online     bool
	pending    *session
	pendingWhy string
	held       []rawMessage
	setupTries int
	retryAt    time.Time
	// afterLogin are notices found while setting up, raised after the
	// login event so that the runtime can DM them.
	afterLogin []func()

	groups    map[string]*groupState // by session UserName
	groupIDs  map[bot.GroupID]*groupState
	friends   map[string]*friendState // by session UserName
	friendIDs map[bot.UserID]*friendState
	mps       map[string]bool
	// people are the ids given this session to non-friends by UserName,
	// so that one person keeps one new id across groups.
	people     map[string]bot.UserID
	peopleNick map[string]string
	contactsAt time.Time

	// sent are the MsgIDs of what qunguan sent, to drop their echoes.
	sent map[string]time.Time
	// seen are recently handled MsgIDs: a new login may deliver again
	// what the last session received but did not acknowledge.
	seen *recentIDs
	// requests are this session's friend requests by ticket.
	requests map[string]openwechat.RecommendInfo
	// unknownAt limits refreshes caused by senders missing from a list.
	unknownAt map[string]time.Time
	lastTimed time.Time
	// holds are the events of groups with a download in flight, in order
	// (media.go); a group with none has no entry.
	holds map[bot.GroupID][]heldEvent
}

// groupState is a group as this session knows it.
type groupState struct {
	id          bot.GroupID
	userName    string
	name        string
	saved       bool
	botIn       bool
	provisional bool // the id was given because the mapping was ambiguous
	members     map[string]*memberState
	refreshed   time.Time
}

// memberState is one member of a group (never the bot itself).
type memberState struct {
	userName string
	fp       fingerprint
	id       bot.UserID
}

func (m *memberState) displayName() string {
	if m.fp.Card != "" {
		return m.fp.Card
	}
	return m.fp.Nick
}

// friendState is a friend as this session knows them.
type friendState struct {
	userName, nick, remark string
	attr                   int64
	id                     bot.UserID
}

func newOwner(p *Platform, ids *idStore, emit func(bot.Event)) *owner {
	o := &owner{p: p, log: p.log, ids: ids, emitFn: emit, sent: map[string]time.Time{}, seen: newRecentIDs(4096),
		holds: map[bot.GroupID][]heldEvent{}}
	o.reset()
	return o
}

// reset forgets everything tied to a session's names.
func (o *owner) reset() {
	o.groups, o.groupIDs = map[string]*groupState{}, map[bot.GroupID]*groupState{}
	o.friends, o.friendIDs = map[string]*friendState{}, map[bot.UserID]*friendState{}
	o.mps, o.people, o.peopleNick = map[string]bool{}, map[string]bot.UserID{}, map[string]string{}
	o.requests, o.unknownAt = map[string]openwechat.RecommendInfo{}, map[string]time.Time{}
	o.contactsAt = time.Time{}
}

func (o *owner) run(ctx context.Context) {
	tick := time.NewTicker(o.p.o.RefreshGap)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			o.drain()
			return
		case in := <-o.p.inbound:
			_ = o.safely("inbound", func() error { o.handleInbound(in); return nil })
		case c := <-o.p.calls:
			c.done <- o.safely("call", func() error { return c.fn(o) })
		case j := <-o.p.mediaDone:
			_ = o.safely("media", func() error { o.mediaBack(j); return nil })
		case <-tick.C:
			_ = o.safely("tick", func() error { o.tick(); return nil })
		}
	}
}

// drain serves calls for StopGrace after Run's context ended, so that the
// runtime's last replies go out; nothing else happens any more.
func (o *owner) drain() {
	if !o.online {
		return
	}
	t := time.NewTimer(o.p.o.StopGrace)
	defer t.Stop()
	for {
		select {
		case c := <-o.p.calls:
			c.done <- o.safely("call", func() error { return c.fn(o) })
		case <-t.C:
			return
		}
	}
}

// safely contains a panic, so that one bad message or call cannot stop
// the goroutine everything depends on.
func (o *owner) safely(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			o.log.Error("wechat adapter panicked", "in", what, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("wechat adapter panicked in %s: %v", what, r)
		}
	}()
	return f()
}

// emit hands events to the runtime in order; those of a group waiting for
// a download wait behind it.
func (o *owner) emit(evs ...bot.Event) {
	for _, ev := range evs {
		if q, held := o.holds[ev.Group]; held && ev.Group != "" {
			o.holds[ev.Group] = append(q, heldEvent{ev: ev})
			continue
		}
		o.push(ev)
	}
}

func (o *owner) push(ev bot.Event) {
	o.log.Debug("event", "kind", ev.Kind.String(), "group_id", string(ev.Group), "user_id", string(ev.Sender), "text", ev.Text())
	o.p.out.push(func() { o.emitFn(ev) })
}

// later runs fn with the runtime off the owner goroutine (fn may call
// back into the platform); without a runtime it does nothing.
func (o *owner) later(fn func(ctx context.Context, rt Runtime)) {
	rt := o.p.runtime()
	if rt == nil {
		return
	}
	o.p.out.push(func() { fn(context.Background(), rt) })
}

// live returns the session when it is set up.
func (o *owner) live() (*session, error) {
	if !o.online || o.sess == nil {
		return nil, fmt.Errorf("%w: not logged in to WeChat", bot.ErrOffline)
	}
	return o.sess, nil
}

func (o *owner) handleInbound(in inbound) {
	switch in.kind {
	case inUp:
		o.sess, o.online, o.pending, o.held = in.sess, false, nil, nil
		o.setup(in.sess, loginReason(in.sess.how))
	case inDown:
		if in.sess != o.sess {
			return
		}
		wasOnline := o.online
		o.sess, o.online, o.pending, o.held = nil, false, nil, nil
		o.reset()
		if wasOnline {
			o.emit(bot.Event{Kind: bot.EventLogout, Time: time.Now(), Sender: bot.SelfID, Reason: describeExit(in.err)})
		}
	case inNetDown:
		if in.sess != o.sess || !o.online {
			return
		}
		o.online = false
		o.emit(bot.Event{Kind: bot.EventLogout, Time: time.Now(), Sender: bot.SelfID,
			Reason: "网络不通，会话可能仍有效：" + redact(in.err)})
	case inNetUp:
		if in.sess != o.sess || o.online || o.pending != nil {
			return
		}
		o.setup(in.sess, "网络恢复")
	case inMessage:
		switch in.sess {
		case o.sess:
			if o.online {
				o.handleMessage(in.msg)
				return
			}
			if len(o.held) < 10000 {
				o.held = append(o.held, in.msg)
			}
		default:
			o.log.Debug("message of an ended session dropped", "session", in.sess.gen)
		}
	}
}

func loginReason(how string) string {
	switch how {
	case "hot":
		return "沿用保存的会话（热登录）"
	case "push":
		return "手机确认登录（免扫码）"
	}
	return "扫码登录"
}

// setup maps the session's names onto durable ids and tells the runtime
// the bot is online. If reading the contacts fails it is retried on the
// tick with backoff; messages wait meanwhile.
func (o *owner) setup(s *session, why string) {
	renames, err := o.mapSession(s)
	if err != nil {
		o.setupTries++
		o.pending, o.pendingWhy, o.afterLogin = s, why, nil
		o.retryAt = time.Now().Add(o.p.o.SyncBackoff.delay(o.setupTries))
		o.log.Warn("login setup failed; will retry", "session", s.gen, "attempt", o.setupTries, "err", redact(err))
		return
	}
	o.pending, o.setupTries = nil, 0
	o.online = true
	o.emit(renames...)
	o.emit(bot.Event{Kind: bot.EventLogin, Time: time.Now(), Sender: bot.SelfID, SenderName: s.self.NickName, Reason: why})
	for _, f := range o.afterLogin {
		f()
	}
	o.afterLogin = nil
	held := o.held
	o.held = nil
	for _, m := range held {
		o.handleMessage(m)
	}
}

func (o *owner) handleMessage(m rawMessage) {
	if m.ID != "" {
		if o.seen.has(m.ID) {
			o.log.Debug("message delivered again; dropped", "msg_id", m.ID)
			return
		}
		o.seen.add(m.ID)
	}
	evs := o.convert(m)
	if i := mediaEvent(m, evs); i >= 0 {
		if j := o.download(m, evs[i]); j != nil {
			o.emit(evs[:i]...)
			o.hold(evs[i], j)
			o.emit(evs[i+1:]...)
			return
		}
	}
	o.emit(evs...)
}

// tick retries a failed setup and refreshes the member list of one
// managed group when its turn has come: groups are read one at a time,
// spread over the refresh interval, never closer than RefreshGap.
func (o *owner) tick() {
	now := time.Now()
	if o.pending != nil {
		if now.After(o.retryAt) {
			o.setup(o.pending, o.pendingWhy)
		}
		return
	}
	if !o.online {
		return
	}
	every := o.memberRefresh()
	if every <= 0 {
		return
	}
	managed := o.managed()
	if len(managed) == 0 {
		return
	}
	step := max(o.p.o.RefreshGap, every/time.Duration(len(managed)))
	if now.Sub(o.lastTimed) < step {
		return
	}
	g := managed[0]
	for _, x := range managed[1:] {
		if x.refreshed.Before(g.refreshed) {
			g = x
		}
	}
	if now.Sub(g.refreshed) < every {
		return
	}
	o.lastTimed = now
	o.emit(o.refreshLogged(g, refreshCause{})...)
}

func (o *owner) memberRefresh() time.Duration {
	if rt := o.p.runtime(); rt != nil {
		return rt.Config().Wechat.MemberRefresh.D()
	}
	return o.p.o.MemberRefresh
}

// managed returns the session's groups the runtime manages (all of them
// without a runtime or config) that the bot is still in.
func (o *owner) managed() []*groupState {
	var out []*groupState
	if rt := o.p.runtime(); rt != nil {
		for _, r := range rt.ManagedGroups() {
			if g := o.groupIDs[r.ID]; g != nil && g.botIn {
				out = append(out, g)
			}
		}
		return out
	}
	cfg := o.p.o.Config
	for _, g := range o.groups {
		if g.botIn && (cfg == nil || cfg.Manages(g.name)) {
			out = append(out, g)
		}
	}
	return out
}

// isManaged reports whether the runtime manages the group.
func (o *owner) isManaged(g *groupState) bool {
	if c := o.p.config(); c != nil {
		return c.Manages(g.name)
	}
	return true
}

// recentIDs remembers the last n message ids.
type recentIDs struct {
	ring []string
	next int
	set  map[string]bool
}

func newRecentIDs(n int) *recentIDs {
	return &recentIDs{ring: make([]string, n), set: map[string]bool{}}
}

func (r *recentIDs) has(id string) bool { return r.set[id] }

func (r *recentIDs) add(id string) {
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.set[id] = true
	r.next = (r.next + 1) % len(r.ring)
}
