// Package failpoint marks the points at which crash tests stop the bot.
// A point is a name such as "countdown.after_export". When the
// environment variable QUNGUAN_FAILPOINT names it, Inject kills the
// process with SIGKILL right there, as a power cut or an OOM kill would:
// no deferred function, no shutdown, no flush. The crash tests re-execute
// their own binary as the bot with the variable set, then start it again
// on the same data directory and check that the lifecycle resumes.
//
// In-process tests use Set instead, to run a function at a point (tamper
// with an archive between two steps, say). With neither, Inject costs one
// atomic load.
package failpoint

import (
	"os"
	"sync"
	"sync/atomic"
)

// EnvVar names the point at which the process kills itself.
const EnvVar = "QUNGUAN_FAILPOINT"

var (
	target = os.Getenv(EnvVar)
	active atomic.Bool

	mu         sync.Mutex
	hooks      = map[string]func(){}
	beforeKill func()
	hits       = map[string]int{}
)

func init() { active.Store(target != "") }

// Inject is a named point in the code. It kills the process when
// QUNGUAN_FAILPOINT names it, and runs the function Set for it, if any.
func Inject(name string) {
	if !active.Load() {
		return
	}
	mu.Lock()
	hits[name]++
	h := hooks[name]
	bk := beforeKill
	mu.Unlock()
	if h != nil {
		h()
	}
	if name == target {
		if bk != nil {
			bk()
		}
		kill()
	}
}

// Set runs fn whenever the point name is reached, until the returned
// function is called. For in-process tests.
func Set(name string, fn func()) (unset func()) {
	mu.Lock()
	hooks[name] = fn
	active.Store(true)
	mu.Unlock()
	return func() {
		mu.Lock()
		delete(hooks, name)
		active.Store(target != "" || len(hooks) > 0)
		mu.Unlock()
	}
}

// BeforeKill sets a function run just before the process kills itself:
// the crash tests' child delivers the messages the bot has queued, as a
// real process would have sent them by then.
func BeforeKill(fn func()) {
	mu.Lock()
	beforeKill = fn
	mu.Unlock()
}

// Hits reports how often each point was reached since the process started
// (only counted while a point is set or targeted).
func Hits(name string) int {
	mu.Lock()
	defer mu.Unlock()
	return hits[name]
}

// Target is the point named by QUNGUAN_FAILPOINT, "" if none.
func Target() string { return target }
