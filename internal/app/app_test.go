package app_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/sim"
	"github.com/qunguan/qunguan/bot/simbot"
	"github.com/qunguan/qunguan/internal/app"
	"github.com/qunguan/qunguan/store"
)

const cfg = `
platform: sim
operators: [运营-王老师]
pacer: {interval: 10ms, burst: 5, jitter: 0s, group_spacing: 10ms}
groups:
  - name: 技术交流群
`

// TestRunAsync drives the real, asynchronous runtime (event loop, pacer
// goroutine, system clock, config watcher) on the sim platform, edits the
// config while it runs, and shuts it down as SIGTERM would.
func TestRunAsync(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		actions []sim.Action
		plat    *sim.Platform
		rt      *bot.Runtime
	)
	ready := make(chan struct{})
	factory := func(ctx context.Context, c *bot.Config, dataDir string, log *slog.Logger, ids bot.Store) (bot.Platform, error) {
		p, err := sim.LoadWorld(bot.SystemClock{}, []byte(simbot.DefaultWorld))
		if err != nil {
			return nil, err
		}
		p.OnAction(func(a sim.Action) { mu.Lock(); actions = append(actions, a); mu.Unlock() })
		plat = p
		return p, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{ConfigPath: cfgPath, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
			Platforms: map[string]app.PlatformFactory{"sim": factory},
			Ready:     func(r *bot.Runtime, p bot.Platform) { rt = r; close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("bot did not start")
	}
	waitFor := func(what string, cond func([]sim.Action) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			ok := cond(actions)
			mu.Unlock()
			if ok {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s; actions: %v", what, actions)
	}
	sent := func(sub string) func([]sim.Action) bool {
		return func(as []sim.Action) bool {
			for _, a := range as {
				if strings.Contains(a.Text, sub) {
					return true
				}
			}
			return false
		}
	}
	// Run emits the login itself; then a member asks for help.
	time.Sleep(50 * time.Millisecond)
	plat.Say("技术交流群", "bob", "/help")
	waitFor("the help reply", sent("可用命令"))

	// An export in a quiet group reconciles with the store: the messages
	// still in the group-commit writer's batch (the command itself) are
	// flushed before the export reads.
	plat.Say("技术交流群", "王老师", "/export")
	waitFor("the export reply", sent("导出完成"))
	mu.Lock()
	if sent("核对有出入")(actions) {
		t.Errorf("a quiet group's export did not reconcile with the store: %v", actions)
	}
	mu.Unlock()

	// A broken edit to the config file is refused; the old config keeps working.
	if err := os.WriteFile(cfgPath, []byte(cfg+"pacer: {burst: 0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	if rt.Config().Pacer.Burst != 5 {
		t.Fatalf("broken config was applied")
	}
	waitFor("the operators' alert about the refused edit", sent("【配置未生效】配置文件的修改有误，已拒绝，旧配置继续运行："))
	// A valid edit applies without a restart.
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(cfg, `"/"`, `"/"`, 1)+"command_prefixes: [\"!\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rt.Config().CommandPrefixes[0] != "!" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	plat.Say("技术交流群", "bob", "!help")
	waitFor("the reply to the new prefix", func(as []sim.Action) bool {
		n := 0
		for _, a := range as {
			if strings.Contains(a.Text, "可用命令") {
				n++
			}
		}
		return n >= 2
	})

	// Shut down as SIGTERM would (cancel the context): run returns, the
	// store is closed and can be opened again.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shutdown hung")
	}
	db, err := store.Open(filepath.Join(dir, "data"), store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("store not released at shutdown: %v", err)
	}
	defer db.Close()
	ss, err := db.Sessions(context.Background(), time.Time{}, time.Now().Add(time.Hour))
	if err != nil || len(ss) != 1 || ss[0].End.IsZero() || ss[0].EndReason != "shutdown" {
		t.Errorf("session not closed at shutdown: %+v %v", ss, err)
	}
	rep, err := db.VerifyAudit(context.Background())
	if err != nil || !rep.OK() {
		t.Errorf("audit: %+v %v", rep, err)
	}
	es, _ := db.AuditEntries(context.Background(), bot.AuditFilter{Action: "config."})
	var got []string
	for _, e := range es {
		got = append(got, e.Action)
	}
	if strings.Join(got, ",") != "config.refused,config.reload" {
		t.Errorf("config audit entries = %v", got)
	}
}
