package bot

import (
	"path/filepath"
	"testing"
)

type dirPlugin struct{}

type dirPluginConfig struct {
	File string `yaml:"file"`
	dir  string
}

func (c *dirPluginConfig) SetConfigDir(dir string) { c.dir = dir }

func (c *dirPluginConfig) Validate() error {
	if c.dir == "" {
		return &FieldError{Path: "file", Msg: "config dir not set before Validate"}
	}
	return nil
}

func (dirPlugin) Name() string       { return "words" }
func (dirPlugin) DefaultConfig() any { return &dirPluginConfig{} }

func TestConfigDirIsSetBeforeValidate(t *testing.T) {
	path := filepath.Join("some", "where", "config.yaml")
	src := "plugins:\n  words:\n    file: a.txt\ngroups:\n  - name: g\n    plugins:\n      words:\n        file: b.txt\n"
	cfg, err := ParseConfig(path, []byte(src), []Plugin{dirPlugin{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "g"} {
		c := cfg.PluginConfig("words", name).(*dirPluginConfig)
		if want := filepath.Join("some", "where"); c.dir != want {
			t.Errorf("group %q: dir = %q, want %q", name, c.dir, want)
		}
	}
}
