package bot

import "context"

// Plugin is a value with a name. Everything else is opt-in through the
// interfaces below, checked by type assertion (as caddy does with modules):
// Initializer, Configurable (config section; its config struct may
// implement Validator), Validator (checked after Init), Commander,
// EventHandler, TimerHandler, Confirmer, TaskWatcher, Reloader,
// StatusReporter, Texter and Stopper. plugins/all.go is the one explicit list.
type Plugin interface {
	Name() string
}

// Initializer plugins receive their Env once, before any event.
type Initializer interface {
	Init(env *Env) error
}

// Commander plugins contribute commands to the router.
type Commander interface {
	Commands() []*Command
}

// EventHandler plugins see every event of managed groups and every DM, in
// plugin order, after the event is recorded and commands are dispatched.
type EventHandler interface {
	HandleEvent(ctx context.Context, ev *Event) error
}

// Stopper plugins release resources at shutdown (in reverse plugin order).
type Stopper interface {
	Stop(ctx context.Context) error
}

// Reloader plugins rebuild derived state (compiled word lists, cron jobs)
// after a new config was validated and swapped in.
type Reloader interface {
	Reload(ctx context.Context) error
}

// Texter plugins declare their user-visible texts, Chinese first, so
// operators can override them under texts: in config.
type Texter interface {
	Texts() Catalog
}

// Confirmer plugins carry out actions an operator confirmed with a code.
type Confirmer interface {
	Confirmed(ctx context.Context, c Confirmation, by *Call) error
}

// ConfirmChecker is a Confirmer that can tell when a request it issued no
// longer applies (it was canceled, or overtaken by events). A stale code
// is refused with that explanation instead of "confirmed", and is not
// listed among the pending confirmations.
type ConfirmChecker interface {
	ConfirmationStale(ctx context.Context, c Confirmation) bool
}

// TaskWatcher plugins hear when one of their operator tasks was verified
// by an observed event (or expired).
type TaskWatcher interface {
	TaskClosed(ctx context.Context, t Task) error
}

// StatusReporter plugins contribute a line about a group to the operator
// console (/groups, /group NAME): health, countdown state and so on.
type StatusReporter interface {
	GroupStatus(ctx context.Context, g GroupID, lang Lang) string
}
