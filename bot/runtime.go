package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Runtime.
type Options struct {
	Config   *Config
	Store    Store
	Platform Platform
	Plugins  []Plugin
	Clock    Clock
	Logger   *slog.Logger
	// Sync runs everything on the caller's goroutine: events are handled
	// when given to Handle, sends are drained after each event, timers fire
	// inside FakeClock.Advance. The test harness and the demo use it.
	Sync bool
	// Version is the bot's version, for status and archives.
	Version string
	// Codes, when set, makes confirmation codes: six digits each. The
	// default draws them from crypto/rand; golden scenarios pass a seeded
	// sequence so their transcripts are stable.
	Codes func() string
}

// Runtime connects a platform, the store and the plugins. Data flows one
// way: platform -> Event -> recorder (store) -> commands -> plugins ->
// pacer -> platform.
type Runtime struct {
	log      *slog.Logger
	clock    Clock
	store    Store
	platform Platform
	plugins  []Plugin
	byName   map[string]Plugin
	envs     map[string]*Env
	version  string
	sync     bool
	codes    func() string

	cfg    atomic.Pointer[Config]
	router *Router
	pacer  *Pacer
	sched  *Scheduler

	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup

	online    atomic.Bool
	everUp    atomic.Bool
	lastLogin atomic.Pointer[time.Time]
	// selfName is the bot account's nickname as of the last login, for
	// the records of what it sent.
	selfName atomic.Pointer[string]
	started  time.Time

	mu         sync.Mutex
	groups     map[GroupID]GroupRecord
	names      map[GroupID]map[UserID][2]string // nick, card as last stored
	admins     map[GroupID]map[UserID]bool
	friends    []Member
	friendsAt  time.Time
	choices    map[string]choiceList
	lastErr    string
	lastErrAt  time.Time
	events     chan Event
	observers  []func(SendResult)
	eventHooks []func(*Event)
	counters   RuntimeCounters
	alerter    *alerter
	pluginMu   sync.Mutex

	intakeClosed chan struct{}
	intakeOnce   sync.Once
}

// RuntimeCounters are totals for status and metrics.
type RuntimeCounters struct {
	Events       map[EventKind]int64
	Panics       int64
	Commands     int64
	RecordErrors int64
}

