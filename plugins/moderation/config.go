package moderation

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/moderation/engine"
)

// Level is what happens about an offence. Each level includes the ones
// below it.
type Level uint8

// Levels, lowest first.
const (
	// LevelLog records the offence (audit log, points) and nothing else.
	LevelLog Level = iota + 1
	// LevelWarn also posts a public warning naming the sender.
	LevelWarn
	// LevelNotify also DMs the group's admins and the operators the evidence.
	LevelNotify
	// LevelRemove also removes the sender: a kick where the platform can,
	// else an operator task with the steps on the phone.
	LevelRemove
)

var levelNames = map[string]Level{"log": LevelLog, "warn": LevelWarn, "notify": LevelNotify, "remove": LevelRemove}

// ParseLevel parses a config action name.
func ParseLevel(s string) (Level, error) {
	if l, ok := levelNames[s]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("%q is not log, warn, notify or remove", s)
}

func (l Level) String() string {
	for k, v := range levelNames {
		if v == l {
			return k
		}
	}
	return "none"
}

// Config is the moderation plugin's config section.
type Config struct {
	// Enabled turns keyword and flood moderation on for a group.
	Enabled bool `yaml:"enabled"`
	// Exempt says who is never moderated: "admin" (group admins,
	// operators and the bot account), "operator" (operators and the bot
	// account) or "none" (only the bot account).
	Exempt string `yaml:"exempt"`
	// TradToSimp matches traditional characters as simplified ones.
	TradToSimp bool `yaml:"trad_to_simp"`
	// Categories are the word lists, by name.
	Categories map[string]*Category `yaml:"categories"`
	// Allow lists phrases that are never flagged: a hit inside one of them
	// does not count. Entries are words or "re:" expressions.
	Allow []string `yaml:"allow"`
	// AllowFiles name files of allow entries (one per line, # comments).
	AllowFiles []string `yaml:"allow_files"`
	// Detectors find links, phone numbers and contact offers; each counts
	// as a hit of the category it names.
	Detectors Detectors `yaml:"detectors"`
	// Ladder turns accumulated points into actions.
	Ladder Ladder `yaml:"ladder"`
	// ManualPoints is what /warn adds.
	ManualPoints int `yaml:"manual_points"`
	// NoticeCooldown: the public warning and the admins' DM about one
	// member are not repeated within this long unless the level rose.
	NoticeCooldown bot.Duration `yaml:"notice_cooldown"`
	// Flood configures antiflood.
	Flood Flood `yaml:"flood"`

	dir      string
	compiled *wordlist
}

// Category is one word list and what a hit costs.
type Category struct {
	// Label is the category's name in public warnings; the key by default.
	Label bot.Text `yaml:"label"`
	// Points is added to the sender's total per message with a hit.
	Points int `yaml:"points"`
	// Action is taken on every hit: log, warn, notify or remove. The
	// ladder may raise it.
	Action string `yaml:"action"`
	// Silent posts nothing in the group for this category (points, audit
	// and the admins' DM still happen): some topics should not be echoed.
	Silent bool `yaml:"silent"`
	// Words are plain keywords.
	Words []string `yaml:"words"`
	// Regex are RE2 expressions over the normalised text.
	Regex []string `yaml:"regex"`
	// Files name word files (one entry per line, # comments, "re:" for an
	// expression), relative to the config file.
	Files []string `yaml:"files"`

	level Level
}

// Detectors name the category each detector's hits count as; empty turns
// a detector off.
type Detectors struct {
	// Links are URLs, www. hosts and bare domains.
	Links string `yaml:"links"`
	// Phones are mainland mobile numbers, however written.
	Phones string `yaml:"phones"`
	// ContactIDs are offers of a WeChat, QQ or Telegram contact.
	ContactIDs string `yaml:"contact_ids"`
	// AllowDomains are never flagged as links (the domain and its subdomains).
	AllowDomains []string `yaml:"allow_domains"`
}

// Ladder maps a member's points to actions.
type Ladder struct {
	// Decay: each offence's points count for this long, then drop off.
	Decay bot.Duration `yaml:"decay"`
	// Steps are thresholds, lowest first.
	Steps []Step `yaml:"steps"`
}

// Step is one threshold of the ladder.
type Step struct {
	Points int    `yaml:"points"`
	Action string `yaml:"action"`

	level Level
}

