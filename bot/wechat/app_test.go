package wechat_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
	"github.com/qunguan/qunguan/internal/app"
	"github.com/qunguan/qunguan/plugins"
)

// TestQunguanRun runs what `qunguan run` runs, from a config file with
// platform: wechat and every plugin, with Factory's options pointed at the
// fake server; a member's /help is answered in the group.
func TestQunguanRun(t *testing.T) {
	t.Parallel()
	s := newServer(t, fakewx.Options{AutoScan: true, EchoSent: true, LoginNotify: true})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := `
platform: wechat
operators: [eve-op]
groups:
  - name: 技术群
pacer: {interval: 10ms, burst: 20, jitter: 0s, group_spacing: 0s}
wechat: {mode: desktop, member_refresh: 1m}
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var opts wechat.Options
	var plat *wechat.Platform
	factory := func(ctx context.Context, c *bot.Config, dataDir string, log *slog.Logger, ids bot.Store) (bot.Platform, error) {
		opts = wechat.OptionsFromConfig(c, dataDir, log, ids)
		opts.Transport, opts.QRWriter, opts.StopGrace = s.Transport(), io.Discard, 200*time.Millisecond
		p, err := wechat.New(opts)
		plat = p
		return p, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan *bot.Runtime, 1)
	go func() {
		done <- app.Run(ctx, app.Options{ConfigPath: cfgPath, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
			Platforms: map[string]app.PlatformFactory{"wechat": factory},
			Ready:     func(rt *bot.Runtime, p bot.Platform) { ready <- rt }})
	}()
	var rt *bot.Runtime
	select {
	case rt = <-ready:
	case err := <-done:
		t.Fatalf("run ended: %v", err)
	case <-time.After(wait):
		t.Fatal("not started")
	}
	if opts.Mode != "desktop" || opts.MemberRefresh != time.Minute || !opts.QRCodePNG || opts.DataDir != dir+"/data" {
		t.Errorf("options from the config = %+v", opts)
	}
	if !s.WaitFor(wait, func() bool { return rt.Online() }) {
		t.Fatal("not online")
	}
	if got := len(plugins.All()); len(rt.Plugins()) != got {
		t.Errorf("plugins = %d, want %d", len(rt.Plugins()), got)
	}
	s.SendGroupText("技术群", "alice", "/help")
	if !s.WaitFor(wait, func() bool {
		for _, m := range s.Sent() {
			if m.Group == "技术群" && strings.Contains(m.Text, "可用命令") {
				return true
			}
		}
		return false
	}) {
		t.Errorf("no help in the group; sent %+v", s.Sent())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("did not stop")
	}
	<-plat.Stopped()
}
