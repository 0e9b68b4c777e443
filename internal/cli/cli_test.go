package cli

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/store"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(Build{Version: "v-test", Commit: "abc"}, Env{Args: append([]string{"qunguan"}, args...), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, body string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, filepath.Join(dir, "data")
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := run(t, "version"); code != 0 || !strings.Contains(out, "v-test abc") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, errs := run(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errs)
	}
}

func TestCheckConfig(t *testing.T) {
	p, _ := writeConfig(t, "platform: sim\npacer:\n  burst: 0\n")
	code, _, errs := run(t, "check-config", "--config", p)
	if code != 1 || !strings.Contains(errs, p+":3: pacer.burst: must be at least 1") {
		t.Errorf("bad config: %d %q", code, errs)
	}
	p, _ = writeConfig(t, "platform: sim\n")
	if code, out, errs := run(t, "check-config", "--config", p); code != 0 || !strings.Contains(out, ": ok") {
		t.Errorf("good config: %d %q %q", code, out, errs)
	}
	if code, out, _ := run(t, "check-config", "--example"); code != 0 || !strings.Contains(out, "operators:") {
		t.Errorf("example: %d", code)
	}
}

func TestRunRefusesClearly(t *testing.T) {
	code, _, errs := run(t, "run", "--config", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != 1 || !strings.Contains(errs, "check-config --example") {
		t.Errorf("missing config: %d %q", code, errs)
	}
	p, _ := writeConfig(t, "platform: wechat\n")
	code, _, errs = run(t, "run", "--config", p)
	if code != 1 || !strings.Contains(errs, "platform not available") {
		t.Errorf("no wechat factory: %d %q", code, errs)
	}
}

func TestSecondProcessOnDataDir(t *testing.T) {
	p, data := writeConfig(t, "platform: sim\n")
	db, err := store.Open(data, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	code, _, errs := run(t, "db", "backup", "--config", p)
	if code != 1 || !strings.Contains(errs, "another qunguan is using "+data) {
		t.Errorf("second open: %d %q", code, errs)
	}
	code, _, errs = run(t, "audit", "verify", "--config", p)
	if code != 1 || !strings.Contains(errs, "another qunguan is using") {
		t.Errorf("audit verify while running: %d %q", code, errs)
	}
}

func TestDBCommands(t *testing.T) {
	p, data := writeConfig(t, "platform: sim\n")
	db, err := store.Open(data, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, "audit", "verify", "--config", p); code != 0 || !strings.Contains(out, "audit chain ok") {
		t.Errorf("audit verify: %d %q %q", code, out, errs)
	}
	code, out, errs := run(t, "db", "backup", "--config", p)
	if code != 0 || !strings.Contains(out, "backups") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	backup := strings.TrimSpace(out)
	if code, out, _ := run(t, "db", "backups", "--config", p); code != 0 || !strings.Contains(out, backup) {
		t.Errorf("backups: %d %q", code, out)
	}
	if code, out, errs := run(t, "db", "check", "--config", p); code != 0 || !strings.Contains(out, "database ok") {
		t.Errorf("check: %d %q %q", code, out, errs)
	}
	// Truncate the data file to half: refused, naming the newest backup.
	file := filepath.Join(data, "qunguan.db")
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	code, _, errs = run(t, "db", "check", "--config", p)
	if code != 1 || !strings.Contains(errs, filepath.Base(backup)) {
		t.Errorf("truncated check: %d %q", code, errs)
	}
	code, _, errs = run(t, "audit", "verify", "--config", p)
	if code != 1 || !strings.Contains(errs, "qunguan db restore") {
		t.Errorf("truncated open: %d %q", code, errs)
	}
	if code, out, errs := run(t, "db", "restore", backup, "--config", p); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "db", "check", "--config", p); code != 0 {
		t.Errorf("check after restore: %d %q", code, errs)
	}
	if code, out, errs := run(t, "db", "compact", "--config", p); code != 0 || !strings.Contains(out, "compacted") {
		t.Errorf("compact: %d %q %q", code, out, errs)
	}
}
