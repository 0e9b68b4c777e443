package moderation

import (
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(c *Config)
		path   string // the FieldError path; "" for valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"bad exempt", func(c *Config) { c.Exempt = "admins" }, "exempt"},
		{"reserved category", func(c *Config) { c.Categories = map[string]*Category{"flood": {Words: []string{"x"}}} }, "categories.flood"},
		{"bad category action", func(c *Config) { c.Categories = map[string]*Category{"ads": {Action: "ban"}} }, "categories.ads.action"},
		{"negative points", func(c *Config) { c.Categories = map[string]*Category{"ads": {Points: -1}} }, "categories.ads.points"},
		{"steps not increasing", func(c *Config) { c.Ladder.Steps = []Step{{Points: 3, Action: "warn"}, {Points: 3, Action: "remove"}} }, "ladder.steps[1].points"},
		{"log is not a step", func(c *Config) { c.Ladder.Steps = []Step{{Points: 3, Action: "log"}} }, "ladder.steps[0].action"},
		{"no decay", func(c *Config) { c.Ladder.Decay = 0 }, "ladder.decay"},
		{"flood count of one", func(c *Config) { c.Flood.Rate.Messages = 1 }, "flood.rate"},
		{"flood without window", func(c *Config) { c.Flood.Repeat.Within = 0 }, "flood.repeat.within"},
		{"flood off needs no window", func(c *Config) { c.Flood.Wave = WaveCheck{} }, ""},
		{"bad flood action", func(c *Config) { c.Flood.Wave.Action = "kick" }, "flood.wave.action"},
		{"min length", func(c *Config) { c.Flood.MinLength = 0 }, "flood.min_length"},
		{"bad allow entry", func(c *Config) { c.Allow = []string{"re:("} }, "allow[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := defaultConfig()
			c.change(cfg)
			err := cfg.Validate()
			if c.path == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			fe, ok := err.(*bot.FieldError)
			if !ok || fe.Path != c.path {
				t.Fatalf("got %v, want a FieldError at %s", err, c.path)
			}
		})
	}
}

func TestCategoryDefaults(t *testing.T) {
	cfg := defaultConfig()
	cfg.Categories = map[string]*Category{"ads": {Words: []string{"代购"}, Points: 1}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ads := cfg.Categories["ads"]
	if ads.Action != "warn" || ads.level != LevelWarn || ads.Label.In(bot.LangZH) != "ads" {
		t.Errorf("defaults not applied: %+v", ads)
	}
	wl := cfg.compiled
	if wl == nil || wl.m == nil || wl.words != 1 || len(wl.fingerprint) != 12 {
		t.Fatalf("not compiled: %+v", wl)
	}
	if hits := wl.m.Match("专业代 购", nil); len(hits) != 1 || wl.rules[hits[0].Pattern].category != "ads" {
		t.Errorf("hits = %+v", hits)
	}
	// The same lists give the same fingerprint; a change gives another.
	again := defaultConfig()
	again.Categories = map[string]*Category{"ads": {Words: []string{"代购"}, Points: 1}}
	if err := again.Validate(); err != nil || again.compiled.fingerprint != wl.fingerprint {
		t.Errorf("fingerprint not stable: %v", err)
	}
	again.Categories["ads"].Words = append(again.Categories["ads"].Words, "海淘")
	if err := again.Validate(); err != nil || again.compiled.fingerprint == wl.fingerprint {
		t.Errorf("fingerprint did not change: %v", err)
	}
}

func TestExemptRole(t *testing.T) {
	for exempt, want := range map[string]bot.Role{"admin": bot.RoleAdmin, "operator": bot.RoleOperator, "none": bot.RoleOwner} {
		if got := (&Config{Exempt: exempt}).exemptRole(); got != want {
			t.Errorf("%s: %v, want %v", exempt, got, want)
		}
	}
}

func TestReadEntries(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/w.txt"
	writeFile(t, path, "\ufeff# header\n\n  加微信  \r\nre:v[x信]\\d+\n#comment\nC#\n")
	entries, lines, err := readEntries(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"加微信", `re:v[x信]\d+`, "C#"}
	wantLines := []int{3, 4, 6}
	if strings.Join(entries, "|") != strings.Join(want, "|") || len(lines) != 3 || lines[0] != wantLines[0] || lines[1] != wantLines[1] || lines[2] != wantLines[2] {
		t.Errorf("entries %q lines %v, want %q %v", entries, lines, want, wantLines)
	}
}
