package countdown

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export"
)

// State is where a group is in its lifecycle. A group with no lifecycle,
// or whose last one was canceled or restored, is active.
type State string

// The lifecycle states, in the order a group passes through them.
const (
	// StateConfirming: a trigger asked for a countdown and an operator has
	// not yet confirmed it with the one-time code. Nothing is announced.
	StateConfirming State = "confirming"
	// StateCounting: counting down; reminders go out at their offsets.
	StateCounting State = "counting"
	// StateFrozen: the deadline came; final notice, name prefix, no more
	// moderation or welcome (recording goes on). A postponed dissolve
	// waits here for its new deadline.
	StateFrozen State = "frozen"
	// StateExporting: the archive is being written and verified.
	StateExporting State = "exporting"
	// StateDissolving: the export is verified and readiness passed; the
	// bot is dissolving through the platform.
	StateDissolving State = "dissolving"
	// StateAwaiting: an operator must dissolve on the phone (an operator
	// task); the bot watches for the outcome.
	StateAwaiting State = "awaiting_operator"
	// StateDissolved: the bot observed the group gone (or itself removed).
	StateDissolved State = "dissolved"
	// StateHalted: something failed that a person must look at (a failed
	// export, an expired task); nothing destructive happens.
	StateHalted State = "halted"
	// StateCanceled and StateRestored end a lifecycle; the group is active.
	StateCanceled State = "canceled"
	StateRestored State = "restored"
)

// terminal reports whether s ends a lifecycle for good (a new countdown
// may start).
func (s State) terminal() bool {
	return s == StateCanceled || s == StateRestored || s == StateDissolved
}