// New builds a runtime. Call Start, then Run (or Handle in sync mode).
func New(o Options) (*Runtime, error) {
	if o.Config == nil || o.Store == nil || o.Platform == nil {
		return nil, errors.New("bot: Config, Store and Platform are required")
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	rt := &Runtime{
		log: o.Logger, clock: o.Clock, store: o.Store, platform: o.Platform,
		plugins: o.Plugins, byName: map[string]Plugin{}, envs: map[string]*Env{},
		version: o.Version, sync: o.Sync,
		router: newRouter(),
		groups: map[GroupID]GroupRecord{}, names: map[GroupID]map[UserID][2]string{},
		admins: map[GroupID]map[UserID]bool{}, choices: map[string]choiceList{},
		events:       make(chan Event, 1024),
		intakeClosed: make(chan struct{}),
		counters:     RuntimeCounters{Events: map[EventKind]int64{}},
		alerter:      newAlerter(),
	}
	rt.codes = o.Codes
	if rt.codes == nil {
		rt.codes = randomCode
	}
	rt.cfg.Store(o.Config)
	rt.ctx, rt.cancel = context.WithCancel(context.Background())
	for _, p := range o.Plugins {
		if _, dup := rt.byName[p.Name()]; dup {
			return nil, fmt.Errorf("bot: two plugins named %q", p.Name())
		}
		rt.byName[p.Name()] = p
	}
	rt.pacer = newPacer(o.Config.Pacer, o.Platform, o.Clock, o.Logger.With("component", "pacer"), rt.observeSend)
	rt.sched = newScheduler(rt)
	if u, ok := o.Platform.(RuntimeUser); ok {
		u.UseRuntime(rt)
	}
	return rt, nil
}

// Config returns the current configuration.
func (rt *Runtime) Config() *Config { return rt.cfg.Load() }

// Store returns the store.
func (rt *Runtime) Store() Store { return rt.store }

// Platform returns the platform.
func (rt *Runtime) Platform() Platform { return rt.platform }

// Pacer returns the outbound pacer.
func (rt *Runtime) Pacer() *Pacer { return rt.pacer }

// Clock returns the runtime's clock.
func (rt *Runtime) Clock() Clock { return rt.clock }

// Version returns the bot version.
func (rt *Runtime) Version() string { return rt.version }

// Online reports whether the platform session is up.
func (rt *Runtime) Online() bool { return rt.online.Load() }

// Plugins returns the plugins in order.
func (rt *Runtime) Plugins() []Plugin { return rt.plugins }

func (rt *Runtime) plugin(name string) Plugin { return rt.byName[name] }

func (rt *Runtime) baseCtx() context.Context { return rt.ctx }

// OnSend registers an observer of finished sends (metrics, recording).
func (rt *Runtime) OnSend(f func(SendResult)) {
	rt.mu.Lock()
	rt.observers = append(rt.observers, f)
	rt.mu.Unlock()
}

// OnEvent registers a hook that sees every event before plugins (metrics).
func (rt *Runtime) OnEvent(f func(*Event)) {
	rt.mu.Lock()
	rt.eventHooks = append(rt.eventHooks, f)
	rt.mu.Unlock()
}

// Start initialises plugins, registers their commands, loads admins and
// timers and starts the runtime's own recurring jobs.
func (rt *Runtime) Start(ctx context.Context) error {
	rt.started = rt.clock.Now()
	for _, c := range rt.builtinCommands() {
		c.Plugin = ""
		if err := rt.router.add(c); err != nil {
			return err
		}
	}
	for _, p := range rt.plugins {
		env := newEnv(rt, p.Name())
		rt.envs[p.Name()] = env
		if in, ok := p.(Initializer); ok {
			if err := in.Init(env); err != nil {
				return fmt.Errorf("plugin %s: init: %w", p.Name(), err)
			}
		}
		if v, ok := p.(Validator); ok {
			if err := v.Validate(); err != nil {
				return fmt.Errorf("plugin %s: %w", p.Name(), err)
			}
		}
		if cm, ok := p.(Commander); ok {
			for _, c := range cm.Commands() {
				setPlugin(c, p.Name())
				if err := rt.router.add(c); err != nil {
					return err
				}
			}
		}
	}
	if err := rt.loadAdmins(ctx); err != nil {
		return err
	}
	if err := rt.loadGroups(ctx); err != nil {
		return err
	}
	if err := rt.sched.start(ctx); err != nil {
		return err
	}
	rt.resumeConfirmations(ctx)
	return rt.startHousekeeping()
}

func setPlugin(c *Command, name string) {
	c.Plugin = name
	for _, s := range c.Subcommands {
		setPlugin(s, name)
		if s.Scope == 0 {
			s.Scope = c.Scope
		}
	}
}

func (rt *Runtime) loadGroups(ctx context.Context) error {
	gs, err := rt.store.Groups(ctx)
	if err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	rt.mu.Lock()
	for _, g := range gs {
		rt.groups[g.ID] = g
	}
	rt.mu.Unlock()
	return nil
}

// Run runs the platform, the event loop and the pacer until ctx is done,
// then shuts down gracefully. Not used in sync mode.
func (rt *Runtime) Run(ctx context.Context) error {
	pctx, stopPacer := context.WithCancel(context.Background())
	pacerDone := make(chan struct{})
	go func() { defer close(pacerDone); rt.pacer.Run(pctx) }()

	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for {
			select {
			case ev := <-rt.events:
				rt.Handle(rt.ctx, ev)
			case <-rt.intakeClosed:
				// Handle what the platform had already handed over.
				for {
					select {
					case ev := <-rt.events:
						rt.Handle(rt.ctx, ev)
					default:
						return
					}
				}
			}
		}
	}()

	platCtx, stopPlatform := context.WithCancel(context.Background())
	defer stopPlatform()
	platErr := make(chan error, 1)
	go func() { platErr <- rt.platform.Run(platCtx, rt.enqueue) }()

	var err error
	platformDone := false
	select {
	case <-ctx.Done():
	case err = <-platErr:
		platformDone = true
		if err != nil {
			rt.log.Error("platform stopped", "err", err)
		}
	}
	// Graceful shutdown: stop intake, finish the events already taken in,
	// send the urgent queue while the platform can still send, stop the
	// platform, then cron, plugins and the session (Shutdown).
	rt.intakeOnce.Do(func() { close(rt.intakeClosed) })
	<-loopDone
	stopPacer()
	<-pacerDone
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rt.pacer.FlushUrgent(sctx)
	stopPlatform()
	if !platformDone {
		select {
		case perr := <-platErr:
			if perr != nil {
				rt.log.Warn("platform stopped with an error", "err", perr)
			}
		case <-sctx.Done():
			rt.log.Error("platform did not stop in time")
		}
	}
	if serr := rt.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	return err
}

