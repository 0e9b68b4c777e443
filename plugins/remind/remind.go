// Package remind lets group admins schedule a message for later:
// "/remind 2h 交作业" posts the reminder in two hours. Reminders are
// persisted timers, so they survive restarts; one missed while the bot was
// down is posted at start with a note that it is late.
package remind

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Config is the remind plugin's config section.
type Config struct {
	// MaxPerGroup caps pending reminders per group.
	MaxPerGroup int `yaml:"max_per_group"`
	// MaxDelay is the furthest ahead a reminder may be set.
	MaxDelay bot.Duration `yaml:"max_delay"`
}

// Validate checks the config.
func (c *Config) Validate() error {
	if c.MaxPerGroup < 1 {
		return &bot.FieldError{Path: "max_per_group", Msg: "must be at least 1"}
	}
	if c.MaxDelay <= 0 {
		return &bot.FieldError{Path: "max_delay", Msg: "must be positive"}
	}
	return nil
}

// Plugin is the remind plugin.
type Plugin struct {
	env *bot.Env
}

// New returns the plugin.
func New() *Plugin { return &Plugin{} }

// Name implements bot.Plugin.
func (p *Plugin) Name() string { return "remind" }

// DefaultConfig implements bot.Configurable.
func (p *Plugin) DefaultConfig() any {
	return &Config{MaxPerGroup: 20, MaxDelay: bot.Duration(90 * 24 * time.Hour)}
}

// Init implements bot.Initializer.
func (p *Plugin) Init(env *bot.Env) error {
	p.env = env
	return nil
}

// Texts implements bot.Texter.
func (p *Plugin) Texts() bot.Catalog {
	return bot.Catalog{
		"remind.set":      {ZH: "好的，{when}（{in}后）提醒：{text}　编号 {id}", EN: "OK, I will post at {when} (in {in}): {text}  id {id}"},
		"remind.fire":     {ZH: "⏰ 提醒：{text}（{by} 设置）", EN: "⏰ Reminder: {text} (set by {by})"},
		"remind.late":     {ZH: "⏰ 提醒（机器人离线，晚了 {late}）：{text}（{by} 设置）", EN: "⏰ Reminder ({late} late, the bot was offline): {text} (set by {by})"},
		"remind.too_far":  {ZH: "最多只能提前 {max} 设置提醒。", EN: "Reminders can be at most {max} ahead."},
		"remind.too_many": {ZH: "本群待发提醒已达上限 {max} 条，请先取消一些。", EN: "This group already has {max} pending reminders; cancel some first."},
		"remind.none":     {ZH: "本群没有待发的提醒。", EN: "No pending reminders here."},
		"remind.list":     {ZH: "待发提醒：", EN: "Pending reminders:"},
		"remind.canceled": {ZH: "已取消提醒 {id}。", EN: "Reminder {id} canceled."},
		"remind.unknown":  {ZH: "本群没有编号为 {id} 的提醒。", EN: "No reminder {id} in this group."},
	}
}

type payload struct {
	Text string    `json:"text"`
	By   string    `json:"by"`
	Set  time.Time `json:"set"`
}

// Commands implements bot.Commander.
func (p *Plugin) Commands() []*bot.Command {
	return []*bot.Command{{
		Name: "remind", Aliases: []string{"提醒"},
		Args: []bot.Arg{
			{Name: "in", Label: bot.Text{ZH: "多久后", EN: "in"}, Kind: bot.ArgDuration},
			{Name: "text", Label: bot.Text{ZH: "内容", EN: "text"}, Kind: bot.ArgRest},
		},
		Help:  bot.Text{ZH: "定时在群里发一条提醒，如 /提醒 2小时 交作业", EN: "Post a reminder later, e.g. /remind 2h homework"},
		Perm:  bot.RoleAdmin,
		Scope: bot.ScopeGroup,
		Run:   p.set,
		Subcommands: []*bot.Command{
			{Name: "list", Aliases: []string{"列表"}, Perm: bot.RoleAdmin, Run: p.list,
				Help: bot.Text{ZH: "查看本群待发提醒", EN: "List pending reminders"}},
			{Name: "cancel", Aliases: []string{"取消"}, Perm: bot.RoleAdmin, Run: p.cancel,
				Args: []bot.Arg{{Name: "id", Label: bot.Text{ZH: "编号", EN: "id"}, Kind: bot.ArgString}},
				Help: bot.Text{ZH: "取消一条提醒", EN: "Cancel a reminder"}},
		},
	}}
}

