package qunguan_test

import (
	"strings"
	"testing"

	"github.com/qunguan/qunguan"
	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins"
)

// TestExampleConfig checks that the embedded example is valid and that
// every key has a comment line above it.
func TestExampleConfig(t *testing.T) {
	if _, err := bot.ParseConfig("config.example.yaml", qunguan.ExampleConfig, plugins.All()); err != nil {
		t.Fatalf("example config: %v", err)
	}
	lines := strings.Split(string(qunguan.ExampleConfig), "\n")
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		isKey := strings.Contains(trimmed, ":") && !strings.HasPrefix(trimmed, "- ") ||
			strings.HasPrefix(trimmed, "- name:") || strings.HasPrefix(trimmed, "- pattern:")
		if !isKey {
			continue
		}
		prev := ""
		if i > 0 {
			prev = strings.TrimSpace(lines[i-1])
		}
		if !strings.HasPrefix(prev, "#") {
			t.Errorf("config.example.yaml:%d: key without a comment above it: %s", i+1, trimmed)
		}
	}
}
