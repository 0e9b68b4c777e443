package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
)

// TestPluginConvention checks that every plugin has its folder with a
// README.md and a sample.yaml, and that the sample is a valid config
// section for it.
func TestPluginConvention(t *testing.T) {
	all := All()
	seen := map[string]bool{}
	for _, p := range all {
		name := p.Name()
		if seen[name] {
			t.Errorf("plugin %s listed twice", name)
		}
		seen[name] = true
		for _, f := range []string{"README.md", "sample.yaml"} {
			if _, err := os.Stat(filepath.Join(name, f)); err != nil {
				t.Errorf("plugin %s: %v", name, err)
			}
		}
		sample, err := os.ReadFile(filepath.Join(name, "sample.yaml"))
		if err != nil {
			continue
		}
		if _, ok := p.(bot.Configurable); !ok {
			continue
		}
		var b strings.Builder
		b.WriteString("plugins:\n  " + name + ":\n")
		for _, line := range strings.Split(string(sample), "\n") {
			b.WriteString("    " + line + "\n")
		}
		if _, err := bot.ParseConfig(name+"/sample.yaml", []byte(b.String()), all); err != nil {
			t.Errorf("plugin %s: sample does not validate: %v", name, err)
		}
	}
	// Every folder is a listed plugin, so none is forgotten in All.
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !seen[e.Name()] && e.Name() != "testdata" {
			t.Errorf("folder plugins/%s is not in plugins.All", e.Name())
		}
	}
}