// Flood configures the antiflood checks; a zero count turns one off.
type Flood struct {
	// Rate: Messages messages within Within from one member in one group.
	Rate RateCheck `yaml:"rate"`
	// Repeat: the same text Times times within Within from one member.
	Repeat RepeatCheck `yaml:"repeat"`
	// Wave: the same text in Groups managed groups within Within, from
	// anyone (the thresholds of the global section apply).
	Wave WaveCheck `yaml:"wave"`
	// MinLength: texts shorter than this (normalised, in characters) are
	// not compared for repeats and waves ("收到", "+1").
	MinLength int `yaml:"min_length"`
}

// Penalty is what an antiflood offence costs.
type Penalty struct {
	Points int    `yaml:"points"`
	Action string `yaml:"action"`

	level Level
}

// RateCheck is the message-rate check.
type RateCheck struct {
	Messages int          `yaml:"messages"`
	Within   bot.Duration `yaml:"within"`
	Penalty  `yaml:",inline"`
}

// RepeatCheck is the repeated-text check.
type RepeatCheck struct {
	Times   int          `yaml:"times"`
	Within  bot.Duration `yaml:"within"`
	Penalty `yaml:",inline"`
}

// WaveCheck is the cross-group spam-wave check.
type WaveCheck struct {
	Groups  int          `yaml:"groups"`
	Within  bot.Duration `yaml:"within"`
	Penalty `yaml:",inline"`
}

// reserved are the category names of built-in offences.
var reserved = map[string]bool{catFlood: true, catRepeat: true, catWave: true, catManual: true}

// Built-in offence categories.
const (
	catFlood  = "flood"
	catRepeat = "repeat"
	catWave   = "wave"
	catManual = "manual"
)

// defaultConfig is the plugin's built-in configuration: no word lists
// (config.example.yaml has a small starter set), the ladder, antiflood.
func defaultConfig() *Config {
	return &Config{
		Enabled: true, Exempt: "admin", TradToSimp: true,
		Ladder: Ladder{Decay: bot.Duration(30 * 24 * time.Hour), Steps: []Step{
			{Points: 3, Action: "notify"}, {Points: 6, Action: "remove"},
		}},
		ManualPoints:   1,
		NoticeCooldown: bot.Duration(10 * time.Minute),
		Flood: Flood{
			Rate:      RateCheck{Messages: 10, Within: bot.Duration(10 * time.Second), Penalty: Penalty{Points: 1, Action: "warn"}},
			Repeat:    RepeatCheck{Times: 3, Within: bot.Duration(5 * time.Minute), Penalty: Penalty{Points: 1, Action: "warn"}},
			Wave:      WaveCheck{Groups: 3, Within: bot.Duration(10 * time.Minute), Penalty: Penalty{Points: 3, Action: "notify"}},
			MinLength: 6,
		},
	}
}

// SetConfigDir implements bot.ConfigDirUser: word files are relative to it.
func (c *Config) SetConfigDir(dir string) { c.dir = dir }

