// Package bottest is the test harness: a simbot.Bot (the runtime on the
// sim platform with a temp store and a fake clock, all synchronous) tied
// to a test, and the golden scenario runner (scripts of chat events in,
// the bot's actions out, -update to rewrite the expectations).
package bottest

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/qunguan/qunguan/bot/simbot"
)

// Options are simbot's options.
type Options = simbot.Options

// Harness is a simbot.Bot that fails its test on errors.
type Harness struct {
	*simbot.Bot
	T testing.TB
}

// New starts a bot in a temp dir; it is stopped at the end of the test.
func New(t testing.TB, o Options) *Harness {
	t.Helper()
	if o.Logger == nil {
		o.Logger = Logger()
	}
	b, err := simbot.New(t.TempDir(), o)
	if err != nil {
		t.Fatalf("start bot: %v", err)
	}
	h := &Harness{Bot: b, T: t}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("stop bot: %v", err)
		}
	})
	return h
}

// Restart stops and starts the bot on the same data dir, failing the test on error.
func (h *Harness) Restart() {
	h.T.Helper()
	if err := h.Bot.Restart(); err != nil {
		h.T.Fatalf("restart: %v", err)
	}
	h.Settle()
}

// StopBot stops the bot, failing the test on error.
func (h *Harness) StopBot() {
	h.T.Helper()
	if err := h.Bot.StopBot(); err != nil {
		h.T.Fatalf("stop: %v", err)
	}
}

// StartBot starts the bot (after StopBot or Crash) and logs in.
func (h *Harness) StartBot() {
	h.T.Helper()
	if err := h.Bot.StartBot(); err != nil {
		h.T.Fatalf("start: %v", err)
	}
	h.Sim.Login()
	h.Settle()
}

// Do runs script lines (see simbot.Bot.Step), failing the test on a bad line.
func (h *Harness) Do(lines ...string) string {
	h.T.Helper()
	var out string
	for _, l := range lines {
		o, err := h.Step(l)
		if err != nil {
			h.T.Fatalf("%s: %v", l, err)
		}
		out += o
	}
	return out
}

// Logger returns a logger for tests: silent unless QUNGUAN_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("QUNGUAN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// DefaultConfigWith returns the default config with extra YAML appended.
func DefaultConfigWith(extra string) string { return simbot.DefaultConfig + extra }
