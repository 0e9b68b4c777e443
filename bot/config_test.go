package bot

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type testPlugin struct{}

type testPluginConfig struct {
	Enabled bool     `yaml:"enabled"`
	Window  Duration `yaml:"window"`
	Words   []string `yaml:"words"`
}

func (c *testPluginConfig) Validate() error {
	if c.Window < 0 || c.Window.D() > time.Hour {
		return &FieldError{Path: "window", Msg: "must be between 0 and 1h"}
	}
	return nil
}

func (testPlugin) Name() string { return "welcome" }
func (testPlugin) DefaultConfig() any {
	return &testPluginConfig{Enabled: true, Window: Duration(30 * time.Second)}
}

func TestParseConfigOverrides(t *testing.T) {
	src := `
language: zh
operators: [运营-王老师]
plugins:
  welcome:
    window: 1m
    words: [a]
groups:
  - name: 技术群
    plugins:
      welcome:
        enabled: false
  - pattern: "课程*"
    language: en
`
	cfg, err := ParseConfig("c.yaml", []byte(src), []Plugin{testPlugin{}})
	if err != nil {
		t.Fatal(err)
	}
	global := cfg.PluginConfig("welcome", "").(*testPluginConfig)
	if !global.Enabled || global.Window.D() != time.Minute || len(global.Words) != 1 {
		t.Errorf("global = %+v", global)
	}
	g := cfg.PluginConfig("welcome", "技术群").(*testPluginConfig)
	// The group override changes only what it names; the rest comes from
	// the global section, which came from the defaults.
	if g.Enabled || g.Window.D() != time.Minute || len(g.Words) != 1 {
		t.Errorf("group = %+v", g)
	}
	if !cfg.Manages("课程2026春") || cfg.Manages("闲聊") {
		t.Error("pattern matching of managed groups is wrong")
	}
	if cfg.LangFor("课程2026春") != LangEN || cfg.LangFor("技术群") != LangZH {
		t.Error("per-group language is wrong")
	}
	if !cfg.IsOperator("运营-王老师") || cfg.IsOperator("王老师") {
		t.Error("operator check is wrong")
	}
	if !cfg.Wechat.MediaDownload || cfg.Wechat.MediaMaxSize != 50<<20 {
		t.Errorf("media defaults = %v %v, want true 50MB", cfg.Wechat.MediaDownload, cfg.Wechat.MediaMaxSize)
	}
	if cfg.Location.String() != "Asia/Shanghai" {
		t.Errorf("location = %v", cfg.Location)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"unknown top key", "language: zh\nlangauge: en\n", 2, `unknown key "langauge"`},
		{"unknown nested key", "pacer:\n  burst: 2\n  brust: 3\n", 3, `unknown key "brust" in pacer`},
		{"unknown plugin", "plugins:\n  welcom: {}\n", 2, `no plugin named "welcom"`},
		{"unknown plugin key", "plugins:\n  welcome:\n    windw: 3s\n", 3, `unknown key "windw" in plugins.welcome`},
		{"plugin validation", "plugins:\n  welcome:\n    window: 2h\n", 3, "plugins.welcome.window: must be between 0 and 1h"},
		{"group plugin validation", "groups:\n  - name: a\n    plugins:\n      welcome:\n        window: 5h\n", 5, "groups[0].plugins.welcome.window"},
		{"bad duration", "plugins:\n  welcome:\n    window: soon\n", 3, "needs a number"},
		{"bad type", "pacer:\n  burst: many\n", 2, `pacer.burst: "many" is not a whole number`},
		{"bad bool", "manage_all_groups: maybe\n", 1, `manage_all_groups: "maybe" is not true or false`},
		{"fraction for a whole number", "pacer:\n  burst: 2.5\n", 2, `pacer.burst: "2.5" is not a whole number`},
		{"number too large", "pacer:\n  burst: 99999999999999999999\n", 2, `pacer.burst: "99999999999999999999" is too large`},
		{"scalar for a list", "operators: 王老师\n", 1, `operators: must be a list ([a, b], or one "- item" per line), not "王老师"`},
		{"mapping for a value", "pacer:\n  burst:\n    a: 1\n", 3, "pacer.burst: must be a single value, not a mapping"},
		{"scalar for a section", "pacer: fast\n", 1, `pacer: must be a mapping (key: value lines), not "fast"`},
		{"list for a section", "pacer:\n  - 1\n", 2, "pacer: must be a mapping (key: value lines), not a list"},
		{"plugin bad bool", "plugins:\n  welcome:\n    enabled: maybe\n", 3, `plugins.welcome.enabled: "maybe" is not true or false`},
		{"group plugin bad list", "groups:\n  - name: a\n    plugins:\n      welcome:\n        words: x\n", 5, "groups[0].plugins.welcome.words: must be a list"},
		{"key given twice", "pacer:\n  burst: 1\n  burst: 2\n", 3, "pacer.burst: given twice (first on line 2)"},
		{"duration without a known unit", "pacer:\n  interval: 3 seconds\n", 2,
			`pacer.interval: duration "3 seconds": "seconds" is not a unit; write it like 3s, 2m, 1h, 3d, 1w or 3天`},
		{"duration in a flow mapping", "pacer: {burst: 2, interval: soon}\n", 1, `pacer.interval: duration "soon" needs a number`},
		{"plugin duration", "plugins:\n  welcome:\n    window: 3 seconds\n", 3, `plugins.welcome.window: duration "3 seconds"`},
		{"syntax: indentation", "pacer:\n  interval: 3s\n bad: x\n", 3, "the indentation of this line does not match the lines above it"},
		{"syntax: indentation deep in a file", "language: zh\npacer:\n  interval: 3s\n  burst: 2\n  jitter: 1s\n max_attempts: 3\n", 6, "the indentation of this line"},
		{"syntax: list indentation", "operators:\n  - a\n  - b\n - c\n", 4, "does not match"},
		{"syntax: tab", "pacer:\n\tburst: 2\n", 2, "a tab indents this line; YAML is indented with spaces only"},
		{"syntax: unclosed list", "operators: [a, b\nlanguage: zh\n", 1, `a list opened with "[" is not closed with "]"`},
		{"syntax: after a list over lines", "operators: [a,\n  b]\nlanguage: zh: en\n", 3, `unexpected ":" here`},
		{"syntax: unclosed quote", "language: zh\ntexts:\n  a.b:\n    zh: \"你好\n", 4, "a quote opened on this line is not closed"},
		{"syntax: no colon", "language: zh\nplatform\nmanage_all_groups: true\n", 2, `a key without ":"`},
		{"syntax: reserved character", "language: zh\nplatform: @sim\n", 2, "quote the value"},
		{"bad timezone", "timezone: Mars/Olympus\n", 1, "unknown time zone"},
		{"bad language", "language: fr\n", 1, "not zh or en"},
		{"group without name", "groups:\n  - language: en\n", 2, "exactly one of name or pattern"},
		{"syntax", "language: zh\n  bad: [\n", 2, `unexpected ":" here: either the indentation is off, or a value contains ": " and must be quoted`},
		{"missing env", "alerts:\n  webhook_url: ${QUNGUAN_TEST_UNSET_VAR}\n", 2, "QUNGUAN_TEST_UNSET_VAR is not set"},
		{"bad cron", "store:\n  backup_cron: every day\n", 2, "bad cron spec"},
		{"bad size", "wechat:\n  media_max_size: huge\n", 2, "not a number with an optional unit"},
		{"zero size", "wechat:\n  media_max_size: 0MB\n", 2, "media_max_size: must be positive"},
		{"empty", "", 0, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("conf.yaml", []byte(tt.src), []Plugin{testPlugin{}})
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			if ce.File != "conf.yaml" || ce.Line != tt.line || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("got %q (line %d), want line %d containing %q", ce.Error(), ce.Line, tt.line, tt.msg)
			}
		})
	}
}

