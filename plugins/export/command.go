package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export/archive"
)

// Texts implements bot.Texter.
func (p *Plugin) Texts() bot.Catalog {
	return bot.Catalog{
		"export.started": {ZH: "开始导出「{group}」的聊天记录，完成并校验后通知你。", EN: "Exporting the history of \"{group}\"; you will hear when it is written and verified."},
		"export.busy":    {ZH: "「{group}」正在导出中，请稍后再试。", EN: "An export of \"{group}\" is already running; try again later."},
		"export.done": {ZH: "导出完成并已校验：「{group}」{records} 条记录（{messages} 条成员消息，{days} 天），覆盖 {from} 至 {to}{gaps}。\n档案 {name}\nmanifest sha256 {sha}",
			EN: "Export written and verified: \"{group}\", {records} records ({messages} messages from people, {days} days), covering {from} to {to}{gaps}.\nArchive {name}\nmanifest sha256 {sha}"},
		"export.gaps":      {ZH: "；机器人离线 {n} 段共 {total}，这些时段的消息不在档案中", EN: "; the bot was offline {n} times for {total} in all, and those messages are not in it"},
		"export.redacted":  {ZH: "\n已脱敏：{n} 处手机号、电话或身份证号已遮盖。", EN: "\nRedacted: {n} phone, landline or ID numbers masked."},
		"export.unmatched": {ZH: "\n注意：与数据库的每日条数核对有出入（导出期间有新消息），详见 manifest.json。", EN: "\nNote: per-day counts differ from the database (messages arrived during the export); see manifest.json."},
		"export.failed":    {ZH: "导出「{group}」失败，未留下不完整的档案：{err}", EN: "The export of \"{group}\" failed and left nothing that looks complete: {err}"},
		"export.sending":   {ZH: "档案将私聊发给你：{file}（{size}）", EN: "Sending you the archive by DM: {file} ({size})"},
		"export.path":      {ZH: "档案在机器人的数据目录中：{path}（{size}）", EN: "The archive is in the bot's data dir: {path} ({size})"},
		"export.too_big":   {ZH: "档案 {size}，超过私聊发送上限 {max} MB，请到机器人的数据目录取：{path}", EN: "The archive is {size}, above the {max} MB DM limit; fetch it from the bot's data dir: {path}"},
		"export.operators": {ZH: "档案只私聊发给运营者；请向运营者索取。", EN: "Archives go to operators only; ask an operator for it."},
		"export.send_failed": {ZH: "档案私聊发送失败（{err}），请到机器人的数据目录取：{path}",
			EN: "Sending the archive failed ({err}); fetch it from the bot's data dir: {path}"},
	}
}

// Commands implements bot.Commander: /export (/导出).
func (p *Plugin) Commands() []*bot.Command {
	return []*bot.Command{{
		Name: "export", Aliases: []string{"导出", "导出记录"},
		Help: bot.Text{ZH: "导出本群聊天记录（JSONL、CSV、Excel、网页、成员名单、校验清单），校验后私聊发给运营者",
			EN: "Export this group's history (JSONL, CSV, Excel, HTML, members, manifest), verified, sent to operators by DM"},
		Perm:  bot.RoleAdmin,
		Scope: bot.ScopeGroup,
		Run:   p.exportCommand,
	}}
}

func (p *Plugin) exportCommand(ctx context.Context, c *bot.Call) error {
	if _, busy := p.Busy(c.Group); busy {
		return bot.Errorf("busy", "%s", c.T("export.busy", map[string]string{"group": c.GroupName}))
	}
	id, err := p.nextID(ctx, "x")
	if err != nil {
		return err
	}
	c.Reply(ctx, c.T("export.started", map[string]string{"group": c.GroupName}))
	by := bot.ActorName(c.Asker(), c.AskerName())
	if c.Event.FromSelf {
		by = "owner"
	}
	job := Job{ID: id, Group: c.Group, By: by, Reason: "command"}
	p.env.Go("export/"+id, func(ctx context.Context) {
		out, err := p.Archive(ctx, job)
		if errors.Is(err, ErrBusy) {
			c.Reply(ctx, c.T("export.busy", map[string]string{"group": c.GroupName}))
			return
		}
		if err != nil {
			c.Reply(ctx, c.T("export.failed", map[string]string{"group": c.GroupName, "err": bot.ShortError(err, 200)}))
			return
		}
		c.Reply(ctx, p.Summary(c.Lang, c.GroupName, out))
		if c.Role < bot.RoleOperator {
			c.Reply(ctx, c.T("export.operators", nil))
			return
		}
		to := bot.ToUser(c.Asker())
		if c.Event.FromSelf {
			to = bot.ToUser(bot.SelfID)
		}
		p.Deliver(ctx, to, c.Lang, out, job.By)
	})
	return nil
}

