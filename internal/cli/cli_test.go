package cli

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

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
	if code, out, _ := run(t, "version"); code != 0 || out != "qunguan v-test abc\n" {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, errs := run(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") || !strings.Contains(errs, "Usage:") {
		t.Errorf("unknown command: %d %q", code, errs)
	}
	if code, out, _ := run(t, "help"); code != 0 || !strings.Contains(out, "qunguan db backups") {
		t.Errorf("help: %d %q", code, out)
	}
}

func TestVersionString(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/qunguan/qunguan", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	const rev = "ff658d3c1a2b4c5d6e7f8091a2b3c4d5e6f70819"
	pseudo := vcs(rev, "true")
	pseudo.Main.Version = "v0.0.0-20261122015336-ff658d3c1a2b+dirty"
	tagged := vcs(rev, "false")
	tagged.Main.Version = "v1.2.0"
	installed := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}
	installedAt := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261122015336-ff658d3c1a2b"}}
	for _, tt := range []struct {
		name string
		b    Build
		info *debug.BuildInfo
		want string
	}{
		{"make build, untagged", Build{Version: "ff658d3", Commit: "ff658d3"}, nil, "ff658d3"},
		{"make build, untagged, dirty", Build{Version: "ff658d3-dirty", Commit: "ff658d3"}, nil, "ff658d3-dirty"},
		{"make build, tagged", Build{Version: "v1.2.0", Commit: "ff658d3"}, vcs(rev, "false"), "v1.2.0 ff658d3"},
		{"make build, after a tag", Build{Version: "v1.2.0-3-gff658d3", Commit: "ff658d3"}, nil, "v1.2.0-3-gff658d3"},
		{"go run, no build info", Build{Version: "dev"}, nil, "dev"},
		{"go run, no vcs", Build{Version: "dev"}, &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"go build", Build{Version: "dev"}, vcs(rev, "false"), "dev ff658d3"},
		{"go build, modified", Build{Version: "dev"}, vcs(rev, "true"), "dev ff658d3-dirty"},
		{"go build, pseudo-version", Build{Version: "dev"}, pseudo, "dev ff658d3-dirty"},
		{"go build at a tag", Build{Version: "dev"}, tagged, "v1.2.0 ff658d3"},
		{"go install @v1.2.0", Build{Version: "dev"}, installed, "v1.2.0"},
		{"go install @commit", Build{Version: "dev"}, installedAt, "v0.0.0-20261122015336-ff658d3c1a2b"},
		{"empty", Build{}, nil, "dev"},
	} {
		if got := versionString(tt.b, tt.info); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Every command's --help prints its usage to stdout and exits 0, with no
// config file around; wrong calls print the usage to stderr and exit 2.
func TestHelpAndUsageErrors(t *testing.T) {
	t.Chdir(t.TempDir()) // no config.yaml here
	for _, cmd := range []string{"run", "demo", "check-config", "audit", "audit verify", "export", "stats",
		"db", "db check", "db compact", "db backup", "db backups", "db restore", "version"} {
		for _, h := range []string{"--help", "-h"} {
			args := append(strings.Fields(cmd), h)
			code, out, errs := run(t, args...)
			if code != 0 || errs != "" || !strings.HasPrefix(out, "Usage: qunguan "+strings.Fields(cmd)[0]) {
				t.Errorf("%s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errs)
			}
		}
	}
	if code, out, _ := run(t, "help", "db", "restore"); code != 0 || !strings.HasPrefix(out, "Usage: qunguan db restore BACKUP") || !strings.Contains(out, "-data-dir") {
		t.Errorf("help db restore: %d %q", code, out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"db"}, "qunguan: qunguan db needs a command\n\nUsage: qunguan db COMMAND"},
		{[]string{"db", "frob"}, "qunguan: unknown db command \"frob\"\n\nUsage: qunguan db COMMAND"},
		{[]string{"audit", "frob"}, "qunguan: unknown audit command \"frob\"\n\nUsage: qunguan audit verify"},
		{[]string{"db", "restore"}, "qunguan: missing argument\n\nUsage: qunguan db restore BACKUP"},
		{[]string{"db", "restore", "a.db", "b.db"}, "qunguan: unexpected argument \"b.db\"\n\nUsage: qunguan db restore"},
		{[]string{"run", "now"}, "qunguan: unexpected argument \"now\"\n\nUsage: qunguan run"},
		{[]string{"version", "--short"}, "flag provided but not defined: -short\nUsage: qunguan version"},
		{[]string{"db", "check", "--confg", "x"}, "flag provided but not defined: -confg\nUsage: qunguan db check"},
	} {
		code, out, errs := run(t, tt.args...)
		if code != 2 || out != "" || !strings.HasPrefix(errs, tt.want) || strings.Count(errs, "Usage:") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and stderr starting %q", tt.args, code, out, errs, tt.want)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	p, _ := writeConfig(t, "platform: sim\npacer:\n  burst: 0\n")
	code, _, errs := run(t, "check-config", "--config", p)
	if code != 1 || !strings.Contains(errs, p+":3: pacer.burst: must be at least 1") {
		t.Errorf("bad config: %d %q", code, errs)
	}
	p, _ = writeConfig(t, "platform: sim\noperators: [王老师]\n")
	if code, out, errs := run(t, "check-config", "--config", p); code != 0 || !strings.Contains(out, ": ok") || errs != "" {
		t.Errorf("good config: %d %q %q", code, out, errs)
	}
	// No operators: valid, with a warning, since nobody could /confirm.
	p, _ = writeConfig(t, "platform: sim\n")
	if code, out, errs := run(t, "check-config", "--config", p); code != 0 || !strings.Contains(out, ": ok") ||
		!strings.HasPrefix(errs, "qunguan: warning: "+p+": operators: none are listed, so nobody can use operator commands or /confirm") {
		t.Errorf("no operators: %d %q %q", code, out, errs)
	}
	// A key that applies to all groups is refused in a group's override.
	p, _ = writeConfig(t, "platform: sim\noperators: [王老师]\ngroups:\n  - name: 技术群\n    plugins:\n      stats:\n        daily_cron: \"0 1 * * *\"\n")
	if code, _, errs := run(t, "check-config", "--config", p); code != 1 ||
		!strings.Contains(errs, p+":7: groups[0].plugins.stats.daily_cron: cannot be set per group, it applies to all groups; set it under plugins.stats.daily_cron") {
		t.Errorf("per-group daily_cron: %d %q", code, errs)
	}
	code, out, _ := run(t, "check-config", "--example")
	if code != 0 || !strings.Contains(out, "operators:") {
		t.Errorf("example: %d", code)
	}
	p, _ = writeConfig(t, out)
	if code, _, errs := run(t, "check-config", "--config", p); code != 0 || errs != "" {
		t.Errorf("the example does not pass: %d %q", code, errs)
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
	if !strings.Contains(errs, `level=WARN msg="config warning" warning="`+p+`: operators: none are listed`) {
		t.Errorf("no warning about operators at the start: %q", errs)
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
	if code != 1 || !strings.Contains(errs, fmt.Sprintf("another qunguan is using %q", data)) {
		t.Errorf("second open: %d %q", code, errs)
	}
	// Run from the config's folder, the data dir is the relative "data":
	// the message quotes it and adds where that is.
	t.Chdir(filepath.Dir(p))
	code, _, errs = run(t, "db", "backup", "--config", "config.yaml")
	if want := `another qunguan is using "data" (` + data + ")\n"; code != 1 || !strings.HasSuffix(errs, want) {
		t.Errorf("second open, relative: %d %q, want %q", code, errs, want)
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
	if code, out, _ := run(t, "db", "backups", "--config", p); code != 0 || !strings.HasPrefix(out, "path ") ||
		!strings.Contains(out, backup) || !strings.Contains(out, "  manual  ") || !strings.HasSuffix(out, "  ok\n") {
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
	missing := filepath.Join(data, "backups", "nonexist.db")
	if code, _, errs := run(t, "db", "restore", missing, "--config", p); code != 1 || !strings.HasSuffix(errs, "backup file "+missing+" does not exist (qunguan db backups lists the backups)\n") {
		t.Errorf("restore of a missing backup: %d %q", code, errs)
	}
	if code, out, errs := run(t, "db", "restore", backup, "--config", p); code != 0 || !strings.Contains(out, "restored") ||
		!strings.Contains(out, "kept as "+file+".damaged-") {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "db", "check", "--config", p); code != 0 {
		t.Errorf("check after restore: %d %q", code, errs)
	}
	if code, out, errs := run(t, "db", "compact", "--config", p); code != 0 || !strings.Contains(out, "compacted") {
		t.Errorf("compact: %d %q %q", code, out, errs)
	}
}

func TestHumanSize(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{69632, "69.6 kB"},
		{999_949, "999.9 kB"},
		{999_950, "1.0 MB"},
		{12_345_678, "12.3 MB"},
		{3_000_000_000, "3.0 GB"},
		{5_000_000_000_000_000, "5000.0 TB"},
	} {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestWriteBackups(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 11, 22, 1, 53, 36, 0, time.UTC)
	var b bytes.Buffer
	err := writeBackups(&b, []store.Backup{
		{Path: "data/backups/qunguan-20261122T015336Z-manual.db", Time: at, Reason: "manual", Size: 69632},
		{Path: "data/backups/qunguan-20261122T015336Z-pre-compact.db", Time: at, Reason: "pre-compact", Size: 512,
			Err: fmt.Errorf("%w: meta page checksum mismatch", store.ErrDamaged)},
	}, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	want := `path                                                  taken                    kind         size     status
data/backups/qunguan-20261122T015336Z-manual.db       2026-11-22 09:53:36 CST  manual       69.6 kB  ok
data/backups/qunguan-20261122T015336Z-pre-compact.db  2026-11-22 09:53:36 CST  pre-compact  512 B    damaged: meta page checksum mismatch
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

// A secret the bot's service has but this shell does not (a webhook
// token) blocks neither the offline commands nor is it forgotten by run
// and check-config.
func TestOfflineCommandsIgnoreUnsetSecrets(t *testing.T) {
	const unset = "QUNGUAN_TEST_UNSET_HOOK"
	p, data := writeConfig(t, "platform: sim\nalerts:\n  webhook_url: ${"+unset+"}\n")
	db, err := store.Open(data, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	warning := "qunguan: warning: " + p + ":3: alerts.webhook_url: environment variable " + unset + " is not set; left empty (this command does not need it)\n"
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"db", "check"}, 0, "database ok"},
		{[]string{"db", "backups"}, 0, "no backups"},
		{[]string{"audit", "verify"}, 0, "audit chain ok"},
		{[]string{"stats", "--group", "无此群"}, 1, ""},
		{[]string{"export", "--group", "无此群", "--quiet"}, 1, ""},
	} {
		code, out, errs := run(t, append(tt.args, "--config", p)...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.HasPrefix(errs, warning) || strings.Contains(errs, "is not set\n") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tt.args, code, out, errs)
		}
		if tt.code == 1 && !strings.Contains(errs, `no group matches "无此群"`) {
			t.Errorf("%v did not get as far as the store: %q", tt.args, errs)
		}
	}
	for _, cmd := range []string{"check-config", "run"} {
		code, _, errs := run(t, cmd, "--config", p)
		if want := "qunguan: " + p + ":3: alerts.webhook_url: environment variable " + unset + " is not set\n"; code != 1 || errs != want {
			t.Errorf("%s: exit %d, stderr %q, want %q", cmd, code, errs, want)
		}
	}
}
