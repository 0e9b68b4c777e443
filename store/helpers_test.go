package store

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// t0 is the fake clock's start: a fixed UTC time.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testLogger logs to the test output at debug level, so failures show what
// the store said.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// testOptions are fast options for tests: a short batch delay and lock
// timeout, the fake clock, the test logger.
func testOptions(t testing.TB, c *fakeClock) Options {
	return Options{
		Logger:      testLogger(t),
		Now:         c.Now,
		LockTimeout: 100 * time.Millisecond,
		BatchDelay:  time.Millisecond,
	}
}

// openTest opens a store in dir and closes it when the test ends.
func openTest(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// newTestDB opens a store in a new temporary directory.
func newTestDB(t testing.TB) (*DB, *fakeClock) {
	t.Helper()
	c := newClock()
	return openTest(t, t.TempDir(), testOptions(t, c)), c
}

// msg builds a text message record from u in g at t.
func msg(g bot.GroupID, u bot.UserID, at time.Time, text string) bot.Record {
	return bot.Record{
		Group: g, Time: at, Kind: bot.EventMessage, Sender: u, SenderName: "name-" + string(u),
		MsgID: fmt.Sprintf("m-%d", at.UnixNano()), MsgType: bot.MsgText, Text: text,
	}
}

// appendAll appends rs and waits for every one to be durable.
func appendAll(t testing.TB, db *DB, rs ...bot.Record) {
	t.Helper()
	chs := make([]<-chan error, len(rs))
	for i, r := range rs {
		chs[i] = db.AppendRecord(r)
	}
	for i, ch := range chs {
		if err := <-ch; err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
}

// scanAll returns all records of g.
func scanAll(t testing.TB, db *DB, g bot.GroupID) []bot.Record {
	t.Helper()
	var out []bot.Record
	err := db.ScanRecords(context.Background(), g, time.Time{}, time.Time{}, func(r bot.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("ScanRecords: %v", err)
	}
	return out
}

// copyTestFile copies src to dst.
func copyTestFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
