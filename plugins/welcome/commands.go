package welcome

import (
	"context"
	"encoding/json"

	"github.com/qunguan/qunguan/bot"
)

// Texts implements bot.Texter.
func (p *Plugin) Texts() bot.Catalog {
	return bot.Catalog{
		"welcome.greeting":     {ZH: "👋 欢迎 {names} 加入「{group}」！现在群里共有 {members} 人。", EN: "👋 Welcome {names} to \"{group}\"! We are {members} now."},
		"welcome.with_rules":   {ZH: "\n\n📌 入群请先看群规：\n{rules}", EN: "\n\n📌 Please read the rules first:\n{rules}"},
		"welcome.names_more":   {ZH: "{names} 等 {count} 位新朋友", EN: "{names} and others ({count} in all)"},
		"welcome.goodbye":      {ZH: "{names} 离开了群聊。", EN: "{names} left the group."},
		"welcome.status":       {ZH: "欢迎语：{state}（{source}）\n合并窗口 {window}，两次欢迎至少间隔 {cooldown}；告别语：{goodbye}\n预览：\n{preview}", EN: "Greeting: {state} ({source})\nJoins within {window} share one greeting, greetings at least {cooldown} apart; goodbye line: {goodbye}\nPreview:\n{preview}"},
		"welcome.on":           {ZH: "开启", EN: "on"},
		"welcome.off":          {ZH: "关闭", EN: "off"},
		"welcome.src_chat":     {ZH: "本群在群里设置过", EN: "set in this group"},
		"welcome.src_config":   {ZH: "来自配置文件", EN: "from the config file"},
		"welcome.turned_on":    {ZH: "本群的入群欢迎已开启。", EN: "Greetings are on in this group."},
		"welcome.turned_off":   {ZH: "本群的入群欢迎已关闭。", EN: "Greetings are off in this group."},
		"welcome.template_set": {ZH: "已更新本群欢迎语。预览：\n{preview}", EN: "Greeting updated. Preview:\n{preview}"},
		"welcome.bad_template": {ZH: "欢迎语里有不认识的变量：{err}", EN: "The greeting has an unknown variable: {err}"},
		"welcome.reset":        {ZH: "已恢复配置文件中的欢迎设置。", EN: "Greeting settings are back to the config file's."},
		"welcome.help":         {ZH: "查看本群入群欢迎的设置和预览", EN: "Show this group's greeting settings and a preview"},
		"welcome.help.on":      {ZH: "开启本群入群欢迎", EN: "Turn greetings on here"},
		"welcome.help.off":     {ZH: "关闭本群入群欢迎", EN: "Turn greetings off here"},
		"welcome.help.reset":   {ZH: "撤销群里的设置，恢复配置文件", EN: "Drop this group's chat settings; use the config file's"},
		"welcome.help.set":     {ZH: "设置本群欢迎语，可用 {names} {count} {group} {members} {rules} {inviter}", EN: "Set this group's greeting; variables {names} {count} {group} {members} {rules} {inviter}"},
		"welcome.label.text":   {ZH: "欢迎语", EN: "greeting"},
	}
}

func (p *Plugin) text(key string) bot.Text { return p.Texts()[key] }

// Commands implements bot.Commander.
func (p *Plugin) Commands() []*bot.Command {
	return []*bot.Command{
		{Name: "welcome", Aliases: []string{"欢迎语", "入群欢迎"}, Help: p.text("welcome.help"),
			Perm: bot.RoleAdmin, Scope: bot.ScopeGroup, Run: p.status,
			Subcommands: []*bot.Command{
				{Name: "on", Aliases: []string{"开启", "开"}, Help: p.text("welcome.help.on"), Perm: bot.RoleAdmin, Run: p.toggle(true)},
				{Name: "off", Aliases: []string{"关闭", "关"}, Help: p.text("welcome.help.off"), Perm: bot.RoleAdmin, Run: p.toggle(false)},
				{Name: "reset", Aliases: []string{"恢复"}, Help: p.text("welcome.help.reset"), Perm: bot.RoleAdmin, Run: p.reset},
			}},
		{Name: "setwelcome", Aliases: []string{"设置欢迎语"}, Help: p.text("welcome.help.set"),
			Args:     []bot.Arg{{Name: "text", Label: p.text("welcome.label.text"), Kind: bot.ArgRest}},
			Verbatim: true, Perm: bot.RoleAdmin, Scope: bot.ScopeGroup, Run: p.setTemplate},
	}
}