func TestConfigEnvSecret(t *testing.T) {
	t.Setenv("QUNGUAN_TEST_HOOK", "https://example.test/hook?key=secret")
	src := "alerts:\n  webhook_url: ${QUNGUAN_TEST_HOOK}\n"
	cfg, err := ParseConfig("c.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Alerts.WebhookURL != "https://example.test/hook?key=secret" {
		t.Errorf("webhook = %q", cfg.Alerts.WebhookURL)
	}
	if strings.Contains(string(cfg.Redacted()), "secret") {
		t.Error("redacted config leaks the secret")
	}
}

// YAML 1.1 yes/no still read as booleans (yaml.v3 accepts them), and a
// whole number written as a float is a whole number.
func TestParseConfigLenientScalars(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte("manage_all_groups: yes\npacer:\n  burst: 3.0\n  interval: 3 s\noperators:\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ManageAllGroups || cfg.Pacer.Burst != 3 || cfg.Pacer.Interval.D() != 3*time.Second || len(cfg.Operators) != 0 {
		t.Errorf("cfg = %+v", cfg)
	}
}

func TestPlainSyntax(t *testing.T) {
	for _, tt := range []struct{ problem, line, want string }{
		{"did not find expected key", " bad: x\n", "the indentation of this line does not match the lines above it"},
		{"found character that cannot start any token", "\tb: 2\n", "a tab indents this line; YAML is indented with spaces only"},
		{"found character that cannot start any token", "a: `x`\n", "a value starts with a character YAML reserves (such as @ or `): quote the value"},
		{"found unknown escape character", `a: "C:\q"`, `unknown escape (\ and a letter) in a double-quoted value: use single quotes, or write \\ for a backslash`},
		{"unknown anchor 'x' referenced", "a: *x\n", "unknown anchor 'x' referenced (an alias *name needs an anchor &name above it)"},
		{"something new", "", "something new"},
	} {
		if got := plainSyntax(tt.problem, tt.line); got != tt.want {
			t.Errorf("plainSyntax(%q, %q) = %q, want %q", tt.problem, tt.line, got, tt.want)
		}
	}
}

