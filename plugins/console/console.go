// Package console is the operator's DM console beyond the runtime's own
// /status, /tasks, /safemode and /reload: /groups lists every managed
// group with its state, members and one line from each plugin that reports
// on groups (health, countdown, ...); /group NAME shows one group in
// detail. Names are always shown beside ids. It also raises the
// "group lost" alert when the bot is removed from a managed group or the
// group disappears.
package console

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qunguan/qunguan/bot"
)

// Detailer plugins add lines about a group to /group NAME, beyond the one
// line they give /groups through bot.StatusReporter.
type Detailer interface {
	GroupDetail(ctx context.Context, g bot.GroupID, lang bot.Lang) string
}

// Plugin is the console plugin.
type Plugin struct {
	env *bot.Env
}

// New returns the plugin.
func New() *Plugin { return &Plugin{} }

// Name implements bot.Plugin.
func (p *Plugin) Name() string { return "console" }

// Init implements bot.Initializer.
func (p *Plugin) Init(env *bot.Env) error {
	p.env = env
	return nil
}

// Texts implements bot.Texter.
func (p *Plugin) Texts() bot.Catalog { return texts }

var texts = bot.Catalog{
	"console.groups_header": {ZH: "管理中的群（{n}）：", EN: "Managed groups ({n}):"},
	"console.groups_none":   {ZH: "还没有管理中的群。在配置的 groups 里列出群名，并把群保存到通讯录。", EN: "No managed groups yet. List them under groups in the config and save them to the contact list."},
	"console.group_line":    {ZH: "{i}. {name}（{id}）｜{state}｜{members} 人", EN: "{i}. {name} ({id}) | {state} | {members} members"},
	"console.state.active":  {ZH: "正常", EN: "active"},
	"console.state.frozen":  {ZH: "已冻结", EN: "frozen"},
	"console.state.removed": {ZH: "机器人已被移出", EN: "bot removed"},
	"console.state.gone":    {ZH: "已解散或失去", EN: "dissolved or lost"},
	"console.detail": {
		ZH: "【{name}】（{id}）\n状态：{state}　成员：{members} 人\n首次记录：{first}　最后成员发言：{last}",
		EN: "[{name}] ({id})\nState: {state}  Members: {members}\nFirst recorded: {first}  Last member message: {last}",
	},
	"console.names":     {ZH: "曾用名：{names}", EN: "Earlier names: {names}"},
	"console.admins":    {ZH: "群管理员：{names}", EN: "Group admins: {names}"},
	"console.no_admins": {ZH: "群管理员：无", EN: "Group admins: none"},
	"console.tasks":     {ZH: "未完成待办：{tasks}", EN: "Open tasks: {tasks}"},
	"console.no_tasks":  {ZH: "未完成待办：无", EN: "Open tasks: none"},
	"console.never":     {ZH: "无", EN: "never"},
	"console.need_name": {ZH: "请写群名：/group 群名（可只写开头几个字）。发送 /groups 查看全部。", EN: "Name the group: /group NAME (the start of the name is enough). Send /groups for the list."},
	"console.lost_removed": {
		ZH: "【群已失去】机器人被移出了管理中的群“{name}”（{id}）{by}。之后的消息不再记录；如非预期，请在手机上把机器人重新拉进群。",
		EN: "[Group lost] The bot was removed from the managed group \"{name}\" ({id}){by}. Nothing there is recorded any more; if this was not planned, add the bot back on the phone.",
	},
	"console.lost_by": {ZH: "，操作人：{actor}", EN: " by {actor}"},
	"console.lost_gone": {
		ZH: "【群已失去】管理中的群“{name}”（{id}）已解散或不可用。已记录的内容仍在，可以导出。",
		EN: "[Group lost] The managed group \"{name}\" ({id}) was dissolved or is gone. What was recorded is kept and can be exported.",
	},
}

// Commands implements bot.Commander.
func (p *Plugin) Commands() []*bot.Command {
	return []*bot.Command{
		{
			Name: "groups", Aliases: []string{"群列表"},
			Help:  bot.Text{ZH: "管理中的群：状态、人数、健康度、倒计时", EN: "Managed groups with state, members, health and countdown"},
			Perm:  bot.RoleOperator,
			Scope: bot.ScopeDM,
			Run:   p.groups,
		},
		{
			Name: "group", Aliases: []string{"群详情"},
			Args:  []bot.Arg{{Name: "name", Label: bot.Text{ZH: "群名", EN: "name"}, Kind: bot.ArgRest, Optional: true}},
			Help:  bot.Text{ZH: "一个群的详情：状态、管理员、待办、健康度说明", EN: "One group in detail: state, admins, tasks, health explained"},
			Perm:  bot.RoleOperator,
			Scope: bot.ScopeDM,
			Run:   p.group,
		},
	}
}

