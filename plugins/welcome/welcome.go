// Package welcome greets people who join a managed group. Joins that come
// within a short window are greeted in one message, never one each (bot
// waves flood chats), and a per-group cooldown spaces greetings further
// apart during a join rush. The template is per group with a global
// default; variables are the newcomers' names, the group name, the member
// count, the group's rules and the inviter when known. Names are plain
// text: web WeChat cannot @-mention. An optional goodbye line notes leaves.
// Frozen groups and the bot itself are never greeted.
//
// A pending batch lives in the plugin's KV space and its flush is a
// persisted timer, so a restart inside the window still greets; a flush
// whose time passed while the bot was down is dropped rather than sent
// late.
package welcome

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Config is the welcome plugin's config section.
type Config struct {
	// Enabled turns greetings on; admins can switch a group in chat.
	Enabled bool `yaml:"enabled"`
	// Template is the greeting; empty uses the text welcome.greeting in the
	// group's language. Variables: {names} {count} {group} {members}
	// {rules} {inviter}.
	Template string `yaml:"template"`
	// IncludeRules appends the group's rules (from the rules plugin) when
	// the template does not use {rules} itself.
	IncludeRules bool `yaml:"include_rules"`
	// Window collects joins into one greeting: it goes out this long after
	// the first join of a batch.
	Window bot.Duration `yaml:"window"`
	// Cooldown is the least time between two greetings in a group; joins
	// meanwhile wait and are greeted together.
	Cooldown bot.Duration `yaml:"cooldown"`
	// MaxNames caps the names listed; the rest are counted ("等 12 位").
	MaxNames int `yaml:"max_names"`
	// Goodbye posts a line when members are seen leaving.
	Goodbye bool `yaml:"goodbye"`
	// GoodbyeTemplate is the goodbye line; empty uses welcome.goodbye.
	// Variables: {names} {count} {group} {members}.
	GoodbyeTemplate string `yaml:"goodbye_template"`
}

// Placeholders are the variables a greeting template may use.
var Placeholders = []string{"names", "count", "group", "members", "rules", "inviter"}

var placeholderRE = regexp.MustCompile(`\{([A-Za-z_]+)\}`)