// enqueue hands a platform event to the event loop; after intake closed
// (shutdown) events are dropped, as they would be if the process had
// already stopped.
func (rt *Runtime) enqueue(ev Event) {
	select {
	case <-rt.intakeClosed:
		return
	default:
	}
	select {
	case rt.events <- ev:
	case <-rt.intakeClosed:
	}
}

// Shutdown stops cron and timers, stops plugins in reverse order, closes
// the online session and waits for the store's queued records. The caller
// closes the store.
func (rt *Runtime) Shutdown(ctx context.Context) error {
	var errs []error
	if err := rt.sched.stop(ctx); err != nil {
		errs = append(errs, err)
	}
	for i := len(rt.plugins) - 1; i >= 0; i-- {
		p := rt.plugins[i]
		if s, ok := p.(Stopper); ok {
			if err := rt.safely(ctx, "stop", p.Name(), func() error { return s.Stop(ctx) }); err != nil {
				errs = append(errs, fmt.Errorf("plugin %s: stop: %w", p.Name(), err))
			}
		}
	}
	rt.cancel()
	done := make(chan struct{})
	go func() { rt.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, errors.New("background work still running at shutdown"))
	}
	if rt.online.Load() {
		if err := rt.store.CloseSession(ctx, rt.clock.Now(), "shutdown"); err != nil {
			errs = append(errs, err)
		}
		rt.online.Store(false)
	}
	if err := rt.store.Sync(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// safely runs f, turning a panic into an error so that nothing one plugin
// does can stop the next event, command or job.
func (rt *Runtime) safely(ctx context.Context, what, plugin string, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			rt.mu.Lock()
			rt.counters.Panics++
			rt.lastErr, rt.lastErrAt = fmt.Sprintf("%s %s panicked: %v", plugin, what, p), rt.clock.Now()
			rt.mu.Unlock()
			rt.log.Error("plugin panicked", "plugin", plugin, "in", what, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("plugin %s panicked in %s: %v", plugin, what, p)
		}
	}()
	return f()
}

// Emit queues an event from outside the platform (tests, demo); in sync
// mode it is handled at once.
func (rt *Runtime) Emit(ev Event) {
	if rt.sync {
		rt.Handle(rt.ctx, ev)
		return
	}
	rt.enqueue(ev)
}

// Handle processes one event: identity bookkeeping, recording, task
// watches, commands, then plugins. A panic anywhere is contained.
func (rt *Runtime) Handle(ctx context.Context, ev Event) {
	rt.serialize(func() { rt.handle(ctx, ev) })
}

// serialize runs f while no other plugin entry point runs. Events, timers,
// cron jobs and reloads reach plugins one at a time, so plugins need no
// locking of their own; background work started with Env.Go runs outside
// and may only use the Env's services. In sync mode everything already
// runs on one goroutine (and may nest), so nothing is locked.
func (rt *Runtime) serialize(f func()) {
	if !rt.sync {
		rt.pluginMu.Lock()
		defer rt.pluginMu.Unlock()
	}
	f()
}

