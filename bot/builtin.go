package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Backupper is implemented by stores that can write a backup copy.
type Backupper interface {
	Backup(ctx context.Context, reason string) (string, error)
}

func (rt *Runtime) builtinCommands() []*Command {
	return []*Command{
		rt.helpCommand(),
		rt.confirmCommand(),
		rt.tasksCommand(),
		rt.adminCommand(),
		rt.safemodeCommand(),
		rt.reloadCommand(),
		rt.statusCommand(),
	}
}

// adminCommand is /admin (/管理员): list, add and remove group admins.
func (rt *Runtime) adminCommand() *Command {
	name := Arg{Name: "name", Label: Text{ZH: "群昵称或昵称", EN: "name"}, Kind: ArgRest}
	set := func(on bool) func(ctx context.Context, c *Call) error {
		return func(ctx context.Context, c *Call) error {
			m, reply := rt.ResolveMember(ctx, c.Group, c.Args.String("name"), c.Asker(), c.Lang)
			if reply != "" {
				c.Reply(ctx, reply)
				return nil
			}
			if err := rt.SetAdmin(ctx, c.Group, m, on, ActorName(c.Asker(), c.AskerName())); err != nil {
				return err
			}
			key := "admin.granted"
			if !on {
				key = "admin.revoked"
			}
			c.Reply(ctx, rt.text("", c.Lang, key, map[string]string{"name": m.DisplayName()}))
			return nil
		}
	}
	return &Command{
		Name: "admin", Aliases: []string{"管理员"},
		Help:  Text{ZH: "查看本群管理员；运营者可 add/remove", EN: "List this group's admins; operators can add/remove"},
		Perm:  RoleAdmin,
		Scope: ScopeGroup,
		Run: func(ctx context.Context, c *Call) error {
			grants, err := rt.store.Admins(ctx, c.Group)
			if err != nil {
				return err
			}
			if len(grants) == 0 {
				c.Reply(ctx, rt.text("", c.Lang, "admin.none", nil))
				return nil
			}
			var names []string
			for _, g := range grants {
				n := string(g.User)
				if m, err := rt.store.Member(ctx, c.Group, g.User); err == nil {
					n = fmt.Sprintf("%s（%s）", m.DisplayName(), g.User)
				}
				names = append(names, n)
			}
			c.Reply(ctx, rt.text("", c.Lang, "admin.list", map[string]string{"names": strings.Join(names, "、")}))
			return nil
		},
		Subcommands: []*Command{
			{Name: "add", Aliases: []string{"添加"}, Args: []Arg{name}, Perm: RoleOperator,
				Help: Text{ZH: "设为本群管理员", EN: "Make someone a group admin"}, Run: set(true)},
			{Name: "remove", Aliases: []string{"移除", "del"}, Args: []Arg{name}, Perm: RoleOperator,
				Help: Text{ZH: "取消本群管理员", EN: "Remove a group admin"}, Run: set(false)},
		},
	}
}

// safemodeCommand is /safemode on|off (/安全模式): hold all sends.
func (rt *Runtime) safemodeCommand() *Command {
	return &Command{
		Name: "safemode", Aliases: []string{"安全模式"},
		Args:  []Arg{{Name: "state", Label: Text{ZH: "开|关", EN: "on|off"}, Kind: ArgString, Choices: []string{"on", "off"}}},
		Help:  Text{ZH: "开/关安全模式（暂停所有发送）", EN: "Hold (on) or release (off) all sending"},
		Perm:  RoleOperator,
		Scope: ScopeBoth,
		Run: func(ctx context.Context, c *Call) error {
			on := c.Args.String("state") == "on"
			by := ActorName(c.Asker(), c.AskerName())
			if on {
				// The reply itself would be held, so it goes out first.
				rt.pacer.Enqueue(c.ReplyTarget(), rt.text("", c.Lang, "safemode.on", nil), nil, PrioModeration, nil)
				if rt.sync {
					rt.pacer.Drain(ctx)
				}
				rt.pacer.SetSafeMode(true)
			} else {
				n := rt.pacer.SetSafeMode(false)
				c.Reply(ctx, rt.text("", c.Lang, "safemode.off", map[string]string{"n": strconv.Itoa(n)}))
			}
			_, err := rt.Audit(ctx, AuditEntry{Actor: by, Action: "runtime.safemode", Detail: "safe mode " + c.Args.String("state")})
			return err
		},
	}
}

