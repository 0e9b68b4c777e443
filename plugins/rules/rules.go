// Package rules answers /rules (/群规) with a group's rules. Operators write
// the default rules in config (globally or per group); group admins set and
// clear a group's own rules in chat, which override the config text until
// cleared. Chat changes are stored in the plugin's KV space and audited
// with the text. Other plugins (welcome) read the rules through
// GroupRules.
package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qunguan/qunguan/bot"
)

// Config is the rules plugin's config section.
type Config struct {
	// Text is the rules as operators write them in config; a group's rules
	// set in chat take precedence.
	Text string `yaml:"text"`
	// MaxLength caps rules set in chat, in characters.
	MaxLength int `yaml:"max_length"`
	// Cooldown: when a member asks for the rules again within this long of
	// the last answer in the same group, the bot stays quiet (the answer is
	// still on screen). Admins are always answered.
	Cooldown bot.Duration `yaml:"cooldown"`
}

// Validate checks the config.
func (c *Config) Validate() error {
	if c.MaxLength < 1 {
		return &bot.FieldError{Path: "max_length", Msg: "must be at least 1"}
	}
	if c.Cooldown < 0 {
		return &bot.FieldError{Path: "cooldown", Msg: "must not be negative"}
	}
	if n := utf8.RuneCountInString(c.Text); n > c.MaxLength {
		return &bot.FieldError{Path: "text", Msg: fmt.Sprintf("%d characters, more than max_length %d", n, c.MaxLength)}
	}
	return nil
}

// Plugin is the rules plugin.
type Plugin struct {
	env *bot.Env
	// shown is the last answer to /rules per group. The runtime runs plugin
	// entry points one at a time, so it needs no lock.
	shown map[bot.GroupID]time.Time
}

// New returns the plugin.
func New() *Plugin { return &Plugin{shown: map[bot.GroupID]time.Time{}} }

// Name implements bot.Plugin.
func (p *Plugin) Name() string { return "rules" }

// DefaultConfig implements bot.Configurable.
func (p *Plugin) DefaultConfig() any {
	return &Config{MaxLength: 2000, Cooldown: bot.Duration(time.Minute)}
}

// Init implements bot.Initializer.
func (p *Plugin) Init(env *bot.Env) error {
	p.env = env
	return nil
}

