// Package export turns a group's recorded history into an archive that
// people can keep: /export (/导出) in chat, the export step of the
// dissolve lifecycle (plugins/countdown) and `qunguan export` on the
// command line all write the same archive through plugins/export/archive,
// which re-reads and verifies it before anyone may rely on it. The
// finished archive goes to the operator who asked, by DM where the
// platform can send a file of its size, else they are told its path.
// Archives are deleted after a retention window (default 30 days) by a
// daily job.
package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export/archive"
)

// Config is the export plugin's config section; per-group overrides apply
// to everything but Dir, Retention and RetentionCron, which are global.
type Config struct {
	// Dir is where archives are written: <dir>/<group id>/<job>/. A
	// relative path is inside the data dir.
	Dir string `yaml:"dir"`
	// Formats lists what an archive holds: jsonl, csv, xlsx, html, media,
	// or all. The member list and the manifest are always written.
	Formats []string `yaml:"formats"`
	// Redact masks phone numbers and ID-card numbers (脱敏) in everything
	// the archive holds.
	Redact bool `yaml:"redact"`
	// Recipients are age public keys (age1...). With any, the archive is
	// kept only as an encrypted .zip.age that those keys open.
	Recipients []string `yaml:"recipients"`
	// Retention deletes archives older than this; 0 keeps them forever.
	Retention bot.Duration `yaml:"retention"`
	// RetentionCron is when the deletion runs (cron syntax).
	RetentionCron string `yaml:"retention_cron"`
	// SendMaxMB is the largest archive (in MB) sent to an operator by DM;
	// bigger ones are announced with their path. 0 never sends files.
	SendMaxMB int `yaml:"send_max_mb"`
}

// GlobalOnlyKeys implements bot.GlobalOnly: archives of all groups go
// into one folder, pruned by one job.
func (c *Config) GlobalOnlyKeys() []string { return []string{"dir", "retention", "retention_cron"} }

// Validate checks the config.
func (c *Config) Validate() error {
	if _, err := c.formats(); err != nil {
		return &bot.FieldError{Path: "formats", Msg: err.Error()}
	}
	for i, r := range c.Recipients {
		if _, err := age.ParseRecipients(strings.NewReader(r)); err != nil {
			return &bot.FieldError{Path: fmt.Sprintf("recipients[%d]", i), Msg: "not an age recipient (age1...): " + err.Error()}
		}
	}
	if c.Retention < 0 {
		return &bot.FieldError{Path: "retention", Msg: "must not be negative"}
	}
	if c.Retention > 0 && c.Retention < bot.Duration(time.Hour) {
		return &bot.FieldError{Path: "retention", Msg: "must be at least 1h (or 0 to keep archives)"}
	}
	if _, err := bot.ParseCron(c.RetentionCron); err != nil {
		return &bot.FieldError{Path: "retention_cron", Msg: err.Error()}
	}
	if c.SendMaxMB < 0 {
		return &bot.FieldError{Path: "send_max_mb", Msg: "must not be negative"}
	}
	return nil
}

func (c *Config) formats() (archive.Format, error) {
	if len(c.Formats) == 0 {
		return archive.AllFormats, nil
	}
	return archive.ParseFormats(strings.Join(c.Formats, ","))
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{
		Dir:           "exports",
		Formats:       []string{"all"},
		Retention:     bot.Duration(archive.DefaultRetention),
		RetentionCron: "40 3 * * *",
		SendMaxMB:     25,
	}
}

// Plugin is the export plugin.
type Plugin struct {
	// FS receives every archive write; nil means the operating system.
	// Tests put a file system here that fails part-way.
	FS archive.FS

	env *bot.Env

	mu   sync.Mutex
	busy map[bot.GroupID]string // group -> job being written
}

// New returns the plugin.
func New() *Plugin { return &Plugin{busy: map[bot.GroupID]string{}} }

// Name implements bot.Plugin.
func (p *Plugin) Name() string { return "export" }

// DefaultConfig implements bot.Configurable.
func (p *Plugin) DefaultConfig() any { return DefaultConfig() }

// Init implements bot.Initializer: it registers the retention job.
func (p *Plugin) Init(env *bot.Env) error {
	p.env = env
	return p.armRetention()
}