// Summary describes a verified archive in a few lines.
func (p *Plugin) Summary(lang bot.Lang, group string, o *Outcome) string {
	loc := p.env.Global().Location
	gaps := ""
	if len(o.Gaps) > 0 {
		gaps = p.env.T(lang, "export.gaps", map[string]string{"n": strconv.Itoa(len(o.Gaps)),
			"total": bot.FormatDuration(secs(o.OfflineSeconds), lang)})
	}
	s := p.env.T(lang, "export.done", map[string]string{
		"group": group, "records": strconv.FormatInt(o.Records, 10), "messages": strconv.FormatInt(o.Messages, 10),
		"days": strconv.Itoa(o.Days), "from": o.WindowStart.In(loc).Format("2006-01-02 15:04"),
		"to": o.WindowEnd.In(loc).Format("2006-01-02 15:04"), "gaps": gaps, "name": filepath.Base(o.File), "sha": short(o.ManifestSHA256),
	})
	if o.Redacted >= 0 {
		s += p.env.T(lang, "export.redacted", map[string]string{"n": strconv.FormatInt(o.Redacted, 10)})
	}
	if !o.Reconciled {
		s += p.env.T(lang, "export.unmatched", nil)
	}
	return s
}

// DisplayPath shows path relative to the data dir when it is inside it
// (operators know where that is, and the path stays short), else as is.
func DisplayPath(global *bot.Config, path string) string {
	if rel, err := filepath.Rel(global.DataPath(), path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return path
}

// Deliver sends the archive to a person by DM when it is small enough,
// and otherwise tells them where it is. by names the recipient in the
// audit entry that records the delivery.
func (p *Plugin) Deliver(ctx context.Context, to bot.Target, lang bot.Lang, o *Outcome, by string) {
	max := bot.ConfigFor[Config](p.env, o.Group).SendMaxMB
	size := humanSize(o.Size)
	path := DisplayPath(p.env.Global(), o.File)
	if max == 0 {
		p.env.Send(ctx, to, p.env.T(lang, "export.path", map[string]string{"path": path, "size": size}), bot.PrioReply)
		return
	}
	if o.Size > int64(max)<<20 {
		p.env.Send(ctx, to, p.env.T(lang, "export.too_big", map[string]string{"path": path, "size": size, "max": strconv.Itoa(max)}), bot.PrioReply)
		return
	}
	p.env.Send(ctx, to, p.env.T(lang, "export.sending", map[string]string{"file": filepath.Base(o.File), "size": size}), bot.PrioReply)
	p.env.SendFile(ctx, to, bot.File{Path: o.File}, bot.PrioBulk, func(err error) {
		if err != nil {
			p.env.Log.Warn("archive not sent", "group_id", string(o.Group), "err", err)
			p.env.Send(ctx, to, p.env.T(lang, "export.send_failed", map[string]string{"path": path, "err": bot.ShortError(err, 200)}), bot.PrioReply)
			return
		}
		_, _ = p.env.Audit(ctx, bot.AuditEntry{Group: o.Group, Action: "export.sent", Detail: "archive " + filepath.Base(o.File) + " sent by DM to " + by,
			Data: map[string]string{"file_sha256": o.FileSHA256, "to": to.String()}})
	})
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// prune deletes archives older than the retention window, folder by
// folder, and the job folders and group folders it empties.
func (p *Plugin) prune(ctx context.Context) {
	cfg := bot.ConfigFor[Config](p.env, "")
	if cfg.Retention <= 0 {
		return
	}
	removed, err := Prune(p.root(), cfg.Retention.D(), p.env.Now())
	if err != nil {
		p.env.Log.Error("archive retention failed", "err", err)
	}
	if len(removed) == 0 {
		return
	}
	p.env.Log.Info("archives deleted after retention", "count", len(removed))
	_, _ = p.env.Audit(ctx, bot.AuditEntry{Action: "export.prune",
		Detail: fmt.Sprintf("deleted %d archive files and folders older than %s", len(removed), bot.FormatDuration(cfg.Retention.D(), bot.LangEN)),
		Data:   map[string]string{"count": strconv.Itoa(len(removed)), "paths": strings.Join(removed, "\n")}})
}

// Prune applies archive.Prune to every job folder under root
// (<root>/<group>/<job>/) and removes the job and group folders it leaves
// empty. It returns the archive paths removed.
func Prune(root string, olderThan time.Duration, now time.Time) ([]string, error) {
	groups, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, g := range groups {
		if !g.IsDir() {
			continue
		}
		gdir := filepath.Join(root, g.Name())
		jobs, err := os.ReadDir(gdir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, j := range jobs {
			if !j.IsDir() {
				continue
			}
			jdir := filepath.Join(gdir, j.Name())
			rm, err := archive.Prune(jdir, olderThan, now)
			removed = append(removed, rm...)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if len(rm) > 0 && dirEmpty(jdir) {
				if err := os.Remove(jdir); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if dirEmpty(gdir) {
			if err := os.Remove(gdir); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return removed, errors.Join(errs...)
}