// The offline commands load a config whose secrets are not in their
// shell: unset ${VAR}s are left empty and named, except in data_dir; the
// bot's own loading still refuses them.
func TestLoadConfigOffline(t *testing.T) {
	const unset = "QUNGUAN_TEST_UNSET_HOOK"
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("platform: sim\nalerts:\n  webhook_url: ${" + unset + "}\n")
	if _, err := LoadConfig(p, nil); err == nil || err.Error() != p+":3: alerts.webhook_url: environment variable "+unset+" is not set" {
		t.Errorf("LoadConfig: %v", err)
	}
	cfg, err := LoadConfigOffline(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{p + ":3: alerts.webhook_url: environment variable " + unset + " is not set; left empty"}
	if cfg.Alerts.WebhookURL != "" || !slices.Equal(cfg.UnsetEnv, want) {
		t.Errorf("offline: webhook %q, UnsetEnv %q", cfg.Alerts.WebhookURL, cfg.UnsetEnv)
	}

	for _, tt := range []struct{ body, want string }{
		{"data_dir: ${" + unset + "}/data\n", ":1: data_dir: environment variable " + unset + " is not set"},
		{"alerts:\n  webhook_url: ${" + unset + "}/hook\n", ":2: alerts.webhook_url: must be an http:// or https:// URL (environment variable " + unset + " is not set)"},
	} {
		p := write(tt.body)
		if _, err := LoadConfigOffline(p, nil); err == nil || err.Error() != p+tt.want {
			t.Errorf("offline %q: %v, want %q", tt.body, err, p+tt.want)
		}
	}
}

type reportPlugin struct{}

type reportConfig struct {
	Cron   string `yaml:"cron"`
	Limit  int    `yaml:"limit"`
	Nested struct {
		A int `yaml:"a"`
		B int `yaml:"b"`
	} `yaml:"nested"`
}

func (*reportConfig) GlobalOnlyKeys() []string { return []string{"cron", "nested.a"} }

func (reportPlugin) Name() string       { return "report" }
func (reportPlugin) DefaultConfig() any { return &reportConfig{Cron: "0 9 * * 1", Limit: 5} }

type wholePlugin struct{}

type wholeConfig struct {
	Cap int `yaml:"cap"`
}

func (*wholeConfig) GlobalOnlyKeys() []string { return []string{"*"} }

func (wholePlugin) Name() string       { return "inviter" }
func (wholePlugin) DefaultConfig() any { return &wholeConfig{} }

// Keys a plugin declares global only are refused in a group's override,
// where they would be ignored; the others are overridden as usual.
func TestGlobalOnlyKeys(t *testing.T) {
	ps := []Plugin{reportPlugin{}, wholePlugin{}}
	ok := "plugins:\n  report:\n    cron: 0 8 * * 1\n    nested: {a: 1}\n  inviter:\n    cap: 3\n" +
		"groups:\n  - name: g\n    plugins:\n      report:\n        limit: 9\n        nested:\n          b: 2\n"
	cfg, err := ParseConfig("c.yaml", []byte(ok), ps)
	if err != nil {
		t.Fatal(err)
	}
	if g := cfg.PluginConfig("report", "g").(*reportConfig); g.Limit != 9 || g.Cron != "0 8 * * 1" || g.Nested.A != 1 || g.Nested.B != 2 {
		t.Errorf("group config = %+v", g)
	}
	for _, tt := range []struct {
		name, src string
		line      int
		msg       string
	}{
		{"global-only key", "groups:\n  - name: g\n    plugins:\n      report:\n        limit: 9\n        cron: 0 8 * * *\n", 6,
			"groups[0].plugins.report.cron: cannot be set per group, it applies to all groups; set it under plugins.report.cron"},
		{"nested global-only key", "groups:\n  - name: a\n  - pattern: b*\n    plugins:\n      report:\n        nested:\n          a: 1\n", 7,
			"groups[1].plugins.report.nested.a: cannot be set per group"},
		{"global-only plugin", "groups:\n  - name: g\n    plugins:\n      inviter:\n        cap: 3\n", 4,
			"groups[0].plugins.inviter: the inviter plugin cannot be configured per group; configure it under plugins.inviter"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tt.src), ps)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Line != tt.line || !strings.HasPrefix(ce.Msg, tt.msg) {
				t.Errorf("got %v, want line %d: %s", err, tt.line, tt.msg)
			}
		})
	}
}

// A config without operators is valid, but nobody could confirm anything:
// it carries a warning.
func TestNoOperatorsWarning(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"platform: sim\n", "c.yaml: operators: none are listed, so nobody can use operator commands or /confirm"},
		{"platform: sim\noperators: []\n", "c.yaml:2: operators: none are listed"},
		{"platform: sim\noperators: [王老师]\n", ""},
	} {
		cfg, err := ParseConfig("c.yaml", []byte(tt.src), nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == "" && len(cfg.Warnings) != 0 || tt.want != "" && (len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], tt.want)) {
			t.Errorf("%q: warnings %q, want %q", tt.src, cfg.Warnings, tt.want)
		}
	}
}
