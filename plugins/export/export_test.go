package export_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/plugins/export"
	"github.com/qunguan/qunguan/plugins/export/archive"
)

func plugins() []bot.Plugin { return []bot.Plugin{export.New()} }

func TestScenarios(t *testing.T) {
	bottest.RunScenarios(t, "testdata/*.txt", plugins)
}

// exportOf runs a job for 技术交流群 through the plugin of the harness.
func exportOf(t *testing.T, h *bottest.Harness, job string) *export.Outcome {
	t.Helper()
	p := h.Plugins[0].(*export.Plugin)
	out, err := p.Archive(context.Background(), export.Job{ID: job, Group: h.Group("技术交流群"), By: "test", Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRedactedArchiveHasNoNumbers reads the archive back: no phone or ID
// number of the corpus survives anywhere in it.
func TestRedactedArchiveHasNoNumbers(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins, Config: bottest.DefaultConfigWith("plugins:\n  export:\n    redact: true\n")})
	h.Do("bob@技术交流群: 我的手机号 13812345678，座机 010-62345678", "alice@技术交流群: 身份证 11010119900307851X 请核对")
	out := exportOf(t, h, "t1")
	err := filepath.WalkDir(out.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".xlsx") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, n := range []string{"13812345678", "62345678", "11010119900307851X"} {
			if strings.Contains(string(b), n) {
				t.Errorf("%s still holds %s", filepath.Base(p), n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckFindsTampering changes one byte of an archive file, then the
// manifest itself: Check fails both times.
func TestCheckFindsTampering(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins})
	h.Do("alice@技术交流群: 第一条", "bob@技术交流群: 第二条")
	out := exportOf(t, h, "t1")
	if err := export.Check(out); err != nil {
		t.Fatalf("fresh archive does not check: %v", err)
	}
	csv := filepath.Join(out.Dir, archive.MessagesCSV)
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(b), "第二条", "第三条", 1)
	if err := os.WriteFile(csv, []byte(tampered), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := export.Check(out); !errors.Is(err, archive.ErrVerify) {
		t.Fatalf("tampered messages.csv: Check = %v, want ErrVerify", err)
	}
	if err := os.WriteFile(csv, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// A manifest rewritten to match changed files is caught by the hash
	// the audit log recorded at export.
	man := filepath.Join(out.Dir, archive.ManifestFile)
	mb, err := os.ReadFile(man)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(man, append(mb, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := export.Check(out); !errors.Is(err, archive.ErrVerify) {
		t.Fatalf("changed manifest: Check = %v, want ErrVerify", err)
	}
}

// TestFinishedJobIsNotWrittenAgain: asking for a finished job returns it.
func TestFinishedJobIsNotWrittenAgain(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins})
	h.Do("alice@技术交流群: 你好")
	first := exportOf(t, h, "t1")
	h.Advance(time.Hour)
	again := exportOf(t, h, "t1")
	if again.Name != first.Name || again.ManifestSHA256 != first.ManifestSHA256 {
		t.Errorf("job written twice: %s then %s", first.Name, again.Name)
	}
	es, err := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "export.done"})
	if err != nil || len(es) != 1 {
		t.Errorf("export.done entries %d (%v), want 1", len(es), err)
	}
}

// TestRetentionDeletesOldArchives: the nightly job removes archives past
// the window, and their emptied folders, and audits it.
func TestRetentionDeletesOldArchives(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins, Config: bottest.DefaultConfigWith("plugins:\n  export:\n    retention: 2d\n")})
	h.Do("alice@技术交流群: 你好")
	old := exportOf(t, h, "t1")
	h.Advance(36 * time.Hour)
	young := exportOf(t, h, "t2")
	// The 03:40 job two nights later finds old 2d18h40m old, young 1d6h40m.
	h.Advance(36 * time.Hour)
	if _, err := os.Stat(old.Zip); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("archive past retention still there: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(old.Dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("emptied job folder still there: %v", err)
	}
	if err := export.Check(young); err != nil {
		t.Errorf("archive within retention damaged: %v", err)
	}
	es, err := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "export.prune"})
	if err != nil || len(es) != 1 || es[0].Data["count"] != "2" {
		t.Errorf("prune audit: %+v %v", es, err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"formats: [pdf]", "formats"},
		{"recipients: [notakey]", "recipients[0]"},
		{"retention: 10m", "retention"},
		{"retention_cron: \"every day\"", "retention_cron"},
		{"send_max_mb: -1", "send_max_mb"},
	} {
		_, err := bot.ParseConfig("c.yaml", []byte("plugins:\n  export:\n    "+tc.yaml+"\n"), plugins())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to name %s", tc.yaml, err, tc.want)
		}
	}
}