// reloadCommand is /reload (/重载): re-read the config file now.
func (rt *Runtime) reloadCommand() *Command {
	return &Command{
		Name: "reload", Aliases: []string{"重载配置", "重载"},
		Help:  Text{ZH: "重新读取配置文件（有误则拒绝并保留旧配置）", EN: "Re-read the config file (refused if invalid; the old one stays)"},
		Perm:  RoleOperator,
		Scope: ScopeDM,
		Run: func(ctx context.Context, c *Call) error {
			if err := rt.ReloadFile(ctx, ActorName(c.Asker(), c.AskerName())); err != nil {
				c.Reply(ctx, rt.text("", c.Lang, "reload.bad", map[string]string{"err": err.Error()}))
				return nil
			}
			c.Reply(ctx, rt.text("", c.Lang, "reload.ok", nil))
			return nil
		},
	}
}

// ReloadFile loads the config file again and swaps it in when valid. An
// invalid file is refused with file, line and reason, audited, and the
// running config stays.
func (rt *Runtime) ReloadFile(ctx context.Context, by string) error {
	path := rt.Config().Path
	cfg, err := LoadConfig(path, rt.plugins)
	if err != nil {
		rt.log.Warn("config reload refused", "err", err)
		_, _ = rt.Audit(ctx, AuditEntry{Actor: by, Action: "config.refused", Detail: err.Error()})
		return err
	}
	if err := rt.Reload(ctx, cfg, by); err != nil {
		rt.log.Warn("config reload refused by plugin", "err", err)
		_, _ = rt.Audit(ctx, AuditEntry{Actor: by, Action: "config.refused", Detail: err.Error()})
		return err
	}
	rt.log.Info("config reloaded", "path", path)
	return nil
}

// statusCommand is /status (/状态).
func (rt *Runtime) statusCommand() *Command {
	return &Command{
		Name: "status", Aliases: []string{"状态"},
		Help:  Text{ZH: "机器人状态：登录、发送队列、安全模式、最近错误、掉线时段", EN: "Bot status: login, send queue, safe mode, last error, offline gaps"},
		Perm:  RoleOperator,
		Scope: ScopeBoth,
		Run: func(ctx context.Context, c *Call) error {
			c.Reply(ctx, rt.StatusText(ctx, c.Lang))
			return nil
		},
	}
}

// StatusText renders the status summary.
func (rt *Runtime) StatusText(ctx context.Context, lang Lang) string {
	now := rt.clock.Now()
	loc := rt.Config().Location
	state := rt.text("", lang, "status.offline", nil)
	since := ""
	if rt.Online() {
		state = rt.text("", lang, "status.online", nil)
		if t := rt.lastLogin.Load(); t != nil {
			since = t.In(loc).Format("01-02 15:04")
		}
	}
	lastErr, at := rt.LastError()
	if lastErr == "" {
		lastErr = rt.text("", lang, "status.none", nil)
	} else {
		lastErr = at.In(loc).Format("01-02 15:04") + " " + lastErr
	}
	gaps := rt.text("", lang, "status.none", nil)
	if ss, err := rt.store.Sessions(ctx, now.Add(-7*24*time.Hour), now); err == nil {
		var parts []string
		for i := 1; i < len(ss); i++ {
			end := ss[i-1].End
			if end.IsZero() {
				end = ss[i-1].LastAlive
			}
			if gap := ss[i].Start.Sub(end); gap > time.Minute {
				parts = append(parts, fmt.Sprintf("%s %s", end.In(loc).Format("01-02 15:04"), FormatDuration(gap, lang)))
			}
		}
		if len(parts) > 0 {
			gaps = strings.Join(parts, "；")
		}
	}
	tasks, _ := rt.OpenTasks(ctx)
	safe := rt.text("", lang, "no", nil)
	if rt.pacer.SafeMode() {
		safe = rt.text("", lang, "yes", nil)
	}
	depth := rt.pacer.DepthByPriority()
	return rt.text("", lang, "status.body", map[string]string{
		"state": state, "since": since, "platform": rt.platform.Name(), "version": rt.version,
		"queue": strconv.Itoa(rt.pacer.Depth()), "safe": safe, "groups": strconv.Itoa(len(rt.ManagedGroups())),
		"q_moderation": strconv.Itoa(depth[PrioModeration]), "q_reply": strconv.Itoa(depth[PrioReply]),
		"q_welcome": strconv.Itoa(depth[PrioWelcome]), "q_bulk": strconv.Itoa(depth[PrioBulk]),
		"backoffs": strconv.FormatInt(rt.pacer.Stats().Backoffs, 10),
		"tasks":    strconv.Itoa(len(tasks)), "lasterr": lastErr, "gaps": gaps,
	})
}

