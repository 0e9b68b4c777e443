package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export/archive"
	"github.com/qunguan/qunguan/store"
)

// seedStore writes a group with a few messages into a data dir.
func seedStore(t *testing.T, data string) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	db, err := store.Open(data, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.OpenSession(ctx, t0); err != nil {
		t.Fatal(err)
	}
	g := bot.GroupRecord{ID: "g_cli1", Name: "技术交流群", FirstSeen: t0, LastSeen: t0, BotPresent: true}
	if err := db.PutGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := db.PutGroup(ctx, bot.GroupRecord{ID: "g_cli2", Name: "读书会", FirstSeen: t0, BotPresent: true}); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"大家好", "我的电话 13812345678", "再见"} {
		db.AppendRecord(bot.Record{Group: g.ID, Time: t0.Add(time.Duration(i) * time.Minute), Kind: bot.EventMessage,
			Sender: "u_1", SenderName: "alice", MsgType: bot.MsgText, Text: text})
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestExportCommand(t *testing.T) {
	p, data := writeConfig(t, "platform: sim\ngroups:\n  - name: 技术交流群\n")
	seedStore(t, data)
	out := filepath.Join(t.TempDir(), "archives")
	code, stdout, stderr := run(t, "export", "--group", "技术交流群", "--out", out, "--redact", "--config", p)
	if code != 0 {
		t.Fatalf("export: %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"written, re-read and verified", "records   3 (3 messages from people) over 1 day\n", "redacted  1 numbers", "manifest  sha256"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "exporting 技术交流群") || !strings.Contains(stderr, "导出 / exporting") {
		t.Errorf("no progress bar on stderr:\n%s", stderr)
	}
	es, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var folder string
	for _, e := range es {
		if e.IsDir() {
			folder = filepath.Join(out, e.Name())
		}
	}
	rep, err := archive.Verify(folder)
	if err != nil {
		t.Fatalf("archive does not verify: %v", err)
	}
	if !strings.Contains(stdout, rep.ManifestSHA256) {
		t.Errorf("printed hash is not the manifest's %s", rep.ManifestSHA256)
	}
	b, err := os.ReadFile(filepath.Join(folder, archive.MessagesJSONL))
	if err != nil || bytes.Contains(b, []byte("13812345678")) {
		t.Errorf("redaction: %v", err)
	}
	// The export is in the audit log, and the chain still verifies.
	code, stdout, _ = run(t, "audit", "verify", "--config", p)
	if code != 0 || !strings.Contains(stdout, "audit chain ok: 1 entries") {
		t.Errorf("audit after export: %d %q", code, stdout)
	}
}

func TestExportCommandRefusals(t *testing.T) {
	p, data := writeConfig(t, "platform: sim\n")
	seedStore(t, data)
	if code, _, errs := run(t, "export", "--config", p); code != 2 || !strings.Contains(errs, "--group is required") || !strings.Contains(errs, "Usage: qunguan export --group") {
		t.Errorf("no group: %d %q", code, errs)
	}
	if code, _, errs := run(t, "export", "--group", "不存在", "--config", p, "--quiet"); code != 1 || !strings.Contains(errs, `no group matches "不存在"`) {
		t.Errorf("unknown group: %d %q", code, errs)
	}
	if code, _, errs := run(t, "export", "--group", "读书会", "--formats", "pdf", "--config", p); code != 1 || !strings.Contains(errs, "unknown export format") {
		t.Errorf("bad format: %d %q", code, errs)
	}
	db, err := store.Open(data, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	code, _, errs := run(t, "export", "--group", "读书会", "--config", p)
	if code != 1 || !strings.Contains(errs, "another qunguan is using") || !strings.Contains(errs, "/export") {
		t.Errorf("while the bot runs: %d %q", code, errs)
	}
}

// TestAuditVerifyNamesBrokenEntry edits one byte of an audit entry in the
// database file, as someone covering their tracks would, and checks that
// `qunguan audit verify` fails naming that entry.
func TestAuditVerifyNamesBrokenEntry(t *testing.T) {
	p, data := writeConfig(t, "platform: sim\n")
	db, err := store.Open(data, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, d := range []string{"first entry AAAA", "second entry BBBB", "third entry CCCC"} {
		if _, err := db.AppendAudit(ctx, bot.AuditEntry{Actor: "test", Action: "countdown.start", Detail: d}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(data, "qunguan.db")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// Copy-on-write leaves older copies in freed pages; all are changed.
	if !bytes.Contains(raw, []byte("second entry BBBB")) {
		t.Fatalf("entry not found in the file")
	}
	if err := os.WriteFile(file, bytes.ReplaceAll(raw, []byte("second entry BBBB"), []byte("second entry XXXX")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "audit", "verify", "--config", p)
	if code != 1 || !strings.Contains(errs, "BROKEN at entry 2 of") || !strings.Contains(errs, "countdown.start") || !strings.Contains(errs, "changed") {
		t.Errorf("tampered chain: %d %q", code, errs)
	}
}
