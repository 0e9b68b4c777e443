package bottest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/simbot"
)

var update = flag.Bool("update", false, "rewrite the expectations of golden scenarios")

// RunScenarios runs every scenario matching glob as a subtest.
func RunScenarios(t *testing.T, glob string, plugins func() []bot.Plugin) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios match %s (%v)", glob, err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			RunScenario(t, f, plugins)
		})
	}
}

// RunScenario runs one scenario file and compares (or rewrites) its expectations.
func RunScenario(t *testing.T, path string, plugins func() []bot.Plugin) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := simbot.ParseScenario(path, data)
	if err != nil {
		t.Fatal(err)
	}
	opts := simbot.Options{World: sc.Sections["world.yaml"], Config: sc.Sections["config.yaml"], Plugins: plugins}
	for _, o := range strings.Fields(sc.Sections["options"]) {
		switch o {
		case "weblike":
			opts.WebLike = true
		case "nologin":
			opts.NoLogin = true
		default:
			t.Fatalf("unknown option %q", o)
		}
	}
	h := New(t, opts)
	h.Actions() // login-time sends are not part of any step
	var got strings.Builder
	var want strings.Builder
	for i, line := range strings.Split(strings.TrimRight(sc.Sections["script"], "\n"), "\n") {
		if strings.HasPrefix(line, "> ") || line == ">" {
			want.WriteString(line + "\n")
			continue
		}
		got.WriteString(line + "\n")
		want.WriteString(line + "\n")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		out, err := h.Step(trimmed)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", path, i+1, trimmed, err)
		}
		got.WriteString(out)
	}
	if *update {
		if err := os.WriteFile(path, sc.Format(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if d := cmp.Diff(want.String(), got.String()); d != "" {
		t.Errorf("%s: actions differ (-want +got); run with -update to accept:\n%s", path, d)
	}
}