// startHousekeeping registers the runtime's own recurring jobs: heartbeat
// (so a crash leaves a bounded gap), daily backup, retention and tasks.
func (rt *Runtime) startHousekeeping() error {
	if err := rt.sched.addCron("runtime", "_heartbeat", "@every 5m", func(ctx context.Context) {
		if rt.Online() {
			if err := rt.store.Heartbeat(ctx, rt.clock.Now()); err != nil {
				rt.log.Error("heartbeat not stored", "err", err)
			}
		}
	}); err != nil {
		return err
	}
	if b, ok := rt.store.(Backupper); ok {
		if err := rt.sched.addCron("runtime", "_backup", rt.Config().Store.BackupCron, func(ctx context.Context) {
			if path, err := b.Backup(ctx, "daily"); err != nil {
				rt.log.Error("daily backup failed", "err", err)
				rt.Alert(ctx, Alert{Kind: AlertOther, Key: "backup", Text: rt.text("", rt.Config().Language, "alert.backup_failed", map[string]string{"err": ShortError(err, 300)}),
					Data: map[string]string{"error": err.Error()}})
			} else {
				rt.log.Info("daily backup written", "path", path)
			}
		}); err != nil {
			return err
		}
	}
	if err := rt.sched.addCron("runtime", "_retention", "@daily", func(ctx context.Context) { rt.ApplyRetention(ctx) }); err != nil {
		return err
	}
	return rt.sched.addCron("runtime", "_tasks", "@hourly", func(ctx context.Context) {
		rt.sweepTasks(ctx)
		rt.pruneConfirmations(ctx)
	})
}

// ApplyRetention purges message bodies older than each group's window,
// and deletes the media files the purged records named (see media.go).
// The daily housekeeping job calls it.
func (rt *Runtime) ApplyRetention(ctx context.Context) {
	cfg := rt.Config()
	now := rt.clock.Now()
	media := newMediaJanitor(MediaDir(cfg.DataPath()), rt.log)
	for _, g := range rt.ManagedGroups() {
		keep := cfg.RetentionFor(rt.configName(g))
		if keep <= 0 {
			continue
		}
		cutoff := now.Add(-keep)
		files := 0
		n, err := rt.store.PurgeBodies(ctx, g.ID, cutoff, func(paths []string) { files += media.remove(g.ID, paths) })
		if err != nil {
			rt.log.Error("retention purge failed", "group_id", string(g.ID), "err", err)
			continue
		}
		files += media.sweep(g.ID, cutoff, cfg.Location)
		if n > 0 || files > 0 {
			_, _ = rt.Audit(ctx, AuditEntry{Group: g.ID, Action: "retention.purge",
				Detail: fmt.Sprintf("purged %d message bodies and deleted %d media files older than %s", n, files, FormatDuration(keep, LangEN)),
				Data:   map[string]string{"count": strconv.Itoa(n), "media_files": strconv.Itoa(files)}})
		}
	}
}