func (p *Plugin) pending(g bot.GroupID) []bot.TimerRecord {
	var out []bot.TimerRecord
	for _, t := range p.env.Timers() {
		if t.Group == g {
			out = append(out, t)
		}
	}
	return out
}

func shortID(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}

func (p *Plugin) set(ctx context.Context, c *bot.Call) error {
	cfg := bot.ConfigFor[Config](p.env, c.Group)
	in := c.Args.Duration("in")
	if in > cfg.MaxDelay.D() {
		return bot.Errorf("too_far", "%s", c.T("remind.too_far", map[string]string{"max": bot.FormatDuration(cfg.MaxDelay.D(), c.Lang)}))
	}
	if len(p.pending(c.Group)) >= cfg.MaxPerGroup {
		return bot.Errorf("too_many", "%s", c.T("remind.too_many", map[string]string{"max": fmt.Sprint(cfg.MaxPerGroup)}))
	}
	now := p.env.Now()
	data, _ := json.Marshal(payload{Text: c.Args.String("text"), By: c.AskerName(), Set: now})
	id, err := p.env.At(ctx, bot.TimerSpec{Kind: "post", Group: c.Group, Due: now.Add(in), Payload: data, Missed: bot.MissedRun})
	if err != nil {
		return err
	}
	loc := p.env.Global().Location
	c.Reply(ctx, c.T("remind.set", map[string]string{
		"when": now.Add(in).In(loc).Format("01-02 15:04"), "in": bot.FormatDuration(in, c.Lang),
		"text": c.Args.String("text"), "id": shortID(id)}))
	return nil
}

func (p *Plugin) list(ctx context.Context, c *bot.Call) error {
	ts := p.pending(c.Group)
	if len(ts) == 0 {
		c.Reply(ctx, c.T("remind.none", nil))
		return nil
	}
	loc := p.env.Global().Location
	var b strings.Builder
	b.WriteString(c.T("remind.list", nil))
	for _, t := range ts {
		var pl payload
		_ = json.Unmarshal(t.Payload, &pl)
		fmt.Fprintf(&b, "\n%s  %s  %s", shortID(t.ID), t.Due.In(loc).Format("01-02 15:04"), pl.Text)
	}
	c.Reply(ctx, b.String())
	return nil
}

func (p *Plugin) cancel(ctx context.Context, c *bot.Call) error {
	want := c.Args.String("id")
	for _, t := range p.pending(c.Group) {
		if shortID(t.ID) == want {
			if err := p.env.CancelTimer(ctx, t.ID); err != nil {
				return err
			}
			c.Reply(ctx, c.T("remind.canceled", map[string]string{"id": want}))
			return nil
		}
	}
	return bot.Errorf("unknown", "%s", c.T("remind.unknown", map[string]string{"id": want}))
}

// HandleTimer implements bot.TimerHandler: post the reminder.
func (p *Plugin) HandleTimer(ctx context.Context, t bot.TimerRecord) error {
	var pl payload
	if err := json.Unmarshal(t.Payload, &pl); err != nil {
		return fmt.Errorf("reminder payload: %w", err)
	}
	lang := p.env.Lang(t.Group)
	vars := map[string]string{"text": pl.Text, "by": pl.By}
	key := "remind.fire"
	if late := p.env.Now().Sub(t.Due); late > 5*time.Minute {
		key, vars["late"] = "remind.late", bot.FormatDuration(late, lang)
	}
	p.env.Send(ctx, bot.ToGroup(t.Group), p.env.T(lang, key, vars), bot.PrioBulk)
	return nil
}

var (
	_ bot.Commander    = (*Plugin)(nil)
	_ bot.TimerHandler = (*Plugin)(nil)
	_ bot.Configurable = (*Plugin)(nil)
)
