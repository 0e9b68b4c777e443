// Package countdown ends groups well: a countdown announced to the members
// (or kept among operators in silent mode), reminders as the deadline
// nears, a freeze at the deadline, an export that must be written and
// verified before anything is destroyed, a readiness score explained to
// the operators, the dissolve itself (through the platform where it can,
// else an operator task that closes only when the bot observes the
// outcome), and a restore window afterwards. Every trigger that will
// destroy needs an operator's one-time code; every step is in the audit
// log.
//
// The lifecycle of a group is a state machine persisted in the plugin's
// KV (see Lifecycle). Each step is written there before it is taken and
// is safe to take again, and every message carries a persisted mark, so
// a crash at any point resumes at the right step without repeating an
// announcement. A destructive step whose time passed while the bot was
// down is not taken late: it waits for an operator to confirm again.
package countdown

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export"
)

// Archiver writes and checks a group's archive: the export plugin.
type Archiver interface {
	// Archive writes, re-reads and verifies the job's archive (or returns
	// the job's recorded archive if it already finished).
	Archive(ctx context.Context, j export.Job) (*export.Outcome, error)
	// Deliver hands an archive to a person by DM (or tells them its path).
	Deliver(ctx context.Context, to bot.Target, lang bot.Lang, o *export.Outcome, by string)
}

// Config is the countdown plugin's config section, overridable per group.
type Config struct {
	// Mode is "announced" (members are told in the group) or "silent"
	// (no group messages; operators only).
	Mode string `yaml:"mode"`
	// Reminders are the offsets before the deadline at which reminders go
	// out. Offsets not shorter than the countdown itself are skipped.
	Reminders []bot.Duration `yaml:"reminders"`
	// MaxLength is the longest countdown a command may set.
	MaxLength bot.Duration `yaml:"max_length"`
	// FreezePrefix goes before the group's name at the deadline where the
	// platform can rename; "" leaves the name alone.
	FreezePrefix string `yaml:"freeze_prefix"`
	// ReadinessThreshold is the score out of 100 below which the dissolve
	// is postponed.
	ReadinessThreshold int `yaml:"readiness_threshold"`
	// Postpone is how far a score under the threshold moves the deadline.
	Postpone bot.Duration `yaml:"postpone"`
	// MaxPostpones: after this many postponements the lifecycle halts and
	// waits for an operator.
	MaxPostpones int `yaml:"max_postpones"`
	// NoticeAhead is how long before the deadline members must have been
	// told for the readiness score's full "members told" points.
	NoticeAhead bot.Duration `yaml:"notice_ahead"`
	// RestoreWindow is how long after dissolving an operator may /restore.
	RestoreWindow bot.Duration `yaml:"restore_window"`
	// VerifyAfter is how long the bot waits to observe a dissolve the
	// platform reported done before it asks an operator to do it by hand.
	VerifyAfter bot.Duration `yaml:"verify_after"`
	// Rules start countdowns by themselves (each still needs an operator's
	// code). Usually set per group under groups[].plugins.countdown.
	Rules Rules `yaml:"rules"`
}

// Rules are the config triggers of a countdown.
type Rules struct {
	// AfterFirstSeen dissolves a group this long after the bot first saw
	// it (0: off).
	AfterFirstSeen bot.Duration `yaml:"after_first_seen"`
	// At dissolves at the next time this cron spec names, e.g. the end of
	// a course: "0 18 30 6 *" ("": off).
	At string `yaml:"at"`
	// InactiveFor dissolves a group after this long without a message
	// from a person (0: off). A person speaking cancels such a countdown.
	InactiveFor bot.Duration `yaml:"inactive_for"`
	// MinNotice is the least time between a rule's countdown starting and
	// its deadline; a deadline nearer than that is moved out.
	MinNotice bot.Duration `yaml:"min_notice"`
	// Reason is given to members in the announcement.
	Reason string `yaml:"reason"`
}

func (r Rules) any() bool { return r.AfterFirstSeen > 0 || r.At != "" || r.InactiveFor > 0 }

// Validate checks the config.
func (c *Config) Validate() error {
	if c.Mode != "announced" && c.Mode != "silent" {
		return &bot.FieldError{Path: "mode", Msg: fmt.Sprintf("%q is not announced or silent", c.Mode)}
	}
	for i, r := range c.Reminders {
		if r <= 0 {
			return &bot.FieldError{Path: fmt.Sprintf("reminders[%d]", i), Msg: "must be positive"}
		}
	}
	if c.MaxLength < bot.Duration(time.Hour) {
		return &bot.FieldError{Path: "max_length", Msg: "must be at least 1h"}
	}
	if c.ReadinessThreshold < 0 || c.ReadinessThreshold > 100 {
		return &bot.FieldError{Path: "readiness_threshold", Msg: "must be between 0 and 100"}
	}
	if c.Postpone < bot.Duration(time.Minute) {
		return &bot.FieldError{Path: "postpone", Msg: "must be at least 1m"}
	}
	if c.MaxPostpones < 0 {
		return &bot.FieldError{Path: "max_postpones", Msg: "must not be negative"}
	}
	if c.NoticeAhead < 0 || c.RestoreWindow < 0 {
		return &bot.FieldError{Path: "restore_window", Msg: "durations must not be negative"}
	}
	if c.VerifyAfter < bot.Duration(time.Minute) {
		return &bot.FieldError{Path: "verify_after", Msg: "must be at least 1m"}
	}
	if len([]rune(c.FreezePrefix)) > 10 {
		return &bot.FieldError{Path: "freeze_prefix", Msg: "at most 10 characters"}
	}
	if c.Rules.At != "" {
		if _, err := bot.ParseCron(c.Rules.At); err != nil {
			return &bot.FieldError{Path: "rules.at", Msg: err.Error()}
		}
	}
	if c.Rules.AfterFirstSeen < 0 || c.Rules.InactiveFor < 0 || c.Rules.MinNotice < 0 {
		return &bot.FieldError{Path: "rules", Msg: "durations must not be negative"}
	}
	return nil
}