// chatRules is a group's rules as set in chat.
type chatRules struct {
	Text string    `json:"text"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

func key(g bot.GroupID) string { return "rules/" + string(g) }

func (p *Plugin) chatSet(ctx context.Context, g bot.GroupID) (chatRules, bool, error) {
	raw, err := p.env.KV.Get(ctx, key(g))
	if errors.Is(err, bot.ErrNotFound) {
		return chatRules{}, false, nil
	}
	if err != nil {
		return chatRules{}, false, err
	}
	var r chatRules
	if err := json.Unmarshal(raw, &r); err != nil {
		return chatRules{}, false, fmt.Errorf("stored rules of %s: %w", g, err)
	}
	return r, true, nil
}

// GroupRules returns group g's rules: those set in chat, else the config
// text for g; ok is false when the group has none.
func (p *Plugin) GroupRules(ctx context.Context, g bot.GroupID) (text string, ok bool) {
	r, set, err := p.chatSet(ctx, g)
	if err != nil {
		p.env.Log.Error("rules not read", "group_id", string(g), "err", err)
	}
	if set {
		return r.Text, true
	}
	text = strings.TrimSpace(bot.ConfigFor[Config](p.env, g).Text)
	return text, text != ""
}

// Texts implements bot.Texter.
func (p *Plugin) Texts() bot.Catalog {
	return bot.Catalog{
		"rules.show":         {ZH: "📌 「{group}」群规：\n{rules}", EN: "📌 Rules of \"{group}\":\n{rules}"},
		"rules.none":         {ZH: "本群还没有群规。群管理员可以发送 /setrules 加群规内容 来设置。", EN: "This group has no rules yet. A group admin can set them with /setrules followed by the text."},
		"rules.set":          {ZH: "已更新本群群规（{n} 字）。发送 /群规 查看。", EN: "Rules updated ({n} characters). Send /rules to see them."},
		"rules.too_long":     {ZH: "群规太长：{n} 字，最多 {max} 字。", EN: "Those rules are too long: {n} characters, at most {max}."},
		"rules.cleared":      {ZH: "已清除本群群规。", EN: "This group's rules are cleared."},
		"rules.cleared_conf": {ZH: "已清除群里设置的群规；现在显示运营者在配置文件中写的默认群规。", EN: "The rules set in chat are cleared; the default rules from the config file apply again."},
		"rules.nothing_set":  {ZH: "本群没有在群里设置过群规，无需清除。", EN: "No rules were set in chat here; nothing to clear."},
		"rules.nothing_conf": {ZH: "本群没有在群里设置过群规；当前群规来自配置文件，只能由运营者修改。", EN: "No rules were set in chat here; the current rules come from the config file and only operators can change them."},
		"rules.help.show":    {ZH: "查看本群群规", EN: "Show this group's rules"},
		"rules.help.set":     {ZH: "设置本群群规（可换行），如 /设置群规 一、友善交流", EN: "Set this group's rules (line breaks kept)"},
		"rules.help.clear":   {ZH: "清除群里设置的群规（恢复配置文件中的默认群规）", EN: "Clear the rules set in chat (the config default applies again)"},
		"rules.label.text":   {ZH: "群规内容", EN: "rules"},
	}
}

func (p *Plugin) text(key string) bot.Text { return p.Texts()[key] }

// Commands implements bot.Commander.
func (p *Plugin) Commands() []*bot.Command {
	return []*bot.Command{
		{Name: "rules", Aliases: []string{"群规"}, Help: p.text("rules.help.show"),
			Perm: bot.RoleMember, Scope: bot.ScopeGroup, Run: p.show},
		{Name: "setrules", Aliases: []string{"设置群规"}, Help: p.text("rules.help.set"),
			Args:     []bot.Arg{{Name: "text", Label: p.text("rules.label.text"), Kind: bot.ArgRest}},
			Verbatim: true, Perm: bot.RoleAdmin, Scope: bot.ScopeGroup, Run: p.set},
		{Name: "clearrules", Aliases: []string{"清除群规"}, Help: p.text("rules.help.clear"),
			Perm: bot.RoleAdmin, Scope: bot.ScopeGroup, Run: p.clear},
	}
}

func (p *Plugin) show(ctx context.Context, c *bot.Call) error {
	now := p.env.Now()
	if c.Role < bot.RoleAdmin && !c.InDM() {
		cd := bot.ConfigFor[Config](p.env, c.Group).Cooldown.D()
		last, seen := p.shown[c.Group]
		if seen && now.Sub(last) < cd {
			p.env.Log.Debug("rules asked again within cooldown", "group_id", string(c.Group))
			return nil
		}
	}
	text, ok := p.GroupRules(ctx, c.Group)
	if !ok {
		c.Reply(ctx, c.T("rules.none", nil))
		return nil
	}
	if !c.InDM() {
		p.shown[c.Group] = now
	}
	c.Reply(ctx, c.T("rules.show", map[string]string{"group": c.GroupName, "rules": text}))
	return nil
}

func (p *Plugin) set(ctx context.Context, c *bot.Call) error {
	text := strings.TrimSpace(c.Args.String("text"))
	max := bot.ConfigFor[Config](p.env, c.Group).MaxLength
	n := utf8.RuneCountInString(text)
	if n > max {
		return bot.Errorf("too_long", "%s", c.T("rules.too_long", map[string]string{"n": strconv.Itoa(n), "max": strconv.Itoa(max)}))
	}
	by := bot.ActorName(c.Asker(), c.AskerName())
	raw, err := json.Marshal(chatRules{Text: text, By: by, At: p.env.Now()})
	if err != nil {
		return err
	}
	if err := p.env.KV.Put(ctx, key(c.Group), raw); err != nil {
		return err
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: c.Group, Actor: by, Action: "rules.set",
		Detail: fmt.Sprintf("rules set in chat (%d characters)", n), Evidence: text}); err != nil {
		return err
	}
	delete(p.shown, c.Group)
	c.Reply(ctx, c.T("rules.set", map[string]string{"n": strconv.Itoa(n)}))
	return nil
}

func (p *Plugin) clear(ctx context.Context, c *bot.Call) error {
	old, set, err := p.chatSet(ctx, c.Group)
	if err != nil {
		return err
	}
	hasConf := strings.TrimSpace(bot.ConfigFor[Config](p.env, c.Group).Text) != ""
	if !set {
		key := "rules.nothing_set"
		if hasConf {
			key = "rules.nothing_conf"
		}
		c.Reply(ctx, c.T(key, nil))
		return nil
	}
	if err := p.env.KV.Delete(ctx, key(c.Group)); err != nil {
		return err
	}
	by := bot.ActorName(c.Asker(), c.AskerName())
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: c.Group, Actor: by, Action: "rules.clear",
		Detail: "rules set in chat by " + old.By + " cleared", Evidence: old.Text}); err != nil {
		return err
	}
	delete(p.shown, c.Group)
	if hasConf {
		c.Reply(ctx, c.T("rules.cleared_conf", nil))
	} else {
		c.Reply(ctx, c.T("rules.cleared", nil))
	}
	return nil
}

var (
	_ bot.Commander    = (*Plugin)(nil)
	_ bot.Configurable = (*Plugin)(nil)
	_ bot.Texter       = (*Plugin)(nil)
)