func (p *Plugin) preview(ctx context.Context, c *bot.Call, e effective) string {
	return p.greeting(ctx, c.Group, e, []joiner{{ID: c.Asker(), Name: c.AskerName()}})
}

func (p *Plugin) status(ctx context.Context, c *bot.Call) error {
	e := p.effective(ctx, c.Group)
	onOff := func(b bool) string {
		if b {
			return c.T("welcome.on", nil)
		}
		return c.T("welcome.off", nil)
	}
	src := c.T("welcome.src_config", nil)
	if s := p.settings(ctx, c.Group); s.Enabled != nil || s.Template != "" {
		src = c.T("welcome.src_chat", nil)
	}
	c.Reply(ctx, c.T("welcome.status", map[string]string{
		"state": onOff(e.enabled), "source": src,
		"window":   bot.FormatDuration(e.cfg.Window.D(), c.Lang),
		"cooldown": bot.FormatDuration(e.cfg.Cooldown.D(), c.Lang),
		"goodbye":  onOff(e.cfg.Goodbye),
		"preview":  p.preview(ctx, c, e),
	}))
	return nil
}

// change applies f to the group's chat settings, stores and audits them.
func (p *Plugin) change(ctx context.Context, c *bot.Call, action, evidence string, f func(*settings)) error {
	s := p.settings(ctx, c.Group)
	f(&s)
	s.By, s.At = bot.ActorName(c.Asker(), c.AskerName()), p.env.Now()
	var err error
	if s.Enabled == nil && s.Template == "" {
		err = p.env.KV.Delete(ctx, settingsKey(c.Group))
	} else {
		var raw []byte
		if raw, err = json.Marshal(s); err == nil {
			err = p.env.KV.Put(ctx, settingsKey(c.Group), raw)
		}
	}
	if err != nil {
		return err
	}
	_, err = p.env.Audit(ctx, bot.AuditEntry{Group: c.Group, Actor: s.By, Action: action, Detail: action + " set in chat", Evidence: evidence})
	return err
}

func (p *Plugin) toggle(on bool) func(ctx context.Context, c *bot.Call) error {
	return func(ctx context.Context, c *bot.Call) error {
		action, reply := "welcome.off", "welcome.turned_off"
		if on {
			action, reply = "welcome.on", "welcome.turned_on"
		}
		if err := p.change(ctx, c, action, "", func(s *settings) { s.Enabled = &on }); err != nil {
			return err
		}
		if !on {
			// A batch waiting now is dropped with the switch.
			err := p.env.KV.Delete(ctx, batchKey(c.Group))
			if err == nil {
				err = p.env.CancelTimer(ctx, timerID(c.Group))
			}
			if err != nil {
				return err
			}
		}
		c.Reply(ctx, c.T(reply, nil))
		return nil
	}
}

func (p *Plugin) reset(ctx context.Context, c *bot.Call) error {
	if err := p.change(ctx, c, "welcome.reset", "", func(s *settings) { *s = settings{} }); err != nil {
		return err
	}
	c.Reply(ctx, c.T("welcome.reset", nil))
	return nil
}

func (p *Plugin) setTemplate(ctx context.Context, c *bot.Call) error {
	tmpl := c.Args.String("text")
	if err := checkTemplate(tmpl, Placeholders); err != nil {
		return bot.Errorf("bad_template", "%s", c.T("welcome.bad_template", map[string]string{"err": err.Error()}))
	}
	if err := p.change(ctx, c, "welcome.template", tmpl, func(s *settings) { s.Template = tmpl }); err != nil {
		return err
	}
	c.Reply(ctx, c.T("welcome.template_set", map[string]string{"preview": p.preview(ctx, c, p.effective(ctx, c.Group))}))
	return nil
}