// offsets returns the reminder offsets, longest first.
func (c *Config) offsets() []time.Duration {
	var out []time.Duration
	for _, r := range c.Reminders {
		out = append(out, r.D())
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return int((b - a) / time.Second) })
	return slices.Compact(out)
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	d := func(x time.Duration) bot.Duration { return bot.Duration(x) }
	day := 24 * time.Hour
	return &Config{
		Mode:               "announced",
		Reminders:          []bot.Duration{d(7 * day), d(3 * day), d(day), d(time.Hour), d(10 * time.Minute)},
		MaxLength:          d(180 * day),
		FreezePrefix:       "【已解散】",
		ReadinessThreshold: 60,
		Postpone:           d(day),
		MaxPostpones:       3,
		NoticeAhead:        d(day),
		RestoreWindow:      d(72 * time.Hour),
		VerifyAfter:        d(10 * time.Minute),
		Rules:              Rules{MinNotice: d(day)},
	}
}

// Plugin is the countdown plugin.
type Plugin struct {
	env  *bot.Env
	arch Archiver

	mu         sync.Mutex
	running    map[bot.GroupID]bool
	again      map[bot.GroupID]bool
	reconciled bool
	// inflight counts the group announcements of this process the pacer
	// has not delivered yet: nothing is dissolved before they are out.
	inflight map[bot.GroupID]int
}

// New returns the plugin; arch writes the archives (the export plugin).
func New(arch Archiver) *Plugin {
	return &Plugin{arch: arch, running: map[bot.GroupID]bool{}, again: map[bot.GroupID]bool{}, inflight: map[bot.GroupID]int{}}
}

// Name implements bot.Plugin.
func (p *Plugin) Name() string { return "countdown" }

// DefaultConfig implements bot.Configurable.
func (p *Plugin) DefaultConfig() any { return DefaultConfig() }

// Init implements bot.Initializer: rules are checked hourly.
func (p *Plugin) Init(env *bot.Env) error {
	p.env = env
	if p.arch == nil {
		return fmt.Errorf("countdown needs the export plugin")
	}
	return env.Cron("rules", "@hourly", p.checkRules)
}

func (p *Plugin) cfg(g bot.GroupID) *Config { return bot.ConfigFor[Config](p.env, g) }

func (p *Plugin) loc() *time.Location { return p.env.Global().Location }

func (p *Plugin) when(t time.Time) string { return t.In(p.loc()).Format("01-02 15:04") }

// announce sends text to the group and counts it until the pacer has
// delivered it (or given up on it).
func (p *Plugin) announce(ctx context.Context, g bot.GroupID, text string) {
	p.mu.Lock()
	p.inflight[g]++
	p.mu.Unlock()
	p.env.SendThen(ctx, bot.ToGroup(g), text, bot.PrioReply, func(err error) {
		if err != nil {
			p.env.Log.Warn("group announcement not delivered", "group_id", string(g), "err", err)
		}
		p.mu.Lock()
		p.inflight[g]--
		p.mu.Unlock()
	})
}

// undelivered reports how many of g's announcements are still queued.
func (p *Plugin) undelivered(g bot.GroupID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inflight[g]
}

// groupName is the group's current name without the freeze prefix, else
// the lifecycle's: the name people know the group by.
func (p *Plugin) groupName(lc *Lifecycle) string {
	if g, ok := p.env.Group(lc.Group); ok && g.Name != "" {
		return p.baseName(lc.Group, g.Name)
	}
	return lc.Name
}

// baseName strips the freeze prefix from a name.
func (p *Plugin) baseName(g bot.GroupID, name string) string {
	if pre := p.cfg(g).FreezePrefix; pre != "" {
		return strings.TrimPrefix(name, pre)
	}
	return name
}

var (
	_ bot.Configurable     = (*Plugin)(nil)
	_ bot.Initializer      = (*Plugin)(nil)
	_ bot.Commander        = (*Plugin)(nil)
	_ bot.EventHandler     = (*Plugin)(nil)
	_ bot.TimerHandler     = (*Plugin)(nil)
	_ bot.TimerDescriber   = (*Plugin)(nil)
	_ bot.TimerMissHandler = (*Plugin)(nil)
	_ bot.Confirmer        = (*Plugin)(nil)
	_ bot.TaskWatcher      = (*Plugin)(nil)
	_ bot.StatusReporter   = (*Plugin)(nil)
	_ bot.Texter           = (*Plugin)(nil)
	_ Archiver             = (*export.Plugin)(nil)
)
