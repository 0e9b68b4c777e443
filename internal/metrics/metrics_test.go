package metrics_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/internal/metrics"
)

// life reports a lifecycle state for one group, as the countdown would.
type life struct{ g *bot.GroupID }

func (l life) Name() string { return "countdown" }
func (l life) LifecycleState(ctx context.Context, g bot.GroupID) string {
	if g == *l.g {
		return "counting_down"
	}
	return ""
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrape: %s %v", resp.Status, err)
	}
	return string(b)
}

// value returns the sample of a metric line such as
// `qunguan_sends_total{priority="reply",result="ok"}`.
func value(t *testing.T, page, series string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in the page", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetrics(t *testing.T) {
	var counting bot.GroupID
	h := bottest.New(t, bottest.Options{Plugins: func() []bot.Plugin { return []bot.Plugin{life{&counting}} }})
	counting = h.Group("读书会")
	srv, err := metrics.Start(h.RT, "127.0.0.1:0", "test", bottest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })

	h.Do("alice@技术交流群: 你好", "bob@技术交流群: 在", "fail send_text rate_limited", "dm 王老师: /status")
	if page := scrape(t, srv.Addr()); value(t, page, `qunguan_send_queue_depth{priority="reply"}`) != 1 {
		t.Error("the rate-limited reply is not waiting in the queue")
	}
	h.Do("advance 1m") // the backoff passes and the reply goes out
	page := scrape(t, srv.Addr())
	checks := map[string]float64{
		`qunguan_events_total{kind="message"}`:                               3,
		`qunguan_events_total{kind="login"}`:                                 1,
		`qunguan_commands_total`:                                             1,
		`qunguan_sends_total{priority="reply",result="ok"}`:                  1,
		`qunguan_sends_total{priority="bulk",result="error"}`:                0,
		`qunguan_send_queue_depth{priority="bulk"}`:                          0,
		`qunguan_rate_limit_backoffs_total`:                                  1,
		`qunguan_online`:                                                     1,
		`qunguan_safe_mode`:                                                  0,
		`qunguan_groups{state="active"}`:                                     2,
		`qunguan_groups{state="gone"}`:                                       0,
		`qunguan_lifecycle_groups{plugin="countdown",state="counting_down"}`: 1,
		`qunguan_open_tasks`:                                                 0,
		`qunguan_build_info{platform="sim",version="test"}`:                  1,
	}
	for series, want := range checks {
		if got := value(t, page, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if v := value(t, page, "qunguan_store_bytes"); v < 4096 {
		t.Errorf("store size %v", v)
	}
	if !strings.Contains(page, "go_goroutines") {
		t.Error("no Go runtime metrics")
	}

	h.Do("logout 1101", "dissolve 读书会")
	page = scrape(t, srv.Addr())
	if v := value(t, page, "qunguan_online"); v != 0 {
		t.Errorf("online after logout: %v", v)
	}
	if v := value(t, page, `qunguan_groups{state="gone"}`); v != 1 {
		t.Errorf("gone groups: %v", v)
	}
}

func TestLoopbackOnly(t *testing.T) {
	h := bottest.New(t, bottest.Options{})
	for _, addr := range []string{"0.0.0.0:9464", "192.168.1.5:9464", ":9464", "example.com:80", "127.0.0.1"} {
		if srv, err := metrics.Start(h.RT, addr, "test", bottest.Logger()); err == nil {
			srv.Close(context.Background())
			t.Errorf("%s was accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		if err := bot.CheckLoopback(addr); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
	_, err := bot.ParseConfig("c.yaml", []byte("metrics_listen: 0.0.0.0:9464\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:1: metrics_listen") {
		t.Errorf("config with a public metrics address: %v", err)
	}
}
