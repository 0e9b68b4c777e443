package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/sim"
	"github.com/qunguan/qunguan/bot/simbot"
	"github.com/qunguan/qunguan/internal/app"
)

// TestRunServesMetrics: with metrics_listen set, the running bot serves
// Prometheus metrics, and stops serving at shutdown.
func TestRunServesMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg+"metrics_listen: "+addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	factory := func(ctx context.Context, c *bot.Config, dataDir string, log *slog.Logger, ids bot.Store) (bot.Platform, error) {
		return sim.LoadWorld(bot.SystemClock{}, []byte(simbot.DefaultWorld))
	}
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{ConfigPath: cfgPath, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
			Platforms: map[string]app.PlatformFactory{"sim": factory},
			Ready:     func(*bot.Runtime, bot.Platform) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("bot did not start")
	}
	var page string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page = string(b)
			if strings.Contains(page, "qunguan_online 1") {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(page, "qunguan_online 1") || !strings.Contains(page, `qunguan_build_info{platform="sim",version="test"} 1`) {
		t.Fatalf("metrics page:\n%s", page)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("metrics still served after shutdown")
	}
}
