package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Call is one invocation of a command.
type Call struct {
	Event *Event
	Cmd   *Command
	// Parents are the enclosing commands of a subcommand, outermost first.
	Parents []*Command
	// Group is the group the command acts on: the group it was typed in, or
	// the one a DM named with @NAME / --group NAME. Zero for DM-only use.
	Group     GroupID
	GroupName string
	// Role is the asker's role for Group (or globally in a DM).
	Role Role
	Lang Lang
	Args Values
	// Prefix is the prefix the asker typed, used in usage lines.
	Prefix string

	rt      *Runtime
	replied bool
	// quiet drops replies: a call the runtime replays after a restart,
	// whose outcome it reports itself.
	quiet bool
}

// Asker is the person who typed the command.
func (c *Call) Asker() UserID { return c.Event.Sender }

// AskerName is the asker's display name.
func (c *Call) AskerName() string { return c.Event.SenderName }

// InDM reports whether the command was typed in a DM.
func (c *Call) InDM() bool { return c.Event.Group == "" }

// ReplyTarget is where replies go: the group the command was typed in, or
// the DM it came from.
func (c *Call) ReplyTarget() Target {
	if c.Event.Group != "" {
		return ToGroup(c.Event.Group)
	}
	if c.Event.FromSelf {
		return ToUser(SelfID)
	}
	return ToUser(c.Event.Sender)
}

// Reply sends text to where the command came from, at reply priority.
func (c *Call) Reply(ctx context.Context, text string) {
	c.replied = true
	if c.quiet {
		return
	}
	c.rt.Send(ctx, c.ReplyTarget(), text, PrioReply)
}

// ReplyDM sends text to the asker privately.
func (c *Call) ReplyDM(ctx context.Context, text string) {
	c.replied = true
	if c.quiet {
		return
	}
	t := ToUser(c.Event.Sender)
	if c.Event.FromSelf {
		t = ToUser(SelfID)
	}
	c.rt.Send(ctx, t, text, PrioReply)
}

// T renders a text of the runtime or the command's plugin in the asker's language.
func (c *Call) T(key string, vars map[string]string) string {
	return c.rt.text(c.Cmd.Plugin, c.Lang, key, vars)
}

// Usage is the command's usage line in the asker's language.
func (c *Call) Usage() string { return c.Cmd.Usage(c.Prefix, c.Lang, c.Parents...) }

// Runtime gives handlers access to runtime services (tasks, confirmations,
// member resolution) beyond the plugin's Env.
func (c *Call) Runtime() *Runtime { return c.rt }

// Router finds commands in message text.
type Router struct {
	cmds   []*Command
	byName map[string]*Command
}

func newRouter() *Router { return &Router{byName: map[string]*Command{}} }

func (r *Router) add(c *Command) error {
	for _, n := range c.Names() {
		k := strings.ToLower(FoldWidth(n))
		if prev, ok := r.byName[k]; ok {
			return fmt.Errorf("command name %q of plugin %s already used by %s /%s", n, c.Plugin, prev.Plugin, prev.Name)
		}
		r.byName[k] = c
	}
	r.cmds = append(r.cmds, c)
	return nil
}

// split recognises a command line: it returns the prefix, the command word
// and the rest, or ok=false when text is not a command. Full-width prefixes
// (／＃) are accepted for the configured half-width ones.
func (r *Router) split(text string, prefixes []string) (prefix, word, rest string, ok bool) {
	t := strings.TrimSpace(text)
	if t == "" {
		return "", "", "", false
	}
	first, size := utf8.DecodeRuneInString(t)
	folded := FoldWidth(string(first))
	for _, p := range prefixes {
		if folded == p || string(first) == p {
			prefix = p
			break
		}
	}
	if prefix == "" {
		return "", "", "", false
	}
	t = t[size:]
	end := strings.IndexFunc(t, func(r rune) bool { return r == ' ' || r == '\u3000' || r == '\t' || r == '\n' })
	if end < 0 {
		word, rest = t, ""
	} else {
		word, rest = t[:end], t[end:]
	}
	if word == "" {
		return "", "", "", false
	}
	return prefix, word, rest, true
}

// unquoteWhole drops one pair of quotes around all of s ("…", “…”, '…',
// 「…」) when no quote of that kind occurs inside.
func unquoteWhole(s string) string {
	for _, q := range [][2]string{{`"`, `"`}, {"“", "”"}, {"'", "'"}, {"「", "」"}, {"＂", "＂"}} {
		if len(s) > len(q[0])+len(q[1]) && strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) {
			inner := s[len(q[0]) : len(s)-len(q[1])]
			if !strings.Contains(inner, q[0]) && !strings.Contains(inner, q[1]) {
				return strings.TrimSpace(inner)
			}
		}
	}
	return s
}