func (rt *Runtime) handle(ctx context.Context, ev Event) {
	log := rt.log.With(eventAttrs(&ev)...)
	defer func() {
		if p := recover(); p != nil {
			rt.mu.Lock()
			rt.counters.Panics++
			rt.mu.Unlock()
			log.Error("event handling panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
		if rt.sync {
			rt.pacer.Drain(ctx)
		}
	}()
	if ev.Time.IsZero() {
		ev.Time = rt.clock.Now()
	}
	rt.mu.Lock()
	rt.counters.Events[ev.Kind]++
	hooks := rt.eventHooks
	rt.mu.Unlock()
	for _, h := range hooks {
		h(&ev)
	}

	switch ev.Kind {
	case EventLogin:
		rt.onLogin(ctx, &ev)
	case EventLogout:
		rt.onLogout(ctx, &ev)
	}

	if ev.Group != "" {
		g := rt.touchGroup(ctx, &ev)
		if !rt.Config().Manages(rt.configName(g)) {
			if ev.Kind == EventBotRemoved || ev.Kind == EventGroupGone {
				rt.applyMembership(ctx, &ev)
			}
			return
		}
		rt.record(ctx, &ev)
		rt.applyMembership(ctx, &ev)
		rt.checkTasks(ctx, &ev)
		if ev.Kind == EventBotAdded {
			// A new (or re-joined) group: learn who is in it now.
			if err := rt.syncMembers(ctx, ev.Group); err != nil {
				log.Warn("members not synced after the bot was added", "err", err)
			}
		}
	}
	if ev.Kind == EventMessage && rt.dispatchCommand(ctx, &ev) {
		rt.mu.Lock()
		rt.counters.Commands++
		rt.mu.Unlock()
		ev.IsCommand = true
	}
	for _, p := range rt.plugins {
		h, ok := p.(EventHandler)
		if !ok {
			continue
		}
		if err := rt.safely(ctx, "event", p.Name(), func() error { return h.HandleEvent(ctx, &ev) }); err != nil {
			log.Error("plugin failed on event", "plugin", p.Name(), "err", err)
		}
	}
}

func (rt *Runtime) onLogin(ctx context.Context, ev *Event) {
	wasUp := rt.everUp.Load()
	rt.online.Store(true)
	rt.everUp.Store(true)
	now := ev.Time
	rt.lastLogin.Store(&now)
	rt.pacer.SetOffline(false)
	if _, err := rt.store.OpenSession(ctx, now); err != nil {
		rt.log.Error("session not recorded", "err", err)
	}
	if self, err := rt.platform.Self(ctx); err == nil && self.Nick != "" {
		rt.selfName.Store(&self.Nick)
	}
	rt.syncGroups(ctx)
	rt.refreshFriends(ctx, true)
	for _, g := range rt.ManagedGroups() {
		if g.Gone || !g.BotPresent {
			continue
		}
		if err := rt.syncMembers(ctx, g.ID); err != nil {
			rt.log.Warn("members not synced at login", "group_id", string(g.ID), "err", err)
		}
	}
	if wasUp {
		rt.Alert(ctx, Alert{Kind: AlertReconnected, Text: rt.text("", rt.Config().Language, "alert.reconnected", map[string]string{"reason": ev.Reason})})
	}
}

func (rt *Runtime) onLogout(ctx context.Context, ev *Event) {
	rt.online.Store(false)
	rt.pacer.SetOffline(true)
	if err := rt.store.CloseSession(ctx, ev.Time, ev.Reason); err != nil {
		rt.log.Error("session end not recorded", "err", err)
	}
	rt.Alert(ctx, Alert{Kind: AlertLogout, Text: rt.text("", rt.Config().Language, "alert.logout", map[string]string{"reason": ev.Reason})})
}

// syncGroups reads the platform's groups at login and records their names.
func (rt *Runtime) syncGroups(ctx context.Context) {
	gs, err := rt.platform.Groups(ctx)
	if err != nil {
		rt.log.Warn("group list not read at login", "err", err)
		return
	}
	for _, gi := range gs {
		ev := Event{Group: gi.ID, GroupName: gi.Name, Time: rt.clock.Now()}
		g := rt.touchGroup(ctx, &ev)
		if gi.MemberCount > 0 && g.MemberCount != gi.MemberCount {
			g.MemberCount = gi.MemberCount
			rt.putGroup(ctx, g)
		}
	}
}

// SyncMembers reconciles the store's members of g with the platform's
// list. Unknown people are added without a join event (the bot cannot tell
// whether they joined while it was away or were there before it first
// looked); people the store has as present but the platform no longer
// lists left while the bot was away, and a left event is handled for them
// so statistics and tasks see it.
func (rt *Runtime) SyncMembers(ctx context.Context, g GroupID) (err error) {
	rt.serialize(func() { err = rt.syncMembers(ctx, g) })
	return err
}

func (rt *Runtime) syncMembers(ctx context.Context, g GroupID) error {
	list, err := rt.platform.Members(ctx, g)
	if err != nil {
		return err
	}
	stored, err := rt.store.Members(ctx, g)
	if err != nil {
		return err
	}
	now := rt.clock.Now()
	byID := make(map[UserID]MemberRecord, len(stored))
	for _, m := range stored {
		byID[m.User] = m
	}
	listed := make(map[UserID]bool, len(list))
	var put []MemberRecord
	for _, m := range list {
		listed[m.ID] = true
		rec, ok := byID[m.ID]
		switch {
		case !ok:
			rec = MemberRecord{Group: g, User: m.ID, Nick: m.Nick, Card: m.Card, Present: true, FirstSeen: now}
		case !rec.Present || rec.Nick != m.Nick || rec.Card != m.Card:
			rec.Present, rec.Nick, rec.Card = true, m.Nick, m.Card
		default:
			continue
		}
		put = append(put, rec)
	}
	if len(put) > 0 {
		if err := rt.store.PutMembers(ctx, put); err != nil {
			return err
		}
	}
	rt.mu.Lock()
	if rt.names[g] == nil {
		rt.names[g] = map[UserID][2]string{}
	}
	for _, m := range list {
		rt.names[g][m.ID] = [2]string{m.Nick, m.Card}
	}
	rt.mu.Unlock()
	if rec, ok := rt.GroupRecord(g); ok && rec.MemberCount != len(list) {
		rec.MemberCount = len(list)
		rt.putGroup(ctx, rec)
	}
	var gone []Member
	for _, m := range stored {
		if m.Present && !listed[m.User] && m.User != SelfID {
			gone = append(gone, Member{ID: m.User, Nick: m.Nick, Card: m.Card})
		}
	}
	if len(gone) > 0 {
		rt.handle(ctx, Event{Kind: EventMemberLeft, Time: now, Group: g, Members: gone, Reason: "not listed at login", Late: true})
	}
	return nil
}

// touchGroup returns the group's record, creating it when new and
// updating its name when the platform reports a different one.
func (rt *Runtime) touchGroup(ctx context.Context, ev *Event) GroupRecord {
	rt.mu.Lock()
	g, ok := rt.groups[ev.Group]
	rt.mu.Unlock()
	now := ev.Time
	changed := false
	if !ok {
		stored, err := rt.store.Group(ctx, ev.Group)
		switch {
		case err == nil:
			g = stored
		case errors.Is(err, ErrNotFound):
			g = GroupRecord{ID: ev.Group, Name: ev.GroupName, FirstSeen: now, LastSeen: now, BotPresent: true}
			changed = true
		default:
			rt.log.Error("group lookup failed", "group_id", string(ev.Group), "err", err)
			g = GroupRecord{ID: ev.Group, Name: ev.GroupName}
		}
	}
	name := ev.GroupName
	if ev.Kind == EventGroupRenamed && ev.NewName != "" {
		name = ev.NewName
		if ev.OldName == "" {
			ev.OldName = g.Name
		}
	}
	if name != "" && name != g.Name {
		if g.Name != "" {
			g.NameHistory = append(g.NameHistory, NameChange{Name: g.Name, Until: now})
		}
		g.Name = name
		changed = true
	}
	if ev.Kind == EventBotAdded && (!g.BotPresent || g.Gone) {
		g.BotPresent, g.Gone, g.GoneAt = true, false, time.Time{}
		changed = true
	}
	if changed {
		rt.putGroup(ctx, g)
	} else if !ok {
		rt.mu.Lock()
		rt.groups[g.ID] = g
		rt.mu.Unlock()
	}
	if ev.GroupName == "" || ev.Kind == EventGroupRenamed {
		ev.GroupName = g.Name
	}
	return g
}

func (rt *Runtime) putGroup(ctx context.Context, g GroupRecord) {
	rt.mu.Lock()
	rt.groups[g.ID] = g
	rt.mu.Unlock()
	if err := rt.store.PutGroup(ctx, g); err != nil {
		rt.log.Error("group not stored", "group_id", string(g.ID), "err", err)
	}
}

// GroupRecord returns the cached record of g.
func (rt *Runtime) GroupRecord(g GroupID) (GroupRecord, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	r, ok := rt.groups[g]
	return r, ok
}

// isManaged reports whether g is a managed group.
func (rt *Runtime) isManaged(ctx context.Context, g GroupID) bool {
	r, ok := rt.GroupRecord(g)
	return ok && rt.Config().Manages(rt.configName(r))
}

// configName is the name the config's group entries know g by: its
// current name, or, when no entry matches that, the latest earlier name
// one does. A managed group that is renamed (by a person, or by the
// countdown's 【已解散】 prefix at freeze) keeps its entry, its settings and
// its management, since it is the same group under its durable id.
func (rt *Runtime) configName(g GroupRecord) string {
	cfg := rt.Config()
	if len(g.NameHistory) == 0 || cfg.EntryFor(g.Name) >= 0 {
		return g.Name
	}
	for i := len(g.NameHistory) - 1; i >= 0; i-- {
		if n := g.NameHistory[i].Name; cfg.EntryFor(n) >= 0 {
			return n
		}
	}
	return g.Name
}

// ManagedGroups returns the managed groups the bot knows, by name.
func (rt *Runtime) ManagedGroups() []GroupRecord {
	cfg := rt.Config()
	rt.mu.Lock()
	var out []GroupRecord
	for _, g := range rt.groups {
		if cfg.Manages(rt.configName(g)) {
			out = append(out, g)
		}
	}
	rt.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (rt *Runtime) langFor(g GroupID) Lang {
	name := ""
	if g != "" {
		if r, ok := rt.GroupRecord(g); ok {
			name = rt.configName(r)
		}
	}
	return rt.Config().LangFor(name)
}

// record appends the event to the group's timeline.
func (rt *Runtime) record(ctx context.Context, ev *Event) {
	base := Record{Group: ev.Group, Time: ev.Time, Kind: ev.Kind, Sender: ev.Sender, SenderName: ev.SenderName, FromBot: ev.FromSelf}
	var recs []Record
	switch ev.Kind {
	case EventMessage:
		if m := ev.Message; m != nil {
			base.MsgID, base.MsgType, base.Text, base.FileName, base.Size, base.MediaPath = m.ID, m.Type, m.Text, m.FileName, m.Size, m.MediaPath
		}
		recs = append(recs, base)
		rt.noteName(ctx, ev.Group, Member{ID: ev.Sender, Nick: ev.SenderName}, false)
	case EventMemberJoined, EventMemberLeft:
		for _, m := range ev.Members {
			r := base
			r.Sender, r.SenderName = m.ID, m.DisplayName()
			if ev.Inviter != "" {
				r.Text = ev.InviterName
			}
			recs = append(recs, r)
		}
	case EventGroupRenamed:
		base.Text = ev.NewName
		recs = append(recs, base)
	case EventBotAdded, EventBotRemoved, EventGroupGone:
		base.Text = ev.Reason
		recs = append(recs, base)
	}
	for _, r := range recs {
		rt.appendRecord(ctx, r)
	}
}

// appendRecord queues r with the store's group-commit writer. In sync mode
// it forces the commit at once (Sync flushes the batch) so tests see the
// record durable without waiting for the batch delay.
func (rt *Runtime) appendRecord(ctx context.Context, r Record) {
	ch := rt.store.AppendRecord(r)
	if rt.sync {
		if err := rt.store.Sync(ctx); err != nil {
			rt.recordFailed(err)
		}
		if err := <-ch; err != nil {
			rt.recordFailed(err)
		}
		return
	}
	go func() {
		if err := <-ch; err != nil {
			rt.recordFailed(err)
		}
	}()
}

func (rt *Runtime) recordFailed(err error) {
	rt.mu.Lock()
	rt.counters.RecordErrors++
	rt.lastErr, rt.lastErrAt = "record: "+err.Error(), rt.clock.Now()
	rt.mu.Unlock()
	rt.log.Error("record not stored", "err", err)
}

// noteName keeps the member record's names current; the store's writer
// maintains activity counters, so only name changes are written here.
func (rt *Runtime) noteName(ctx context.Context, g GroupID, m Member, joined bool) {
	if m.ID == "" || m.ID == SelfID {
		return
	}
	rt.mu.Lock()
	known, ok := rt.names[g][m.ID]
	rt.mu.Unlock()
	nick, card := m.Nick, m.Card
	if ok && !joined && (nick == "" || nick == known[0]) && (card == "" || card == known[1]) {
		return
	}
	rec, err := rt.store.Member(ctx, g, m.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		rt.log.Error("member lookup failed", "group_id", string(g), "user_id", string(m.ID), "err", err)
		return
	}
	now := rt.clock.Now()
	if errors.Is(err, ErrNotFound) {
		rec = MemberRecord{Group: g, User: m.ID, FirstSeen: now, Present: true}
	}
	if nick != "" {
		rec.Nick = nick
	}
	if card != "" {
		rec.Card = card
	}
	if joined {
		rec.Present, rec.JoinedAt, rec.LeftAt = true, now, time.Time{}
	}
	if err := rt.store.PutMembers(ctx, []MemberRecord{rec}); err != nil {
		rt.log.Error("member not stored", "group_id", string(g), "err", err)
		return
	}
	rt.mu.Lock()
	if rt.names[g] == nil {
		rt.names[g] = map[UserID][2]string{}
	}
	rt.names[g][m.ID] = [2]string{rec.Nick, rec.Card}
	rt.mu.Unlock()
}

// applyMembership updates member and group records for joins, leaves and
// the bot's own removal.
func (rt *Runtime) applyMembership(ctx context.Context, ev *Event) {
	now := ev.Time
	switch ev.Kind {
	case EventMemberJoined:
		for _, m := range ev.Members {
			rt.noteName(ctx, ev.Group, m, true)
		}
		rt.adjustCount(ctx, ev.Group, len(ev.Members))
	case EventMemberLeft:
		var recs []MemberRecord
		for _, m := range ev.Members {
			rec, err := rt.store.Member(ctx, ev.Group, m.ID)
			if errors.Is(err, ErrNotFound) {
				rec = MemberRecord{Group: ev.Group, User: m.ID, Nick: m.Nick, Card: m.Card, FirstSeen: now}
			} else if err != nil {
				rt.log.Error("member lookup failed", "err", err)
				continue
			}
			rec.Present, rec.LeftAt = false, now
			recs = append(recs, rec)
		}
		if err := rt.store.PutMembers(ctx, recs); err != nil {
			rt.log.Error("leave not stored", "group_id", string(ev.Group), "err", err)
		}
		rt.adjustCount(ctx, ev.Group, -len(ev.Members))
	case EventBotRemoved, EventGroupGone:
		g, _ := rt.GroupRecord(ev.Group)
		g.BotPresent = false
		if ev.Kind == EventGroupGone {
			g.Gone, g.GoneAt = true, now
		}
		rt.putGroup(ctx, g)
	}
}

func (rt *Runtime) adjustCount(ctx context.Context, g GroupID, delta int) {
	rec, ok := rt.GroupRecord(g)
	if !ok {
		return
	}
	rec.MemberCount += delta
	if rec.MemberCount < 0 {
		rec.MemberCount = 0
	}
	rt.putGroup(ctx, rec)
}

// observeSend records the bot's own group messages and tells observers.
func (rt *Runtime) observeSend(r SendResult) {
	if r.Err == nil && r.To.Group != "" {
		rec := Record{Group: r.To.Group, Time: r.At, Kind: EventMessage, Sender: SelfID, FromBot: true, MsgType: MsgText, Text: r.Text}
		if n := rt.selfName.Load(); n != nil {
			rec.SenderName = *n
		}
		if r.File != nil {
			rec.MsgType, rec.FileName, rec.Text = MsgFile, baseName(r.File.Path), ""
			if r.File.Image {
				rec.MsgType = MsgImage
			}
		}
		if rt.isManaged(rt.ctx, r.To.Group) {
			rt.appendRecord(rt.ctx, rec)
		}
	}
	rt.mu.Lock()
	obs := rt.observers
	rt.mu.Unlock()
	for _, f := range obs {
		f(r)
	}
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// Send queues text for a group or a person through the pacer.
func (rt *Runtime) Send(ctx context.Context, to Target, text string, prio Priority) {
	rt.pacer.Enqueue(to, text, nil, prio, nil)
}

// SendFile queues a file; done (optional) gets the final result.
func (rt *Runtime) SendFile(ctx context.Context, to Target, f File, prio Priority, done func(error)) {
	rt.pacer.Enqueue(to, "", &f, prio, done)
}

// text renders key from the plugin's catalog (or the runtime's when plugin
// is ""), with config overrides applied.
func (rt *Runtime) text(plugin string, lang Lang, key string, vars map[string]string) string {
	if t, ok := rt.Config().Texts[key]; ok {
		return Render(t.In(lang), vars)
	}
	if plugin != "" {
		if tx, ok := rt.byName[plugin].(Texter); ok {
			if t, ok := tx.Texts()[key]; ok {
				return Render(t.In(lang), vars)
			}
		}
	}
	if t, ok := runtimeTexts[key]; ok {
		return Render(t.In(lang), vars)
	}
	// Look through all plugins: runtime helpers render plugin keys too.
	for _, p := range rt.plugins {
		if tx, ok := p.(Texter); ok {
			if t, ok := tx.Texts()[key]; ok {
				return Render(t.In(lang), vars)
			}
		}
	}
	rt.log.Warn("missing text", "key", key)
	return key
}

// Text renders a user-visible text by key in lang.
func (rt *Runtime) Text(lang Lang, key string, vars map[string]string) string {
	return rt.text("", lang, key, vars)
}

// Reload swaps in a new, already validated config and lets plugins
// rebuild. The config is only swapped when every plugin accepts it.
func (rt *Runtime) Reload(ctx context.Context, cfg *Config, by string) (err error) {
	rt.serialize(func() { err = rt.reload(ctx, cfg, by) })
	return err
}

func (rt *Runtime) reload(ctx context.Context, cfg *Config, by string) error {
	old := rt.cfg.Swap(cfg)
	rt.pacer.setConfig(cfg.Pacer)
	for _, p := range rt.plugins {
		if r, ok := p.(Reloader); ok {
			if err := rt.safely(ctx, "reload", p.Name(), func() error { return r.Reload(ctx) }); err != nil {
				rt.cfg.Store(old)
				rt.pacer.setConfig(old.Pacer)
				for _, q := range rt.plugins {
					if r2, ok := q.(Reloader); ok && q != p {
						_ = rt.safely(ctx, "reload", q.Name(), func() error { return r2.Reload(ctx) })
					}
				}
				return fmt.Errorf("plugin %s refused the new config: %w", p.Name(), err)
			}
		}
	}
	_, err := rt.Audit(ctx, AuditEntry{Actor: by, Action: "config.reload", Detail: "configuration reloaded from " + cfg.Path, Data: map[string]string{"sha256": sha256Hex(cfg.Raw)}})
	return err
}

// Audit appends an entry to the hash-chained audit log.
func (rt *Runtime) Audit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.Time.IsZero() {
		e.Time = rt.clock.Now()
	}
	if e.Actor == "" {
		e.Actor = "system"
	}
	if e.Group != "" && e.GroupName == "" {
		if g, ok := rt.GroupRecord(e.Group); ok {
			e.GroupName = g.Name
		}
	}
	out, err := rt.store.AppendAudit(ctx, e)
	if err != nil {
		rt.log.Error("audit entry not stored", "action", e.Action, "err", err)
	}
	return out, err
}

// Go runs fn in the background with panic isolation (inline in sync mode);
// shutdown waits for it.
func (rt *Runtime) Go(name string, fn func(ctx context.Context)) {
	run := func() {
		defer func() {
			if p := recover(); p != nil {
				rt.log.Error("background work panicked", "work", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		fn(rt.ctx)
	}
	if rt.sync {
		run()
		return
	}
	rt.bg.Add(1)
	go func() { defer rt.bg.Done(); run() }()
}

// ActorName formats a person for audit entries: "u_xxx (name)".
func ActorName(u UserID, name string) string {
	if name == "" {
		return string(u)
	}
	return fmt.Sprintf("%s (%s)", u, name)
}

// DisplayActor shows an actor recorded by ActorName ("u_0002 (李助教)")
// the way chat texts show people: the name first, the id beside it
// ("李助教（u_0002）"). Other actors (an id, "owner", "plugin:x") are
// returned as they are.
func DisplayActor(actor string) string {
	id, rest, ok := strings.Cut(actor, " (")
	if !ok || !strings.HasSuffix(rest, ")") || strings.ContainsAny(id, " （") {
		return actor
	}
	return strings.TrimSuffix(rest, ")") + "（" + id + "）"
}

// Counters returns a copy of the runtime counters.
func (rt *Runtime) Counters() RuntimeCounters {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	c := rt.counters
	c.Events = map[EventKind]int64{}
	for k, v := range rt.counters.Events {
		c.Events[k] = v
	}
	return c
}

// LastError returns the most recent internal error and when it happened.
func (rt *Runtime) LastError() (string, time.Time) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if s := rt.pacer.Stats(); s.LastErrAt.After(rt.lastErrAt) {
		return "send: " + s.LastErr, s.LastErrAt
	}
	return rt.lastErr, rt.lastErrAt
}

// Abandon drops the runtime without any shutdown work, as if the process
// had been killed: timers and cron jobs stop, plugins are not stopped, the
// online session is left open (the next start closes it as a crash).
func (rt *Runtime) Abandon() {
	_ = rt.sched.stop(context.Background())
	rt.cancel()
}
