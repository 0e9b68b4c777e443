package bot

import (
	"context"
	"log/slog"
	"time"
)

// Env is what a plugin gets from the runtime: its logger, the clock, the
// scheduler, its own namespaced KV, read access to the store, the
// platform's capabilities, and the runtime services (sending through the
// pacer, audit, operator tasks, confirmations, alerts).
type Env struct {
	Name  string
	Log   *slog.Logger
	Clock Clock
	Store StoreReader
	KV    KV

	rt *Runtime
}

func newEnv(rt *Runtime, name string) *Env {
	return &Env{Name: name, Log: rt.log.With("plugin", name), Clock: rt.clock, Store: rt.store, KV: rt.store.KV(name), rt: rt}
}

// Runtime is the escape hatch for plugins that present the runtime itself
// (the operator console).
func (e *Env) Runtime() *Runtime { return e.rt }

// Config returns the plugin's effective config for group g (the global
// section when g is zero or unmatched). Use ConfigFor for a typed result.
func (e *Env) Config(g GroupID) any {
	name := ""
	if g != "" {
		if r, ok := e.rt.GroupRecord(g); ok {
			name = e.rt.configName(r)
		}
	}
	return e.rt.Config().PluginConfig(e.Name, name)
}

// ConfigFor returns the plugin's typed config for group g.
func ConfigFor[T any](e *Env, g GroupID) *T {
	v, _ := e.Config(g).(*T)
	if v == nil {
		var zero T
		return &zero
	}
	return v
}

// Global returns the runtime-wide config.
func (e *Env) Global() *Config { return e.rt.Config() }

// Lang returns the reply language for group g (the default when zero).
func (e *Env) Lang(g GroupID) Lang { return e.rt.langFor(g) }

// T renders one of the plugin's texts in lang.
func (e *Env) T(lang Lang, key string, vars map[string]string) string {
	return e.rt.text(e.Name, lang, key, vars)
}

// Send queues text through the pacer.
func (e *Env) Send(ctx context.Context, to Target, text string, prio Priority) {
	e.rt.Send(ctx, to, text, prio)
}

// SendThen queues text like Send; done gets the final result (nil once
// the platform took it). A plugin that must not act before its notice is
// out (the countdown before dissolving a group) waits for it.
func (e *Env) SendThen(ctx context.Context, to Target, text string, prio Priority, done func(error)) {
	e.rt.pacer.Enqueue(to, text, nil, prio, done)
}

// SendFile queues a file through the pacer; done gets the final result.
func (e *Env) SendFile(ctx context.Context, to Target, f File, prio Priority, done func(error)) {
	e.rt.SendFile(ctx, to, f, prio, done)
}

// NotifyOperators DMs every reachable operator (or the owner's File
// Transfer chat when none is configured).
func (e *Env) NotifyOperators(ctx context.Context, text string, prio Priority) {
	e.rt.NotifyOperators(ctx, text, prio)
}

// Alert raises an operator alert (DM, and the webhook when offline).
func (e *Env) Alert(ctx context.Context, a Alert) { e.rt.Alert(ctx, a) }

// Audit appends to the audit log; Actor defaults to "plugin:<name>".
func (e *Env) Audit(ctx context.Context, a AuditEntry) (AuditEntry, error) {
	if a.Actor == "" {
		a.Actor = "plugin:" + e.Name
	}
	return e.rt.Audit(ctx, a)
}

// At persists and arms a one-shot timer owned by this plugin; the plugin
// must implement TimerHandler.
func (e *Env) At(ctx context.Context, spec TimerSpec) (string, error) {
	return e.rt.sched.at(ctx, e.Name, spec)
}

// CancelTimer removes a timer.
func (e *Env) CancelTimer(ctx context.Context, id string) error { return e.rt.sched.cancel(ctx, id) }

// Timers lists this plugin's armed and held timers.
func (e *Env) Timers() []TimerRecord { return e.rt.sched.pending(e.Name) }

// Cron registers (or replaces) a recurring job in the configured zone.
func (e *Env) Cron(name, spec string, fn func(ctx context.Context)) error {
	return e.rt.sched.addCron(e.Name, e.Name+"/"+name, spec, fn)
}

// RemoveCron removes a recurring job.
func (e *Env) RemoveCron(name string) { e.rt.sched.removeCron(e.Name + "/" + name) }

// CreateTask records an operator task owned by this plugin and tells the operators.
func (e *Env) CreateTask(ctx context.Context, t Task) (Task, error) {
	t.Owner = e.Name
	return e.rt.CreateTask(ctx, t)
}

// UpdateTask stores a changed task (e.g. canceled by its owner).
func (e *Env) UpdateTask(ctx context.Context, t Task) error { return e.rt.UpdateTask(ctx, t) }

// RequestConfirmation sends a one-time code to the operators; the plugin's
// Confirmed method runs when one of them replies /confirm CODE.
func (e *Env) RequestConfirmation(ctx context.Context, r ConfirmRequest) (Confirmation, error) {
	r.Owner = e.Name
	return e.rt.RequestConfirmation(ctx, r)
}

// Platform returns the platform, for capability checks by type assertion.
func (e *Env) Platform() Platform { return e.rt.platform }

// Caps lists the platform's capabilities.
func (e *Env) Caps() Capabilities { return CapabilitiesOf(e.rt.platform) }

// Online reports whether the platform session is up.
func (e *Env) Online() bool { return e.rt.Online() }

// Go runs fn in the background with panic isolation (inline in sync mode).
func (e *Env) Go(name string, fn func(ctx context.Context)) { e.rt.Go(e.Name+"/"+name, fn) }

// Role returns u's role in group g.
func (e *Env) Role(ctx context.Context, g GroupID, u UserID) Role { return e.rt.RoleOf(ctx, g, u) }

// Managed reports whether g is managed.
func (e *Env) Managed(g GroupID) bool { return e.rt.isManaged(context.Background(), g) }

// ManagedGroups lists the managed groups.
func (e *Env) ManagedGroups() []GroupRecord { return e.rt.ManagedGroups() }

// Group returns the cached record of g.
func (e *Env) Group(g GroupID) (GroupRecord, bool) { return e.rt.GroupRecord(g) }

// SetFrozen freezes (or unfreezes) a group: recorded but not moderated or welcomed.
func (e *Env) SetFrozen(ctx context.Context, g GroupID, on bool) error {
	return e.rt.SetFrozen(ctx, g, on, "plugin:"+e.Name)
}

// ResolveMember finds a present member of g by id, group card or nickname.
// On no match or several, it returns the reply to send instead.
func (e *Env) ResolveMember(ctx context.Context, g GroupID, query string, asker UserID, lang Lang) (MemberRecord, string) {
	return e.rt.ResolveMember(ctx, g, query, asker, lang)
}

// ResolveFormerMember is ResolveMember that falls back to people who have
// left g when no present member matches (for reviewing their record).
func (e *Env) ResolveFormerMember(ctx context.Context, g GroupID, query string, asker UserID, lang Lang) (MemberRecord, string) {
	return e.rt.ResolveFormerMember(ctx, g, query, asker, lang)
}

// SyncRecords waits until every message recorded so far is durable, so
// that a read of the store that follows (an export) includes them.
func (e *Env) SyncRecords(ctx context.Context) error { return e.rt.store.Sync(ctx) }

// Now returns the clock's time.
func (e *Env) Now() time.Time { return e.rt.clock.Now() }
