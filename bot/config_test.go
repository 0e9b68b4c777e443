package bot

import (
	"errors"
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
		{"bad type", "pacer:\n  burst: many\n", 2, "cannot unmarshal"},
		{"bad timezone", "timezone: Mars/Olympus\n", 1, "unknown time zone"},
		{"bad language", "language: fr\n", 1, "not zh or en"},
		{"group without name", "groups:\n  - language: en\n", 2, "exactly one of name or pattern"},
		{"syntax", "language: zh\n  bad: [\n", 2, ""},
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
