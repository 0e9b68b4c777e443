// Package metrics serves the runtime's numbers to Prometheus when
// metrics_listen is set: events in, sends by priority and result, the send
// queue by priority, rate-limit backoffs, the login state, the store's
// size, managed groups by state and by lifecycle state. It is the only
// package that imports the Prometheus client. The address must be a
// loopback one (config validation refuses others): the page names no
// groups or people, but it is nobody else's business how busy the bot is,
// and a reverse proxy or an SSH tunnel is the way to reach it from afar.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/qunguan/qunguan/bot"
)

// LifecycleReporter is implemented by plugins that move groups through a
// lifecycle (the countdown): LifecycleState names a group's state
// ("counting_down", "frozen", ...), or "" when the plugin has none for it.
// qunguan_lifecycle_groups counts managed groups per plugin and state. It
// is called from the metrics server's goroutine at each scrape, outside
// the runtime's plugin lock, so it must only read what is safe to read
// concurrently (the plugin's KV, the store).
type LifecycleReporter interface {
	LifecycleState(ctx context.Context, g bot.GroupID) string
}

// pather is implemented by stores that live in one file (store.DB).
type pather interface{ Path() string }

// Server serves /metrics for one runtime.
type Server struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
	// Registry holds every collector (tests read it directly).
	Registry *prometheus.Registry
}

// New builds the registry for rt: the runtime's collector, Go and process
// collectors, and a counter of finished sends fed by rt.OnSend.
func New(rt *bot.Runtime, version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	sends := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qunguan_sends_total", Help: "Finished sends by priority and result (ok, or error after the last attempt).",
	}, []string{"priority", "result"})
	for p := bot.PrioModeration; p <= bot.PrioBulk; p++ {
		sends.WithLabelValues(p.String(), "ok")
		sends.WithLabelValues(p.String(), "error")
	}
	rt.OnSend(func(r bot.SendResult) {
		result := "ok"
		if r.Err != nil {
			result = "error"
		}
		sends.WithLabelValues(r.Prio.String(), result).Inc()
	})
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "qunguan_build_info", Help: "Always 1; the labels name the build.",
		ConstLabels: prometheus.Labels{"version": version, "platform": rt.Platform().Name()}})
	info.Set(1)
	reg.MustRegister(sends, info, &runtimeCollector{rt: rt},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Start checks addr, listens on it and serves /metrics until Close.
func Start(rt *bot.Runtime, addr, version string, log *slog.Logger) (*Server, error) {
	if err := bot.CheckLoopback(addr); err != nil {
		return nil, fmt.Errorf("metrics_listen: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics_listen: %w", err)
	}
	reg := New(rt, version)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "qunguan: metrics are at /metrics")
	})
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln, log: log, Registry: reg}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics served", "addr", ln.Addr().String())
	return s, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server.
func (s *Server) Close(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// runtimeCollector reads the runtime's counters and state at each scrape.
type runtimeCollector struct{ rt *bot.Runtime }

var (
	descEvents   = prometheus.NewDesc("qunguan_events_total", "Events received from the platform, by kind.", []string{"kind"}, nil)
	descCommands = prometheus.NewDesc("qunguan_commands_total", "Messages the command router handled.", nil, nil)
	descPanics   = prometheus.NewDesc("qunguan_panics_total", "Panics contained in plugins, commands and event handling.", nil, nil)
	descRecErr   = prometheus.NewDesc("qunguan_record_errors_total", "Records (messages, joins, ...) that could not be stored.", nil, nil)
	descQueue    = prometheus.NewDesc("qunguan_send_queue_depth", "Sends waiting in the pacer, by priority.", []string{"priority"}, nil)
	descBackoffs = prometheus.NewDesc("qunguan_rate_limit_backoffs_total", "Backoffs after a rate limit (WeChat 1205) or a network error.", nil, nil)
	descRetries  = prometheus.NewDesc("qunguan_send_retries_total", "Send attempts that were retried.", nil, nil)
	descSafe     = prometheus.NewDesc("qunguan_safe_mode", "1 while safe mode holds all sending.", nil, nil)
	descOnline   = prometheus.NewDesc("qunguan_online", "1 while the platform session is logged in.", nil, nil)
	descStore    = prometheus.NewDesc("qunguan_store_bytes", "Size of the database file.", nil, nil)
	descGroups   = prometheus.NewDesc("qunguan_groups", "Managed groups by state (active, frozen, bot_removed, gone).", []string{"state"}, nil)
	descLife     = prometheus.NewDesc("qunguan_lifecycle_groups", "Managed groups by lifecycle state, as plugins report it.", []string{"plugin", "state"}, nil)
	descTasks    = prometheus.NewDesc("qunguan_open_tasks", "Operator tasks open or claimed done but not yet verified.", nil, nil)
)

func (c *runtimeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEvents, descCommands, descPanics, descRecErr, descQueue, descBackoffs, descRetries,
		descSafe, descOnline, descStore, descGroups, descLife, descTasks} {
		ch <- d
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *runtimeCollector) Collect(ch chan<- prometheus.Metric) {
	rt := c.rt
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	counters := rt.Counters()
	for k := bot.EventMessage; k <= bot.EventLogout; k++ {
		ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(counters.Events[k]), k.String())
	}
	ch <- prometheus.MustNewConstMetric(descCommands, prometheus.CounterValue, float64(counters.Commands))
	ch <- prometheus.MustNewConstMetric(descPanics, prometheus.CounterValue, float64(counters.Panics))
	ch <- prometheus.MustNewConstMetric(descRecErr, prometheus.CounterValue, float64(counters.RecordErrors))

	pacer := rt.Pacer()
	for i, n := range pacer.DepthByPriority() {
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(n), bot.Priority(i).String())
	}
	st := pacer.Stats()
	ch <- prometheus.MustNewConstMetric(descBackoffs, prometheus.CounterValue, float64(st.Backoffs))
	ch <- prometheus.MustNewConstMetric(descRetries, prometheus.CounterValue, float64(st.Retries))
	ch <- prometheus.MustNewConstMetric(descSafe, prometheus.GaugeValue, boolGauge(pacer.SafeMode()))
	ch <- prometheus.MustNewConstMetric(descOnline, prometheus.GaugeValue, boolGauge(rt.Online()))

	if p, ok := rt.Store().(pather); ok {
		if fi, err := os.Stat(p.Path()); err == nil {
			ch <- prometheus.MustNewConstMetric(descStore, prometheus.GaugeValue, float64(fi.Size()))
		}
	}

	states := map[string]int{"active": 0, "frozen": 0, "bot_removed": 0, "gone": 0}
	type pluginState struct{ plugin, state string }
	life := map[pluginState]int{}
	for _, g := range rt.ManagedGroups() {
		switch {
		case g.Gone:
			states["gone"]++
		case !g.BotPresent:
			states["bot_removed"]++
		case g.Frozen:
			states["frozen"]++
		default:
			states["active"]++
		}
		for _, p := range rt.Plugins() {
			if lr, ok := p.(LifecycleReporter); ok {
				if s := lr.LifecycleState(ctx, g.ID); s != "" {
					life[pluginState{p.Name(), s}]++
				}
			}
		}
	}
	for s, n := range states {
		ch <- prometheus.MustNewConstMetric(descGroups, prometheus.GaugeValue, float64(n), s)
	}
	for k, n := range life {
		ch <- prometheus.MustNewConstMetric(descLife, prometheus.GaugeValue, float64(n), k.plugin, k.state)
	}

	if tasks, err := rt.OpenTasks(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descTasks, prometheus.GaugeValue, float64(len(tasks)))
	}
}