// Reload implements bot.Reloader: the retention job follows the config.
func (p *Plugin) Reload(ctx context.Context) error { return p.armRetention() }

func (p *Plugin) armRetention() error {
	cfg := bot.ConfigFor[Config](p.env, "")
	return p.env.Cron("retention", cfg.RetentionCron, p.prune)
}

// Root is the folder archives are written under.
func Root(global *bot.Config, cfg *Config) string {
	if filepath.IsAbs(cfg.Dir) {
		return cfg.Dir
	}
	return filepath.Join(global.DataPath(), cfg.Dir)
}

func (p *Plugin) root() string {
	return Root(p.env.Global(), bot.ConfigFor[Config](p.env, ""))
}

// Job asks for one archive of a group. Its ID is stable across retries:
// an attempt that did not finish (the process died) is thrown away and
// written again, and a finished one is returned as it is.
type Job struct {
	ID     string
	Group  bot.GroupID
	By     string // who asked, for the audit log
	Reason string // "command", "lifecycle", ...
	// GroupName is the name the archive goes by; empty: the current name.
	GroupName string
}

// Outcome describes a finished, verified archive.
type Outcome struct {
	Job   string      `json:"job"`
	Group bot.GroupID `json:"group"`
	Name  string      `json:"name"`
	// Dir and Zip are the folder and its zip; both empty when encrypted.
	Dir string `json:"dir,omitempty"`
	Zip string `json:"zip,omitempty"`
	// Encrypted is the .zip.age file when the archive is encrypted.
	Encrypted string `json:"encrypted,omitempty"`
	// File is what to hand out (Zip or Encrypted), Size its size and
	// FileSHA256 its hash at export.
	File           string    `json:"file"`
	Size           int64     `json:"size"`
	FileSHA256     string    `json:"file_sha256"`
	ManifestSHA256 string    `json:"manifest_sha256"`
	Created        time.Time `json:"created"`
	Records        int64     `json:"records"`
	Messages       int64     `json:"messages"`
	Days           int       `json:"days"`
	Reconciled     bool      `json:"reconciled"`
	WindowStart    time.Time `json:"window_start"`
	WindowEnd      time.Time `json:"window_end"`
	Gaps           []Gap     `json:"gaps,omitempty"`
	OfflineSeconds int64     `json:"offline_seconds"`
	// Redacted counts the phone and ID numbers masked; -1 when redaction
	// was off.
	Redacted int64 `json:"redacted"`
}

// Gap is a period within the archive's window when the bot was offline.
type Gap struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// ErrBusy is returned when an export of the group is already running.
var ErrBusy = errors.New("an export of this group is already running")

func (p *Plugin) claim(g bot.GroupID, job string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur, ok := p.busy[g]; ok && cur != job {
		return false
	}
	p.busy[g] = job
	return true
}

func (p *Plugin) release(g bot.GroupID) {
	p.mu.Lock()
	delete(p.busy, g)
	p.mu.Unlock()
}

// Busy reports the job being written for g, if any.
func (p *Plugin) Busy(g bot.GroupID) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	j, ok := p.busy[g]
	return j, ok
}

// nextID returns a fresh sequential id with the prefix ("x3").
func (p *Plugin) nextID(ctx context.Context, prefix string) (string, error) {
	var n int
	err := p.env.KV.Update(ctx, "seq", func(old []byte) ([]byte, error) {
		if old != nil {
			n, _ = strconv.Atoi(string(old))
		}
		n++
		return []byte(strconv.Itoa(n)), nil
	})
	return prefix + strconv.Itoa(n), err
}

// jobDir is where one job's archive lives.
func (p *Plugin) jobDir(j Job) string {
	return filepath.Join(p.root(), string(j.Group), j.ID)
}

// dirEmpty reports whether dir holds nothing (or does not exist).
func dirEmpty(dir string) bool {
	es, err := os.ReadDir(dir)
	return err == nil && len(es) == 0 || errors.Is(err, os.ErrNotExist)
}

var (
	_ bot.Configurable = (*Plugin)(nil)
	_ bot.Initializer  = (*Plugin)(nil)
	_ bot.Reloader     = (*Plugin)(nil)
	_ bot.Commander    = (*Plugin)(nil)
	_ bot.Texter       = (*Plugin)(nil)
)