// Lifecycle is one countdown of one group, kept in the plugin's KV under
// "lc/<group id>". Every step is written here before it is taken.
type Lifecycle struct {
	ID    string      `json:"id"`
	Group bot.GroupID `json:"group"`
	// Name is the group's name when the countdown was asked for; restore
	// recreates the group under it.
	Name  string `json:"name"`
	State State  `json:"state"`
	// Trigger is "command", "dissolve" (/dissolve: now), or
	// "rule:after_first_seen", "rule:at", "rule:inactive".
	Trigger string `json:"trigger"`
	// RuleKey names the rule and deadline of a rule's countdown, so the
	// rule does not ask again for a deadline a person canceled.
	RuleKey string `json:"rule_key,omitempty"`
	Silent  bool   `json:"silent,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// By is who asked (an actor as in the audit log); Asker and AskerDM
	// are where to answer them.
	By      string     `json:"by"`
	Asker   bot.UserID `json:"asker,omitempty"`
	Created time.Time  `json:"created"`
	// Length is the countdown's length for relative triggers, counted from
	// the confirmation; rules set Deadline directly.
	Length   time.Duration `json:"length,omitempty"`
	Deadline time.Time     `json:"deadline,omitzero"`

	ConfirmExpires time.Time  `json:"confirm_expires,omitzero"`
	ConfirmedBy    string     `json:"confirmed_by,omitempty"`
	Confirmer      bot.UserID `json:"confirmer,omitempty"`
	ConfirmedAt    time.Time  `json:"confirmed_at,omitzero"`

	Reminders []Reminder `json:"reminders,omitempty"`
	// Sent marks every message the lifecycle sends, by key, with the time
	// the mark was written (before the message was queued), so that a
	// restart never sends one twice.
	Sent map[string]time.Time `json:"sent,omitempty"`

	// Attempt counts export attempts (postponed or retried dissolves).
	Attempt   int             `json:"attempt"`
	Job       string          `json:"job,omitempty"`
	Export    *export.Outcome `json:"export,omitempty"`
	Score     *Score          `json:"score,omitempty"`
	Postponed int             `json:"postponed,omitempty"`
	// Members are the people present at the freeze; restore invites back
	// the ones who are the bot's friends.
	Members []bot.UserID `json:"members,omitempty"`

	// Waiting marks a frozen lifecycle postponed to Deadline.
	Waiting bool `json:"waiting,omitempty"`
	// Hold stops the lifecycle before its next step until an operator
	// re-confirms: set when a step's time passed while the bot was down.
	Hold bool `json:"hold,omitempty"`

	Method          string    `json:"method,omitempty"` // dissolver, kicker, task
	DissolveStarted time.Time `json:"dissolve_started,omitzero"`
	Calls           int       `json:"calls,omitempty"`
	Task            string    `json:"task,omitempty"`
	Dissolved       time.Time `json:"dissolved,omitzero"`
	Observed        string    `json:"observed,omitempty"`

	Halt  string `json:"halt,omitempty"`
	Halts int    `json:"halts,omitempty"`
	// Extends counts /countdown extend; ResumedAt is the last time an
	// operator confirmed going on after a step came due while down.
	Extends   int       `json:"extends,omitempty"`
	ResumedAt time.Time `json:"resumed_at,omitzero"`
	// Early is set when the group was observed gone before the lifecycle
	// dissolved it; what was recorded is still exported.
	Early    bool         `json:"early,omitempty"`
	Canceled string       `json:"canceled,omitempty"`
	Restore  *RestoreInfo `json:"restore,omitempty"`
	Updated  time.Time    `json:"updated"`
}

// Reminder is one reminder before the deadline.
type Reminder struct {
	Offset time.Duration `json:"offset"`
	Due    time.Time     `json:"due"`
	Sent   time.Time     `json:"sent,omitzero"`
	// Collapsed marks a reminder missed while the bot was down and folded
	// into a later one.
	Collapsed bool `json:"collapsed,omitempty"`
}

// RestoreInfo records a restore: the new group and who came back.
type RestoreInfo struct {
	By       string       `json:"by"`
	Started  time.Time    `json:"started"`
	NewGroup bot.GroupID  `json:"new_group,omitempty"`
	Invited  []bot.UserID `json:"invited,omitempty"`
	Joined   []bot.UserID `json:"joined,omitempty"`
	Missing  []bot.UserID `json:"missing,omitempty"`
	Done     time.Time    `json:"done,omitzero"`
}

func lcKey(g bot.GroupID) string { return "lc/" + string(g) }

// load returns g's lifecycle, nil when it never had one.
func (p *Plugin) load(ctx context.Context, g bot.GroupID) (*Lifecycle, error) {
	b, err := p.env.KV.Get(ctx, lcKey(g))
	if errors.Is(err, bot.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lc Lifecycle
	if err := json.Unmarshal(b, &lc); err != nil {
		return nil, fmt.Errorf("lifecycle of %s: %w", g, err)
	}
	return &lc, nil
}

// all returns every lifecycle, by group id.
func (p *Plugin) all(ctx context.Context) ([]*Lifecycle, error) {
	var out []*Lifecycle
	err := p.env.KV.Scan(ctx, "lc/", func(key string, val []byte) error {
		var lc Lifecycle
		if err := json.Unmarshal(val, &lc); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		out = append(out, &lc)
		return nil
	})
	return out, err
}

// errStale aborts an update whose lifecycle changed underneath.
var errStale = errors.New("lifecycle changed")

// update applies fn to g's lifecycle id in one store transaction. It
// reports false (and changes nothing) when the lifecycle is no longer id
// or fn returns errStale.
func (p *Plugin) update(ctx context.Context, g bot.GroupID, id string, fn func(lc *Lifecycle) error) (*Lifecycle, bool, error) {
	var out *Lifecycle
	stale := false
	err := p.env.KV.Update(ctx, lcKey(g), func(old []byte) ([]byte, error) {
		if old == nil {
			stale = true
			return nil, nil
		}
		var lc Lifecycle
		if err := json.Unmarshal(old, &lc); err != nil {
			return nil, err
		}
		if lc.ID != id {
			stale = true
			return old, nil
		}
		if err := fn(&lc); errors.Is(err, errStale) {
			stale = true
			return old, nil
		} else if err != nil {
			return nil, err
		}
		lc.Updated = p.env.Now()
		out = &lc
		return json.Marshal(&lc)
	})
	if err != nil {
		return nil, false, err
	}
	return out, !stale, nil
}

// transit moves g's lifecycle id from one of the states from to to,
// applying fn as well, in one transaction.
func (p *Plugin) transit(ctx context.Context, g bot.GroupID, id string, from []State, to State, fn func(lc *Lifecycle)) (*Lifecycle, bool, error) {
	return p.update(ctx, g, id, func(lc *Lifecycle) error {
		if !slices.Contains(from, lc.State) {
			return errStale
		}
		lc.State = to
		if fn != nil {
			fn(lc)
		}
		return nil
	})
}

// mark writes the sent mark key if it is not set yet and reports whether
// this call wrote it: the caller then sends, exactly once.
func (p *Plugin) mark(ctx context.Context, g bot.GroupID, id, key string) (bool, error) {
	_, ok, err := p.update(ctx, g, id, func(lc *Lifecycle) error {
		if _, done := lc.Sent[key]; done {
			return errStale
		}
		if lc.Sent == nil {
			lc.Sent = map[string]time.Time{}
		}
		lc.Sent[key] = p.env.Now()
		return nil
	})
	return ok, err
}

// create stores a new lifecycle for lc.Group, replacing a terminal one;
// it fails when a live one exists.
func (p *Plugin) create(ctx context.Context, lc *Lifecycle) error {
	var n int
	if err := p.env.KV.Update(ctx, "seq", func(old []byte) ([]byte, error) {
		if old != nil {
			n, _ = strconv.Atoi(string(old))
		}
		n++
		return []byte(strconv.Itoa(n)), nil
	}); err != nil {
		return err
	}
	lc.ID = "c" + strconv.Itoa(n)
	lc.Created, lc.Updated = p.env.Now(), p.env.Now()
	busy := false
	err := p.env.KV.Update(ctx, lcKey(lc.Group), func(old []byte) ([]byte, error) {
		if old != nil {
			var prev Lifecycle
			if err := json.Unmarshal(old, &prev); err == nil && !prev.State.terminal() {
				busy = true
				return old, nil
			}
		}
		return json.Marshal(lc)
	})
	if err != nil {
		return err
	}
	if busy {
		return errBusy
	}
	return nil
}

var errBusy = errors.New("the group already has a countdown")