func (p *Plugin) stateOf(g bot.GroupRecord, lang bot.Lang) string {
	key := "console.state.active"
	switch {
	case g.Gone:
		key = "console.state.gone"
	case !g.BotPresent:
		key = "console.state.removed"
	case g.Frozen:
		key = "console.state.frozen"
	}
	return p.env.T(lang, key, nil)
}

// pluginLines asks every other plugin for its line about g.
func (p *Plugin) pluginLines(ctx context.Context, g bot.GroupID, lang bot.Lang, detailed bool) []string {
	var out []string
	for _, pl := range p.env.Runtime().Plugins() {
		if pl == bot.Plugin(p) {
			continue
		}
		var line string
		if d, ok := pl.(Detailer); ok && detailed {
			line = d.GroupDetail(ctx, g, lang)
		} else if s, ok := pl.(bot.StatusReporter); ok {
			line = s.GroupStatus(ctx, g, lang)
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (p *Plugin) groups(ctx context.Context, c *bot.Call) error {
	gs := p.env.ManagedGroups()
	if len(gs) == 0 {
		c.Reply(ctx, c.T("console.groups_none", nil))
		return nil
	}
	var b strings.Builder
	b.WriteString(c.T("console.groups_header", map[string]string{"n": strconv.Itoa(len(gs))}))
	for i, g := range gs {
		line := c.T("console.group_line", map[string]string{"i": strconv.Itoa(i + 1), "name": g.Name, "id": string(g.ID),
			"state": p.stateOf(g, c.Lang), "members": strconv.Itoa(g.MemberCount)})
		for _, l := range p.pluginLines(ctx, g.ID, c.Lang, false) {
			line += "｜" + l
		}
		b.WriteString("\n" + line)
	}
	for _, part := range split(b.String(), 1800) {
		c.Reply(ctx, part)
	}
	return nil
}

func (p *Plugin) group(ctx context.Context, c *bot.Call) error {
	var g bot.GroupRecord
	switch name := strings.TrimSpace(c.Args.String("name")); {
	case name != "":
		var reply string
		g, reply = p.env.Runtime().ResolveGroup(ctx, name, c.Lang, c.Asker())
		if reply != "" {
			c.Reply(ctx, reply)
			return nil
		}
	case c.Group != "":
		// "/group @技术群": the router took the @name as the target group.
		var ok bool
		if g, ok = p.env.Group(c.Group); !ok {
			return fmt.Errorf("group %s not cached", c.Group)
		}
	default:
		c.Reply(ctx, c.T("console.need_name", nil))
		return nil
	}
	fresh, err := p.env.Store.Group(ctx, g.ID)
	if err == nil {
		g.LastHuman = fresh.LastHuman
	}
	loc := p.env.Global().Location
	when := func(t time.Time) string {
		if t.IsZero() {
			return c.T("console.never", nil)
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	lines := []string{c.T("console.detail", map[string]string{"name": g.Name, "id": string(g.ID), "state": p.stateOf(g, c.Lang),
		"members": strconv.Itoa(g.MemberCount), "first": when(g.FirstSeen), "last": when(g.LastHuman)})}
	if len(g.NameHistory) > 0 {
		var names []string
		for _, n := range g.NameHistory {
			names = append(names, fmt.Sprintf("%s（%s）", n.Name, n.Until.In(loc).Format("2006-01-02")))
		}
		lines = append(lines, c.T("console.names", map[string]string{"names": strings.Join(names, "、")}))
	}
	grants, err := p.env.Store.Admins(ctx, g.ID)
	if err != nil {
		return err
	}
	if len(grants) == 0 {
		lines = append(lines, c.T("console.no_admins", nil))
	} else {
		var names []string
		for _, a := range grants {
			name := string(a.User)
			if m, err := p.env.Store.Member(ctx, g.ID, a.User); err == nil {
				name = m.DisplayName()
			}
			names = append(names, fmt.Sprintf("%s（%s）", name, a.User))
		}
		lines = append(lines, c.T("console.admins", map[string]string{"names": strings.Join(names, "、")}))
	}
	tasks, err := p.env.Runtime().OpenTasks(ctx)
	if err != nil {
		return err
	}
	var ts []string
	for _, t := range tasks {
		if t.Group == g.ID {
			ts = append(ts, fmt.Sprintf("%s %s", t.ID, t.Title))
		}
	}
	if len(ts) == 0 {
		lines = append(lines, c.T("console.no_tasks", nil))
	} else {
		lines = append(lines, c.T("console.tasks", map[string]string{"tasks": strings.Join(ts, "；")}))
	}
	lines = append(lines, p.pluginLines(ctx, g.ID, c.Lang, true)...)
	for _, part := range split(strings.Join(lines, "\n"), 1800) {
		c.Reply(ctx, part)
	}
	return nil
}

// HandleEvent implements bot.EventHandler: the bot leaving a managed group
// (removed, or the group dissolved) is an alert, unless it was expected:
// the group was frozen by a countdown, or an operator task was waiting
// for exactly this.
func (p *Plugin) HandleEvent(ctx context.Context, ev *bot.Event) error {
	if ev.Kind != bot.EventBotRemoved && ev.Kind != bot.EventGroupGone {
		return nil
	}
	g, _ := p.env.Group(ev.Group)
	if g.Frozen {
		p.env.Log.Info("frozen group left as planned", "group_id", string(ev.Group))
		return nil
	}
	expected, err := p.expected(ctx, ev)
	if err != nil {
		return err
	}
	if expected {
		p.env.Log.Info("group left as an operator task expected", "group_id", string(ev.Group))
		return nil
	}
	name := ev.GroupName
	if name == "" {
		name = g.Name
	}
	lang := p.env.Lang(ev.Group)
	key := "console.lost_removed"
	if ev.Kind == bot.EventGroupGone {
		key = "console.lost_gone"
	}
	// The platform's reason is a diagnostic (English) for the log and the
	// webhook's data; the text names who did it when that is known.
	by := ""
	if ev.SenderName != "" && ev.Sender != bot.SelfID {
		by = p.env.T(lang, "console.lost_by", map[string]string{"actor": ev.SenderName})
	}
	p.env.Log.Info("managed group lost", "group_id", string(ev.Group), "event", ev.Kind.String(), "reason", ev.Reason)
	p.env.Alert(ctx, bot.Alert{Kind: bot.AlertGroupLost, Group: ev.Group, Key: "group_lost/" + string(ev.Group),
		Data: map[string]string{"event": ev.Kind.String(), "reason": ev.Reason},
		Text: p.env.T(lang, key, map[string]string{"name": name, "id": string(ev.Group), "by": by})})
	return nil
}

// expected reports whether a task about this group watched for the bot
// leaving it and was just closed by this event (the runtime checks tasks
// before plugins see the event).
func (p *Plugin) expected(ctx context.Context, ev *bot.Event) (bool, error) {
	all, err := p.env.Store.Tasks(ctx)
	if err != nil {
		return false, err
	}
	for _, t := range all {
		if t.Group != ev.Group || (t.Watch != bot.WatchGroupGone && t.Watch != bot.WatchBotRemoved) {
			continue
		}
		if t.State == bot.TaskOpen || t.State == bot.TaskDone || (t.State == bot.TaskVerified && !t.Updated.Before(ev.Time)) {
			return true, nil
		}
	}
	return false, nil
}

// split cuts text into messages of at most max runes at line breaks.
func split(text string, max int) []string {
	if utf8.RuneCountInString(text) <= max {
		return []string{text}
	}
	var parts []string
	var cur strings.Builder
	n := 0
	for _, line := range strings.Split(text, "\n") {
		ln := utf8.RuneCountInString(line) + 1
		if n > 0 && n+ln > max {
			parts = append(parts, strings.TrimRight(cur.String(), "\n"))
			cur.Reset()
			n = 0
		}
		cur.WriteString(line + "\n")
		n += ln
	}
	if cur.Len() > 0 {
		parts = append(parts, strings.TrimRight(cur.String(), "\n"))
	}
	return parts
}

var (
	_ bot.Commander    = (*Plugin)(nil)
	_ bot.EventHandler = (*Plugin)(nil)
	_ bot.Initializer  = (*Plugin)(nil)
	_ bot.Texter       = (*Plugin)(nil)
)
