// Package app wires a real, long-running qunguan process: config, store,
// platform, runtime, live config reload, signals and graceful shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/internal/metrics"
	"github.com/qunguan/qunguan/plugins"
	"github.com/qunguan/qunguan/store"
)

// PlatformFactory builds the platform a config names.
type PlatformFactory func(ctx context.Context, cfg *bot.Config, dataDir string, log *slog.Logger, ids bot.Store) (bot.Platform, error)

// Options configure Run.
type Options struct {
	ConfigPath string
	Logger     *slog.Logger
	Version    string
	// Platforms maps a config's platform name to its factory.
	Platforms map[string]PlatformFactory
	// Ready, when set, is called with the runtime once it started (tests,
	// the sim console).
	Ready func(rt *bot.Runtime, p bot.Platform)
}

// ErrNoPlatform is returned when the binary has no factory for the
// configured platform.
var ErrNoPlatform = errors.New("platform not available in this build")

// DataDir resolves the config's data dir relative to the config file.
func DataDir(cfg *bot.Config) string { return cfg.DataPath() }

// OpenStore opens the store for cfg with the store settings applied.
func OpenStore(cfg *bot.Config, log *slog.Logger) (*store.DB, error) {
	return store.Open(DataDir(cfg), store.Options{
		Logger: log, BatchSize: cfg.Store.BatchSize, BatchDelay: cfg.Store.BatchDelay.D(), BackupKeep: cfg.Store.BackupKeep,
	})
}

// Run runs the bot until SIGINT/SIGTERM or ctx ends, then shuts down:
// stop intake, finish the pacer's urgent queue, stop cron, stop plugins in
// reverse, flush and close the store.
func Run(ctx context.Context, o Options) error {
	log := o.Logger
	ps := plugins.All()
	cfg, err := bot.LoadConfig(o.ConfigPath, ps)
	if err != nil {
		return err
	}
	factory, ok := o.Platforms[cfg.Platform]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoPlatform, cfg.Platform)
	}
	db, err := OpenStore(cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	platform, err := factory(ctx, cfg, DataDir(cfg), log, db)
	if err != nil {
		return err
	}
	rt, err := bot.New(bot.Options{Config: cfg, Store: db, Platform: platform, Plugins: ps, Logger: log, Version: o.Version})
	if err != nil {
		return err
	}
	if err := rt.Start(ctx); err != nil {
		return err
	}
	if cfg.MetricsListen != "" {
		srv, err := metrics.Start(rt, cfg.MetricsListen, o.Version, log.With("component", "metrics"))
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Close(sctx); err != nil {
				log.Warn("metrics server not closed cleanly", "err", err)
			}
		}()
	}
	if o.Ready != nil {
		o.Ready(rt, platform)
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go WatchConfig(watchCtx, rt, log)
	log.Info("qunguan running", "platform", platform.Name(), "groups", len(cfg.Groups), "data_dir", DataDir(cfg))
	err = rt.Run(ctx)
	log.Info("qunguan stopped")
	return err
}

// WatchConfig reloads the config when its file changes. Editors often
// replace the file (write a temp file, rename), so the directory is
// watched and events are debounced.
func WatchConfig(ctx context.Context, rt *bot.Runtime, log *slog.Logger) {
	path := rt.Config().Path
	w, err := fsnotify.NewWatcher()
	if err != nil {
		log.Error("config watch unavailable", "err", err)
		return
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(path)); err != nil {
		log.Error("config watch unavailable", "err", err)
		return
	}
	base := filepath.Base(path)
	var timer *time.Timer
	fire := make(chan struct{}, 1)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) != base || ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) == 0 {
				continue
			}
			if timer != nil {
				timer.Stop()
			}
			timer = time.AfterFunc(300*time.Millisecond, func() {
				select {
				case fire <- struct{}{}:
				default:
				}
			})
		case <-fire:
			if err := rt.ReloadFile(ctx, "config-file"); err != nil {
				log.Error("config edit refused; the old config keeps running", "err", err)
				rt.Alert(ctx, bot.Alert{Kind: bot.AlertOther, Text: rt.Text(rt.Config().Language, "alert.config_refused", map[string]string{"err": err.Error()}),
					Data: map[string]string{"error": err.Error()}})
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			log.Warn("config watch error", "err", err)
		}
	}
}