// bareOperatorCommand reads a DM from an operator (or the owner) that
// starts with a command's name and no prefix as that command. Others'
// DMs are left alone: an inviter keyword is not a command.
func (rt *Runtime) bareOperatorCommand(ctx context.Context, ev *Event) (prefix, word, rest string, ok bool) {
	if ev.Group != "" || len(rt.Config().CommandPrefixes) == 0 {
		return "", "", "", false
	}
	prefix = rt.Config().CommandPrefixes[0]
	_, word, rest, ok = rt.router.split(prefix+strings.TrimSpace(ev.Message.Text), []string{prefix})
	if !ok || rt.router.lookup(word) == nil || rt.roleFor(ctx, ev, "") < RoleOperator {
		return "", "", "", false
	}
	return prefix, word, rest, true
}

func (r *Router) lookup(word string) *Command {
	return r.byName[strings.ToLower(FoldWidth(word))]
}

// commands returns all commands sorted by name, for help.
func (r *Router) commands() []*Command {
	out := append([]*Command(nil), r.cmds...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// scopeAllows reports whether cmd may run for a call in a DM (dm) with or
// without a known target group.
func scopeAllows(cmd *Command, dm, haveGroup bool) bool {
	switch cmd.Scope {
	case ScopeDM:
		return dm
	case ScopeGroup:
		return haveGroup
	}
	return true
}

// dispatchCommand runs the command in ev if there is one; it reports whether
// the message was a command (known or not).
func (rt *Runtime) dispatchCommand(ctx context.Context, ev *Event) bool {
	if ev.Kind != EventMessage || ev.Message == nil || ev.Message.Type != MsgText {
		return false
	}
	if ev.FromSelf && !ev.FromFileHelper && ev.Group == "" {
		return false
	}
	r := rt.router
	prefix, word, rest, ok := r.split(ev.Message.Text, rt.Config().CommandPrefixes)
	if !ok {
		// Operators talking to the bot by DM may leave the prefix out
		// ("群列表", "status"): a DM to the bot is addressed to it.
		if prefix, word, rest, ok = rt.bareOperatorCommand(ctx, ev); !ok {
			return false
		}
	}
	cmd := r.lookup(word)
	if cmd == nil {
		return false // not ours: "/" also starts ordinary text like "/狗头"
	}
	call := &Call{Event: ev, Cmd: cmd, Prefix: prefix, rt: rt, Lang: rt.langFor(ev.Group)}
	log := rt.log.With("command", cmd.Name, "group_id", string(ev.Group), "user_id", string(ev.Sender))

	defer func() {
		if p := recover(); p != nil {
			rt.mu.Lock()
			rt.counters.Panics++
			rt.lastErr, rt.lastErrAt = fmt.Sprintf("command %s panicked: %v", cmd.Name, p), rt.clock.Now()
			rt.mu.Unlock()
			log.Error("command panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			call.Reply(ctx, rt.text("", call.Lang, "router.internal", nil))
		}
	}()

	var (
		toks []string
		err  error
	)
	dm := ev.Group == ""
	verbatim := ""
	if cmd.Verbatim {
		verbatim = strings.TrimSpace(rest)
		if dm {
			var name string
			verbatim, name = leadingGroupFlag(verbatim)
			if name != "" {
				toks = []string{"--group", name}
			}
		}
		// The help says to quote arguments with spaces; for a verbatim
		// text that means quotes around all of it, which are not part of
		// the text.
		verbatim = unquoteWhole(verbatim)
	} else if toks, err = Tokenize(rest); err != nil {
		call.Reply(ctx, rt.usageReply(call, err))
		return true
	}

	// A DM may name the group it acts on: "@技术群" as the first token or
	// "--group 技术群" anywhere.
	if dm {
		var name string
		toks, name, err = extractGroupFlag(toks)
		if err != nil {
			call.Reply(ctx, rt.usageReply(call, err))
			return true
		}
		if name != "" {
			g, reply := rt.resolveGroupName(ctx, name, call.Lang, ev.Sender)
			if reply != "" {
				call.Reply(ctx, reply)
				return true
			}
			call.Group, call.GroupName = g.ID, g.Name
			call.Lang = rt.langFor(g.ID)
		}
	} else {
		call.Group, call.GroupName = ev.Group, ev.GroupName
	}

	// Subcommands are chosen by the first argument.
	for len(cmd.Subcommands) > 0 && len(toks) > 0 {
		var sub *Command
		for _, s := range cmd.Subcommands {
			if s.Matches(toks[0]) {
				sub = s
				break
			}
		}
		if sub == nil {
			if len(cmd.Args) == 0 && cmd.Run != nil {
				// Nothing but subcommands takes words here: say so rather
				// than "extra argument".
				var zh, en []string
				for _, s := range cmd.Subcommands {
					en = append(en, s.Name)
					if len(s.Aliases) > 0 {
						zh = append(zh, s.Aliases[0])
					} else {
						zh = append(zh, s.Name)
					}
				}
				call.Reply(ctx, rt.usageReply(call, &UsageError{Detail: Text{
					ZH: fmt.Sprintf("“%s”不是可用的子命令（%s）", toks[0], strings.Join(zh, "|")),
					EN: fmt.Sprintf("%q is not a subcommand (%s)", toks[0], strings.Join(en, "|"))}}))
				return true
			}
			break
		}
		call.Parents = append(call.Parents, cmd)
		if sub.Plugin == "" {
			sub.Plugin = cmd.Plugin
		}
		if sub.Scope == 0 {
			sub.Scope = cmd.Scope
		}
		cmd, toks = sub, toks[1:]
		call.Cmd = cmd
	}

	call.Role = rt.roleFor(ctx, ev, call.Group)
	if call.Role < cmd.Perm {
		log.Info("command refused", "role", call.Role.String(), "needs", cmd.Perm.String())
		call.Reply(ctx, rt.text("", call.Lang, "router.denied", map[string]string{
			"command": prefix + word, "role": cmd.Perm.Name(call.Lang)}))
		return true
	}
	if !scopeAllows(cmd, dm, call.Group != "") {
		key := "router.group_only"
		if cmd.Scope == ScopeDM {
			key = "router.dm_only"
		}
		call.Reply(ctx, rt.text("", call.Lang, key, map[string]string{"command": prefix + word}))
		return true
	}
	if call.Group != "" && !rt.isManaged(ctx, call.Group) {
		call.Reply(ctx, rt.text("", call.Lang, "router.not_managed", nil))
		return true
	}
	if cmd.Run == nil {
		call.Reply(ctx, rt.text("", call.Lang, "router.usage", map[string]string{"usage": call.Usage()}))
		return true
	}
	if cmd.Verbatim {
		toks = nil
		if verbatim != "" {
			toks = []string{verbatim}
		}
	}
	call.Args, err = parseArgs(cmd.Args, toks)
	if err != nil {
		call.Reply(ctx, rt.usageReply(call, err))
		return true
	}
	log.Debug("command run", "role", call.Role.String())
	if err := cmd.Run(ctx, call); err != nil {
		switch ue, isUser := AsUserError(err); {
		case errors.Is(err, ErrUsage):
			call.Reply(ctx, rt.usageReply(call, err))
		case isUser:
			call.Reply(ctx, ue.Text)
		default:
			log.Error("command failed", "err", err)
			call.Reply(ctx, rt.text("", call.Lang, "router.internal", nil))
		}
	}
	return true
}

func (rt *Runtime) usageReply(c *Call, err error) string {
	var ue *UsageError
	if errors.As(err, &ue) && ue.Detail.In(c.Lang) != "" {
		return rt.text("", c.Lang, "router.usage_detail", map[string]string{"detail": ue.Detail.In(c.Lang), "usage": c.Usage()})
	}
	return rt.text("", c.Lang, "router.usage", map[string]string{"usage": c.Usage()})
}

// extractGroupFlag removes "--group NAME" / "-g NAME" / the first "@NAME"
// token from toks and returns the name. Only DMs use it: there the first
// @-token names the group ("/countdown @技术群 3d", "/admin add @技术群 小A").
func extractGroupFlag(toks []string) ([]string, string, error) {
	out := toks[:0:0]
	name := ""
	for i := 0; i < len(toks); i++ {
		t := FoldWidth(toks[i])
		switch {
		case t == "--group" || t == "-g" || t == "--群":
			if i+1 >= len(toks) {
				return nil, "", usagef("--group 后面要写群名", "--group needs a group name")
			}
			name = toks[i+1]
			i++
		case strings.HasPrefix(t, "--group="):
			name = toks[i][len("--group="):]
		case name == "" && strings.HasPrefix(t, "@") && len(t) > 1:
			name = strings.TrimPrefix(strings.TrimPrefix(toks[i], "@"), "＠")
		default:
			out = append(out, toks[i])
		}
	}
	return out, name, nil
}

// leadingGroupFlag splits a leading "@NAME", "--group NAME" or "-g NAME"
// off a verbatim text typed in a DM and returns the rest and the name.
func leadingGroupFlag(text string) (rest, name string) {
	word := func(s string) (string, string) {
		s = strings.TrimLeft(s, " \t\u3000")
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			return s, ""
		}
		return s[:end], strings.TrimSpace(s[end:])
	}
	first, after := word(text)
	switch f := FoldWidth(first); {
	case f == "--group" || f == "-g" || f == "--群":
		name, after = word(after)
		return after, name
	case strings.HasPrefix(f, "--group="):
		return after, f[len("--group="):]
	case strings.HasPrefix(f, "@") && len(f) > 1:
		return after, strings.TrimPrefix(strings.TrimPrefix(first, "@"), "＠")
	}
	return text, ""
}

// helpCommand is /help (/帮助): generated from the command data, showing
// only what the asker may run where they asked.
func (rt *Runtime) helpCommand() *Command {
	return &Command{
		Name: "help", Aliases: []string{"帮助", "菜单"},
		Args:  []Arg{{Name: "command", Label: Text{ZH: "命令", EN: "command"}, Kind: ArgString, Optional: true}},
		Help:  Text{ZH: "列出你能用的命令；/help 命令 看详细说明", EN: "List the commands you can use; /help COMMAND for details"},
		Perm:  RoleMember,
		Scope: ScopeBoth,
		Run: func(ctx context.Context, c *Call) error {
			dm := c.InDM()
			if name := c.Args.String("command"); name != "" {
				cmd := rt.router.lookup(strings.TrimLeft(FoldWidth(name), strings.Join(rt.Config().CommandPrefixes, "")))
				if cmd == nil {
					c.Reply(ctx, rt.text("", c.Lang, "help.unknown", map[string]string{"name": name}))
					return nil
				}
				if c.Role < cmd.Perm {
					c.Reply(ctx, rt.text("", c.Lang, "router.denied", map[string]string{"command": c.Prefix + cmd.Name, "role": cmd.Perm.Name(c.Lang)}))
					return nil
				}
				var b strings.Builder
				b.WriteString(cmd.Usage(c.Prefix, c.Lang))
				b.WriteString("\n")
				b.WriteString(cmd.Help.In(c.Lang))
				for _, s := range cmd.Subcommands {
					if c.Role < s.Perm {
						continue
					}
					b.WriteString("\n  ")
					b.WriteString(s.Usage(c.Prefix, c.Lang, cmd))
					b.WriteString(" — ")
					b.WriteString(s.Help.In(c.Lang))
				}
				c.Reply(ctx, b.String())
				return nil
			}
			var b strings.Builder
			b.WriteString(rt.text("", c.Lang, "help.header", map[string]string{"role": c.Role.Name(c.Lang)}))
			for _, cmd := range rt.router.commands() {
				if c.Role < cmd.Perm {
					continue
				}
				// In a DM, group commands are listed for those who can name a
				// group (admins and up); in a group, DM-only ones are hidden.
				if !dm && cmd.Scope == ScopeDM {
					continue
				}
				if dm && cmd.Scope == ScopeGroup && c.Role < RoleOperator && c.Group == "" {
					continue
				}
				b.WriteString("\n")
				b.WriteString(c.Prefix)
				b.WriteString(cmd.Name)
				if len(cmd.Aliases) > 0 && c.Lang != LangEN {
					b.WriteString(" " + c.Prefix + cmd.Aliases[0])
				}
				b.WriteString(" — ")
				b.WriteString(cmd.Help.In(c.Lang))
			}
			b.WriteString("\n")
			b.WriteString(rt.text("", c.Lang, "help.footer", map[string]string{"prefixes": strings.Join(rt.Config().CommandPrefixes, " ")}))
			c.Reply(ctx, b.String())
			return nil
		},
	}
}

// logAttrs is shared by event-level logging.
func eventAttrs(ev *Event) []any {
	return []any{slog.String("event", ev.Kind.String()), slog.String("group_id", string(ev.Group)), slog.String("user_id", string(ev.Sender))}
}
