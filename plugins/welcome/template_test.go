package welcome

import (
	"strings"
	"testing"
)

func TestCheckTemplate(t *testing.T) {
	cases := []struct {
		tmpl string
		bad  string // the placeholder named in the error, "" for valid
	}{
		{"", ""},
		{"欢迎 {names} 加入 {group}，第 {members} 位，共 {count} 人，{inviter} 邀请。{rules}", ""},
		{"欢迎 {name}", "{name}"},
		{"{names}{Names}", "{Names}"},
		{"花括号里不是变量 {不是} 也没关系", ""},
		{"JSON 样例 {\"a\": 1}", ""},
	}
	for _, c := range cases {
		err := checkTemplate(c.tmpl, Placeholders)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%q: %v", c.tmpl, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%q: got %v, want an error naming %s", c.tmpl, err, c.bad)
		}
	}
	// Goodbye lines have no {rules} or {inviter}.
	if err := checkTemplate("{names} 走了，{rules}", Placeholders[:4]); err == nil {
		t.Error("{rules} accepted in a goodbye line")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		path   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"negative window", func(c *Config) { c.Window = -1 }, "window"},
		{"window too long", func(c *Config) { c.Window = 11 * 60 * 1e9 }, "window"},
		{"negative cooldown", func(c *Config) { c.Cooldown = -1 }, "cooldown"},
		{"no names", func(c *Config) { c.MaxNames = 0 }, "max_names"},
		{"bad template", func(c *Config) { c.Template = "{who}" }, "template"},
		{"bad goodbye", func(c *Config) { c.GoodbyeTemplate = "{inviter}" }, "goodbye_template"},
	}
	for _, c := range cases {
		cfg := New().DefaultConfig().(*Config)
		c.change(cfg)
		err := cfg.Validate()
		if c.path == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.path+":") {
			t.Errorf("%s: got %v, want an error at %s", c.name, err, c.path)
		}
	}
}