// checkTemplate reports the first placeholder of tmpl that is not allowed.
func checkTemplate(tmpl string, allowed []string) error {
	for _, m := range placeholderRE.FindAllStringSubmatch(tmpl, -1) {
		ok := false
		for _, a := range allowed {
			if m[1] == a {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("unknown placeholder {%s}; use {%s}", m[1], strings.Join(allowed, "} {"))
		}
	}
	return nil
}

// Validate checks the config.
func (c *Config) Validate() error {
	if c.Window < 0 || c.Window.D() > 10*time.Minute {
		return &bot.FieldError{Path: "window", Msg: "must be between 0 and 10m"}
	}
	if c.Cooldown < 0 {
		return &bot.FieldError{Path: "cooldown", Msg: "must not be negative"}
	}
	if c.MaxNames < 1 {
		return &bot.FieldError{Path: "max_names", Msg: "must be at least 1"}
	}
	if err := checkTemplate(c.Template, Placeholders); err != nil {
		return &bot.FieldError{Path: "template", Msg: err.Error()}
	}
	if err := checkTemplate(c.GoodbyeTemplate, Placeholders[:4]); err != nil {
		return &bot.FieldError{Path: "goodbye_template", Msg: err.Error()}
	}
	return nil
}

// RulesSource gives a group's rules; the rules plugin implements it. The
// welcome plugin finds it among the runtime's plugins at Init, so neither
// imports the other.
type RulesSource interface {
	GroupRules(ctx context.Context, g bot.GroupID) (string, bool)
}

// Plugin is the welcome plugin.
type Plugin struct {
	env   *bot.Env
	rules RulesSource

	// lastGoodbye is when each group last got a goodbye line. The runtime
	// runs plugin entry points one at a time, so it needs no lock.
	lastGoodbye map[bot.GroupID]time.Time
}

// New returns the plugin.
func New() *Plugin { return &Plugin{lastGoodbye: map[bot.GroupID]time.Time{}} }

// Name implements bot.Plugin.
func (p *Plugin) Name() string { return "welcome" }

// DefaultConfig implements bot.Configurable.
func (p *Plugin) DefaultConfig() any {
	return &Config{Enabled: true, IncludeRules: true, Window: bot.Duration(30 * time.Second),
		Cooldown: bot.Duration(2 * time.Minute), MaxNames: 10}
}

// Init implements bot.Initializer.
func (p *Plugin) Init(env *bot.Env) error {
	p.env = env
	for _, q := range env.Runtime().Plugins() {
		if r, ok := q.(RulesSource); ok {
			p.rules = r
			break
		}
	}
	return nil
}

// joiner is one newcomer waiting to be greeted.
type joiner struct {
	ID      bot.UserID `json:"id"`
	Name    string     `json:"name"`
	Inviter string     `json:"inviter,omitempty"`
}

// batch is a group's pending greeting.
type batch struct {
	First   time.Time `json:"first"`
	Members []joiner  `json:"members"`
}

// settings are a group's switches set in chat; they override config.
type settings struct {
	Enabled  *bool     `json:"enabled,omitempty"`
	Template string    `json:"template,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

func batchKey(g bot.GroupID) string    { return "batch/" + string(g) }
func lastKey(g bot.GroupID) string     { return "last/" + string(g) }
func settingsKey(g bot.GroupID) string { return "group/" + string(g) }
func timerID(g bot.GroupID) string     { return "welcome/flush/" + string(g) }

func (p *Plugin) settings(ctx context.Context, g bot.GroupID) settings {
	var s settings
	raw, err := p.env.KV.Get(ctx, settingsKey(g))
	if err != nil {
		if !errors.Is(err, bot.ErrNotFound) {
			p.env.Log.Error("welcome settings not read", "group_id", string(g), "err", err)
		}
		return s
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		p.env.Log.Error("welcome settings unreadable", "group_id", string(g), "err", err)
	}
	return s
}

// effective is a group's configuration with its chat settings applied.
type effective struct {
	cfg      *Config
	enabled  bool
	template string
	source   string // "chat" or "config"
}

func (p *Plugin) effective(ctx context.Context, g bot.GroupID) effective {
	cfg := bot.ConfigFor[Config](p.env, g)
	s := p.settings(ctx, g)
	e := effective{cfg: cfg, enabled: cfg.Enabled, template: cfg.Template, source: "config"}
	if s.Enabled != nil {
		e.enabled = *s.Enabled
	}
	if s.Template != "" {
		e.template, e.source = s.Template, "chat"
	}
	return e
}

// greetable reports whether group g may be greeted at all now.
func (p *Plugin) greetable(g bot.GroupID) bool {
	rec, ok := p.env.Group(g)
	return ok && !rec.Frozen && rec.BotPresent && !rec.Gone
}

// HandleEvent implements bot.EventHandler: joins go into the group's
// batch, leaves come out of it (and may get a goodbye line).
func (p *Plugin) HandleEvent(ctx context.Context, ev *bot.Event) error {
	if ev.Group == "" {
		return nil
	}
	switch ev.Kind {
	case bot.EventMemberJoined:
		return p.joined(ctx, ev)
	case bot.EventMemberLeft:
		return p.left(ctx, ev)
	}
	return nil
}

func (p *Plugin) joined(ctx context.Context, ev *bot.Event) error {
	if !p.greetable(ev.Group) {
		return nil
	}
	e := p.effective(ctx, ev.Group)
	if !e.enabled {
		return nil
	}
	var add []joiner
	for _, m := range ev.Members {
		if m.ID == bot.SelfID || m.ID == "" {
			continue
		}
		inviter := ev.InviterName
		if ev.Inviter == bot.SelfID {
			inviter = ""
		}
		add = append(add, joiner{ID: m.ID, Name: m.DisplayName(), Inviter: inviter})
	}
	if len(add) == 0 {
		return nil
	}
	now := p.env.Now()
	fresh := false
	err := p.env.KV.Update(ctx, batchKey(ev.Group), func(old []byte) ([]byte, error) {
		var b batch
		if old != nil {
			if err := json.Unmarshal(old, &b); err != nil {
				return nil, fmt.Errorf("pending batch: %w", err)
			}
		}
		if len(b.Members) == 0 {
			b.First, fresh = now, true
		}
		for _, j := range add {
			dup := false
			for _, have := range b.Members {
				dup = dup || have.ID == j.ID
			}
			if !dup {
				b.Members = append(b.Members, j)
			}
		}
		return json.Marshal(b)
	})
	if err != nil {
		return err
	}
	if !fresh && p.armed(ev.Group) {
		return nil
	}
	due := now.Add(e.cfg.Window.D())
	if last, ok := p.lastGreeting(ctx, ev.Group); ok {
		if next := last.Add(e.cfg.Cooldown.D()); next.After(due) {
			due = next
		}
	}
	_, err = p.env.At(ctx, bot.TimerSpec{ID: timerID(ev.Group), Kind: "flush", Group: ev.Group, Due: due, Missed: bot.MissedSkip})
	return err
}

// armed reports whether g's flush timer is pending.
func (p *Plugin) armed(g bot.GroupID) bool {
	for _, t := range p.env.Timers() {
		if t.ID == timerID(g) {
			return true
		}
	}
	return false
}

func (p *Plugin) lastGreeting(ctx context.Context, g bot.GroupID) (time.Time, bool) {
	raw, err := p.env.KV.Get(ctx, lastKey(g))
	if err != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(raw))
	return t, err == nil
}

func (p *Plugin) left(ctx context.Context, ev *bot.Event) error {
	pending := map[bot.UserID]bool{}
	empty := false
	err := p.env.KV.Update(ctx, batchKey(ev.Group), func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, nil
		}
		var b batch
		if err := json.Unmarshal(old, &b); err != nil {
			return nil, fmt.Errorf("pending batch: %w", err)
		}
		keep := b.Members[:0]
		for _, j := range b.Members {
			gone := false
			for _, m := range ev.Members {
				gone = gone || m.ID == j.ID
			}
			if gone {
				pending[j.ID] = true
			} else {
				keep = append(keep, j)
			}
		}
		b.Members = keep
		if len(keep) == 0 {
			empty = true
			return nil, nil
		}
		return json.Marshal(b)
	})
	if err == nil && empty {
		err = p.env.CancelTimer(ctx, timerID(ev.Group))
	}
	if err != nil {
		return err
	}
	// People removed by the bot get no goodbye; nor do those who came and
	// went before being greeted, nor leaves noticed only after the fact
	// (at login), when a goodbye would come hours late.
	if ev.Sender == bot.SelfID || ev.Late || !p.greetable(ev.Group) {
		return nil
	}
	e := p.effective(ctx, ev.Group)
	if !e.enabled || !e.cfg.Goodbye {
		return nil
	}
	var names []string
	for _, m := range ev.Members {
		if m.ID != bot.SelfID && !pending[m.ID] {
			names = append(names, m.DisplayName())
		}
	}
	if len(names) == 0 {
		return nil
	}
	now := p.env.Now()
	last, seen := p.lastGoodbye[ev.Group]
	if seen && now.Sub(last) < e.cfg.Cooldown.D() {
		p.env.Log.Debug("goodbye skipped within cooldown", "group_id", string(ev.Group), "count", len(names))
		return nil
	}
	p.lastGoodbye[ev.Group] = now
	lang := p.env.Lang(ev.Group)
	vars := p.vars(ev.Group, names, e.cfg.MaxNames, lang)
	tmpl := e.cfg.GoodbyeTemplate
	if tmpl == "" {
		tmpl = p.env.T(lang, "welcome.goodbye", nil)
	}
	p.env.Send(ctx, bot.ToGroup(ev.Group), bot.Render(tmpl, vars), bot.PrioWelcome)
	return nil
}

// vars are the template variables for names in group g.
func (p *Plugin) vars(g bot.GroupID, names []string, max int, lang bot.Lang) map[string]string {
	rec, _ := p.env.Group(g)
	return map[string]string{
		"names":   p.nameList(names, max, lang),
		"count":   strconv.Itoa(len(names)),
		"group":   rec.Name,
		"members": strconv.Itoa(rec.MemberCount),
	}
}

func (p *Plugin) nameList(names []string, max int, lang bot.Lang) string {
	sep := "、"
	if lang == bot.LangEN {
		sep = ", "
	}
	if len(names) <= max {
		return strings.Join(names, sep)
	}
	return p.env.T(lang, "welcome.names_more", map[string]string{"names": strings.Join(names[:max], sep), "count": strconv.Itoa(len(names))})
}

// HandleTimer implements bot.TimerHandler: greet the pending batch.
func (p *Plugin) HandleTimer(ctx context.Context, t bot.TimerRecord) error {
	var b batch
	err := p.env.KV.Update(ctx, batchKey(t.Group), func(old []byte) ([]byte, error) {
		if old != nil {
			if err := json.Unmarshal(old, &b); err != nil {
				p.env.Log.Error("pending batch unreadable, dropped", "group_id", string(t.Group), "err", err)
			}
		}
		return nil, nil
	})
	if err != nil || len(b.Members) == 0 {
		return err
	}
	e := p.effective(ctx, t.Group)
	if !e.enabled || !p.greetable(t.Group) {
		p.env.Log.Info("greeting dropped: group off, frozen or gone", "group_id", string(t.Group), "count", len(b.Members))
		return nil
	}
	text := p.greeting(ctx, t.Group, e, b.Members)
	p.env.Send(ctx, bot.ToGroup(t.Group), text, bot.PrioWelcome)
	p.env.Log.Info("greeting queued", "group_id", string(t.Group), "count", len(b.Members))
	return p.env.KV.Put(ctx, lastKey(t.Group), []byte(p.env.Now().Format(time.RFC3339Nano)))
}

// greeting renders the greeting for joiners in group g.
func (p *Plugin) greeting(ctx context.Context, g bot.GroupID, e effective, joiners []joiner) string {
	lang := p.env.Lang(g)
	var names, inviters []string
	seenInv := map[string]bool{}
	for _, j := range joiners {
		names = append(names, j.Name)
		if j.Inviter != "" && !seenInv[j.Inviter] {
			seenInv[j.Inviter] = true
			inviters = append(inviters, j.Inviter)
		}
	}
	sort.Strings(inviters)
	vars := p.vars(g, names, e.cfg.MaxNames, lang)
	vars["inviter"] = strings.Join(inviters, "、")
	rules := ""
	if p.rules != nil {
		rules, _ = p.rules.GroupRules(ctx, g)
	}
	vars["rules"] = rules
	tmpl := e.template
	if tmpl == "" {
		tmpl = p.env.T(lang, "welcome.greeting", nil)
	}
	text := bot.Render(tmpl, vars)
	if e.cfg.IncludeRules && rules != "" && !strings.Contains(tmpl, "{rules}") {
		text += p.env.T(lang, "welcome.with_rules", map[string]string{"rules": rules})
	}
	return strings.TrimSpace(text)
}

// TimerMissed implements bot.TimerMissHandler: a greeting due while the bot
// was down is dropped, not sent late.
func (p *Plugin) TimerMissed(ctx context.Context, t bot.TimerRecord) error {
	p.env.Log.Info("greeting missed while offline, dropped", "group_id", string(t.Group))
	return p.env.KV.Delete(ctx, batchKey(t.Group))
}

var (
	_ bot.EventHandler     = (*Plugin)(nil)
	_ bot.TimerHandler     = (*Plugin)(nil)
	_ bot.TimerMissHandler = (*Plugin)(nil)
	_ bot.Configurable     = (*Plugin)(nil)
	_ bot.Texter           = (*Plugin)(nil)
	_ bot.Commander        = (*Plugin)(nil)
)