// Validate checks the config and compiles its word lists; a missing file,
// an entry that normalises to nothing or a bad expression is refused with
// its file and line.
func (c *Config) Validate() error {
	switch c.Exempt {
	case "admin", "operator", "none":
	default:
		return &bot.FieldError{Path: "exempt", Msg: fmt.Sprintf("%q is not admin, operator or none", c.Exempt)}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Categories)) {
		cat := c.Categories[name]
		path := "categories." + name
		if reserved[name] {
			return &bot.FieldError{Path: path, Msg: fmt.Sprintf("%q is a built-in category name; choose another", name)}
		}
		if cat == nil {
			return &bot.FieldError{Path: path, Msg: "empty category"}
		}
		if cat.Points < 0 {
			return &bot.FieldError{Path: path + ".points", Msg: "must not be negative"}
		}
		if cat.Action == "" {
			cat.Action = "warn"
		}
		l, err := ParseLevel(cat.Action)
		if err != nil {
			return &bot.FieldError{Path: path + ".action", Msg: err.Error()}
		}
		cat.level = l
		if cat.Label.ZH == "" && cat.Label.EN == "" {
			cat.Label = bot.Text{ZH: name, EN: name}
		}
	}
	for _, d := range []struct{ path, cat string }{
		{"detectors.links", c.Detectors.Links}, {"detectors.phones", c.Detectors.Phones}, {"detectors.contact_ids", c.Detectors.ContactIDs},
	} {
		if d.cat != "" && c.Categories[d.cat] == nil {
			return &bot.FieldError{Path: d.path, Msg: fmt.Sprintf("no category %q under categories", d.cat)}
		}
	}
	for i, d := range c.Detectors.AllowDomains {
		d = strings.ToLower(strings.Trim(strings.TrimSpace(d), "."))
		if d == "" || strings.ContainsAny(d, "/: ") {
			return &bot.FieldError{Path: fmt.Sprintf("detectors.allow_domains[%d]", i), Msg: "write a domain such as example.com"}
		}
		c.Detectors.AllowDomains[i] = d
	}
	if c.Ladder.Decay <= 0 {
		return &bot.FieldError{Path: "ladder.decay", Msg: "must be positive"}
	}
	prev := 0
	for i := range c.Ladder.Steps {
		s := &c.Ladder.Steps[i]
		path := fmt.Sprintf("ladder.steps[%d]", i)
		if s.Points <= prev {
			return &bot.FieldError{Path: path + ".points", Msg: "steps must have increasing positive points"}
		}
		prev = s.Points
		l, err := ParseLevel(s.Action)
		if err != nil || l == LevelLog {
			return &bot.FieldError{Path: path + ".action", Msg: fmt.Sprintf("%q is not warn, notify or remove", s.Action)}
		}
		s.level = l
	}
	if c.ManualPoints < 0 {
		return &bot.FieldError{Path: "manual_points", Msg: "must not be negative"}
	}
	if c.NoticeCooldown < 0 {
		return &bot.FieldError{Path: "notice_cooldown", Msg: "must not be negative"}
	}
	checks := []struct {
		name   string
		count  int
		within bot.Duration
		p      *Penalty
	}{
		{"rate", c.Flood.Rate.Messages, c.Flood.Rate.Within, &c.Flood.Rate.Penalty},
		{"repeat", c.Flood.Repeat.Times, c.Flood.Repeat.Within, &c.Flood.Repeat.Penalty},
		{"wave", c.Flood.Wave.Groups, c.Flood.Wave.Within, &c.Flood.Wave.Penalty},
	}
	for _, fc := range checks {
		path := "flood." + fc.name
		if fc.count < 0 || fc.p.Points < 0 {
			return &bot.FieldError{Path: path, Msg: "counts and points must not be negative"}
		}
		if fc.count == 0 {
			continue
		}
		if fc.count < 2 {
			return &bot.FieldError{Path: path, Msg: "the count must be at least 2 (0 turns the check off)"}
		}
		if fc.within <= 0 {
			return &bot.FieldError{Path: path + ".within", Msg: "must be positive"}
		}
		if fc.p.Action == "" {
			fc.p.Action = "warn"
		}
		l, err := ParseLevel(fc.p.Action)
		if err != nil {
			return &bot.FieldError{Path: path + ".action", Msg: err.Error()}
		}
		fc.p.level = l
	}
	if c.Flood.MinLength < 1 {
		return &bot.FieldError{Path: "flood.min_length", Msg: "must be at least 1"}
	}
	wl, err := compileWordlist(c)
	if err != nil {
		return err
	}
	c.compiled = wl
	return nil
}

// exemptRole is the lowest role that is not moderated.
func (c *Config) exemptRole() bot.Role {
	switch c.Exempt {
	case "admin":
		return bot.RoleAdmin
	case "operator":
		return bot.RoleOperator
	}
	return bot.RoleOwner
}

// ladderLevel is the ladder's level for a total, 0 below the first step.
func (c *Config) ladderLevel(total int) Level {
	var l Level
	for _, s := range c.Ladder.Steps {
		if total >= s.Points && s.level > l {
			l = s.level
		}
	}
	return l
}

// nextStep is the first step above total, if any.
func (c *Config) nextStep(total int) (Step, bool) {
	for _, s := range c.Ladder.Steps {
		if s.Points > total {
			return s, true
		}
	}
	return Step{}, false
}

// matcher returns the compiled word lists (nil when there are none).
func (c *Config) matcher() *engine.Matcher {
	if c.compiled == nil {
		return nil
	}
	return c.compiled.m
}
