package cli

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot/simbot"
	"github.com/qunguan/qunguan/plugins"
	"github.com/qunguan/qunguan/store"
)

// statsBot leaves a stopped bot's files in a directory: three days of chat
// in 技术交流群, one join.
func statsBot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	b, err := simbot.New(dir, simbot.Options{Plugins: plugins.All})
	later := simbot.Start.Add(50 * time.Hour) // 03-04 11:00, a Wednesday
	now = func() time.Time { return later }
	t.Cleanup(func() { now = time.Now })
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"alice@技术交流群: 早", "bob@技术交流群: 早上好", "image carol@技术交流群 a.png", "+dave@技术交流群 by alice", "advance 1d", "alice@技术交流群: 在吗", "advance 1d", "alice@技术交流群: 在"} {
		if _, err := b.Step(l); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "config.yaml")
}

func TestStatsCommand(t *testing.T) {
	cfg := statsBot(t)
	code, out, errs := run(t, "stats", "--config", cfg, "--group", "技术", "--days", "5")
	if code != 0 {
		t.Fatalf("stats: %d %s", code, errs)
	}
	for _, want := range []string{"技术交流群（g_0001）", "【技术交流群 · 近 5 天】（03-02 起有记录）", "消息 5 条", "入群 1", "图片/文件 1", "健康度", "核心 0、普通 3、沉默 3", "date  messages"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "2026-03-02         3       3      1       0      1           0") {
		t.Errorf("day rows:\n%s", out)
	}
	// The bot first saw the group on 03-02: the two days before are left out.
	if lines := strings.Count(out, "2026-0"); lines != 3 || strings.Contains(out, "2026-02-28") || strings.Contains(out, "2026-03-01") {
		t.Errorf("%d day rows, want 3 from 03-02:\n%s", lines, out)
	}

	// --days has the same limit as /stats in the chat (max_period, 90 days).
	if code, _, errs := run(t, "stats", "--config", cfg, "--group", "技术", "--days", "91"); code != 1 || !strings.Contains(errs, "--days must be between 1 and 90") {
		t.Errorf("--days 91: %d %s", code, errs)
	}
	if code, _, errs := run(t, "stats", "--config", cfg, "--group", "技术", "--days", "90"); code != 0 {
		t.Errorf("--days 90: %d %s", code, errs)
	}

	code, out, _ = run(t, "stats", "--config", cfg, "--group", "g_0001", "--days", "5", "--csv")
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(rows) != 4 || rows[0] != "date,messages,active_members,joins,leaves,media,moderation_hits,bot_messages" || !strings.HasPrefix(rows[1], "2026-03-02,") {
		t.Fatalf("csv: %d\n%s", code, out)
	}
	total := 0
	for _, r := range rows[1:] {
		var n int
		f := strings.Split(r, ",")
		if _, err := fmt.Sscan(f[1], &n); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != 5 {
		t.Errorf("csv counts %d messages, want 5:\n%s", total, out)
	}

	code, out, _ = run(t, "stats", "--config", cfg, "--group", "技术交流群", "--members", "--csv")
	if code != 0 || !strings.Contains(out, "user,name,tier,active_days,window_messages,messages,last_spoke\n") ||
		!strings.Contains(out, ",小A,ordinary,3,3,3,2026-03-04T09:00:00+08:00") || !strings.Contains(out, ",dave,silent,0,0,0,\n") {
		t.Errorf("members csv: %d\n%s", code, out)
	}
	code, out, _ = run(t, "stats", "--config", cfg, "--group", "技术交流群", "--members")
	if code != 0 || !strings.Contains(out, "普通｜小A（u_0003）｜3 天发言，3 条｜累计 3 条｜最后发言 2026-03-04 09:00") {
		t.Errorf("members: %d\n%s", code, out)
	}

	if code, _, errs := run(t, "stats", "--config", cfg, "--group", "没有这个群"); code != 1 || !strings.Contains(errs, `no group matches "没有这个群"`) {
		t.Errorf("unknown group: %d %s", code, errs)
	}
	if code, _, errs := run(t, "stats", "--config", cfg); code != 2 || !strings.Contains(errs, "--group is required") || !strings.Contains(errs, "Usage: qunguan stats --group NAME") {
		t.Errorf("no group: %d %s", code, errs)
	}
}

// TestStatsWhileRunning: the running bot holds the store; the command says
// so and what to do instead.
func TestStatsWhileRunning(t *testing.T) {
	cfg := statsBot(t)
	db, err := store.Open(filepath.Join(filepath.Dir(cfg), "data"), store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	code, _, errs := run(t, "stats", "--config", cfg, "--group", "技术")
	if code != 1 || !strings.Contains(errs, "another qunguan is using") || !strings.Contains(errs, "Stop the bot") || !strings.Contains(errs, "/统计 @群名") {
		t.Errorf("locked store: %d %q", code, errs)
	}
}
