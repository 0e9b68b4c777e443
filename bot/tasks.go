package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CreateTask records an operator task, tells the operators exactly what to
// do, and audits it. The task closes itself when the runtime observes the
// outcome named by t.Watch.
func (rt *Runtime) CreateTask(ctx context.Context, t Task) (Task, error) {
	now := rt.clock.Now()
	var seq int
	err := rt.store.KV(runtimeNS).Update(ctx, "task/seq", func(old []byte) ([]byte, error) {
		if old != nil {
			seq, _ = strconv.Atoi(string(old))
		}
		seq++
		return []byte(strconv.Itoa(seq)), nil
	})
	if err != nil {
		return Task{}, fmt.Errorf("task id: %w", err)
	}
	t.ID = "T" + strconv.Itoa(seq)
	t.State, t.Created, t.Updated = TaskOpen, now, now
	if t.Expires.IsZero() {
		t.Expires = now.Add(rt.Config().Tasks.Expire.D())
	}
	if err := rt.store.PutTask(ctx, t); err != nil {
		return Task{}, fmt.Errorf("store task: %w", err)
	}
	lang := rt.langFor(t.Group)
	rt.NotifyOperators(ctx, rt.text("", lang, "task.new", map[string]string{"id": t.ID, "title": t.Title, "steps": t.Steps}), PrioReply)
	_, err = rt.Audit(ctx, AuditEntry{Group: t.Group, Actor: "plugin:" + orDefault(t.Owner, "runtime"), Action: "task.create", Detail: t.Title,
		Data: map[string]string{"task": t.ID, "kind": t.Kind, "users": joinIDs(t.Users)}})
	return t, err
}

func joinIDs(us []UserID) string {
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = string(u)
	}
	return strings.Join(s, ",")
}

// UpdateTask stores a changed task.
func (rt *Runtime) UpdateTask(ctx context.Context, t Task) error {
	t.Updated = rt.clock.Now()
	return rt.store.PutTask(ctx, t)
}

// OpenTasks lists tasks that are open or claimed done but not yet verified.
func (rt *Runtime) OpenTasks(ctx context.Context) ([]Task, error) {
	all, err := rt.store.Tasks(ctx)
	if err != nil {
		return nil, err
	}
	var out []Task
	for _, t := range all {
		if t.State == TaskOpen || t.State == TaskDone {
			out = append(out, t)
		}
	}
	return out, nil
}

// checkTasks closes tasks whose watched outcome this event shows.
func (rt *Runtime) checkTasks(ctx context.Context, ev *Event) {
	switch ev.Kind {
	case EventMemberLeft, EventMemberJoined, EventBotRemoved, EventGroupGone:
	default:
		return
	}
	tasks, err := rt.OpenTasks(ctx)
	if err != nil {
		rt.log.Error("tasks not read", "err", err)
		return
	}
	for _, t := range tasks {
		if t.Group != ev.Group || t.Watch == WatchNothing {
			continue
		}
		ok, err := rt.taskOutcome(ctx, t)
		if err != nil {
			rt.log.Error("task outcome not checked", "task", t.ID, "err", err)
			continue
		}
		if ok {
			rt.closeTask(ctx, t, TaskVerified, "observed: "+ev.Kind.String())
		}
	}
}

// taskOutcome reports whether the outcome a task watches for holds now,
// judged from the store (which the event has just updated).
func (rt *Runtime) taskOutcome(ctx context.Context, t Task) (bool, error) {
	g, err := rt.store.Group(ctx, t.Group)
	if err != nil {
		return false, err
	}
	switch t.Watch {
	case WatchBotRemoved:
		return !g.BotPresent, nil
	case WatchGroupGone:
		if g.Gone || !g.BotPresent {
			return true, nil
		}
		ms, err := rt.store.Members(ctx, t.Group)
		if err != nil {
			return false, err
		}
		for _, m := range ms {
			if m.Present && m.User != SelfID {
				return false, nil
			}
		}
		return true, nil
	case WatchMembersGone, WatchMembersAdded:
		want := t.Watch == WatchMembersAdded
		for _, u := range t.Users {
			m, err := rt.store.Member(ctx, t.Group, u)
			if errors.Is(err, ErrNotFound) {
				if want {
					return false, nil
				}
				continue
			}
			if err != nil {
				return false, err
			}
			if m.Present != want {
				return false, nil
			}
		}
		return true, nil
	}
	return false, nil
}

func (rt *Runtime) closeTask(ctx context.Context, t Task, state TaskState, note string) {
	t.State, t.Note = state, note
	if err := rt.UpdateTask(ctx, t); err != nil {
		rt.log.Error("task not updated", "task", t.ID, "err", err)
		return
	}
	_, _ = rt.Audit(ctx, AuditEntry{Group: t.Group, Action: "task." + state.String(), Detail: t.Title, Data: map[string]string{"task": t.ID, "note": note}})
	if state == TaskVerified {
		rt.NotifyOperators(ctx, rt.text("", rt.langFor(t.Group), "task.verified", map[string]string{"id": t.ID, "title": t.Title}), PrioReply)
	}
	if w, ok := rt.byName[t.Owner].(TaskWatcher); ok {
		if err := rt.safely(ctx, "task", t.Owner, func() error { return w.TaskClosed(ctx, t) }); err != nil {
			rt.log.Error("task owner failed", "task", t.ID, "err", err)
		}
	}
}

// sweepTasks expires old tasks and reminds operators about overdue ones.
func (rt *Runtime) sweepTasks(ctx context.Context) {
	tasks, err := rt.OpenTasks(ctx)
	if err != nil {
		rt.log.Error("tasks not read", "err", err)
		return
	}
	now := rt.clock.Now()
	remind := rt.Config().Tasks.RemindAfter.D()
	for _, t := range tasks {
		if ok, err := rt.taskOutcome(ctx, t); err == nil && ok && t.Watch != WatchNothing {
			rt.closeTask(ctx, t, TaskVerified, "observed at sweep")
			continue
		}
		if !t.Expires.IsZero() && now.After(t.Expires) {
			rt.closeTask(ctx, t, TaskExpired, "expired")
			continue
		}
		last := t.Alerted
		if last.IsZero() {
			last = t.Created
		}
		if remind > 0 && now.Sub(last) >= remind {
			t.Alerted = now
			if err := rt.UpdateTask(ctx, t); err != nil {
				continue
			}
			rt.Alert(ctx, Alert{Kind: AlertTaskOverdue, Group: t.Group, Key: "task/" + t.ID + "/" + now.Format("2006010215"),
				Text: rt.text("", rt.langFor(t.Group), "alert.task_overdue", map[string]string{"id": t.ID, "title": t.Title, "age": FormatDuration(now.Sub(t.Created), rt.langFor(t.Group)), "steps": t.Steps})})
		}
	}
}

// tasksCommand is /tasks (/待办): list open tasks; done/cancel one.
func (rt *Runtime) tasksCommand() *Command {
	id := Arg{Name: "id", Label: Text{ZH: "编号", EN: "id"}, Kind: ArgString}
	find := func(ctx context.Context, c *Call) (Task, error) {
		t, err := rt.store.Task(ctx, strings.ToUpper(FoldWidth(c.Args.String("id"))))
		if errors.Is(err, ErrNotFound) {
			return t, Errorf("no_task", "%s", rt.text("", c.Lang, "task.not_found", map[string]string{"id": c.Args.String("id")}))
		}
		return t, err
	}
	by := func(c *Call) string { return ActorName(c.Asker(), c.AskerName()) }
	return &Command{
		Name: "tasks", Aliases: []string{"待办", "任务"},
		Help:  Text{ZH: "查看需要人工在手机上完成的待办", EN: "List tasks a human must do on the phone"},
		Perm:  RoleOperator,
		Scope: ScopeBoth,
		Run: func(ctx context.Context, c *Call) error {
			tasks, err := rt.OpenTasks(ctx)
			if err != nil {
				return err
			}
			confs, err := rt.PendingConfirmations(ctx)
			if err != nil {
				return err
			}
			if len(tasks) == 0 && len(confs) == 0 {
				c.Reply(ctx, rt.text("", c.Lang, "task.none", nil))
				return nil
			}
			var b strings.Builder
			now := rt.clock.Now()
			loc := rt.Config().Location
			if len(tasks) > 0 {
				b.WriteString(rt.text("", c.Lang, "task.header", map[string]string{"n": strconv.Itoa(len(tasks))}))
			}
			for _, t := range tasks {
				gname := ""
				if g, ok := rt.GroupRecord(t.Group); ok {
					gname = g.Name
				}
				fmt.Fprintf(&b, "\n%s [%s] %s — %s（%s，%s）", t.ID, t.State, t.Title, gname, t.Group, FormatDuration(now.Sub(t.Created), c.Lang))
			}
			if len(confs) > 0 {
				if b.Len() > 0 {
					b.WriteString("\n")
				}
				b.WriteString(rt.text("", c.Lang, "task.confirm_header", map[string]string{"n": strconv.Itoa(len(confs))}))
				for _, cf := range confs {
					where := ""
					switch {
					case cf.Group != "" && c.Lang == LangEN:
						where = fmt.Sprintf("%s (%s), ", rt.groupName(cf.Group), cf.Group)
					case cf.Group != "":
						where = fmt.Sprintf("%s（%s），", rt.groupName(cf.Group), cf.Group)
					}
					b.WriteString("\n· " + rt.text("", c.Lang, "task.confirm_line", map[string]string{
						"action": cf.Action, "where": where, "expires": cf.Expires.In(loc).Format("01-02 15:04")}))
				}
			}
			c.Reply(ctx, b.String())
			return nil
		},
		Subcommands: []*Command{
			{Name: "done", Aliases: []string{"完成"}, Args: []Arg{id}, Perm: RoleOperator,
				Help: Text{ZH: "标记待办已在手机上完成（机器人仍会核实）", EN: "Mark a task done on the phone (the bot still verifies it)"},
				Run: func(ctx context.Context, c *Call) error {
					t, err := find(ctx, c)
					if err != nil {
						return err
					}
					if t.State != TaskOpen {
						c.Reply(ctx, rt.text("", c.Lang, "task.state", map[string]string{"id": t.ID, "state": t.State.String()}))
						return nil
					}
					if t.Watch == WatchNothing {
						rt.closeTask(ctx, t, TaskVerified, "confirmed by "+by(c))
						c.Reply(ctx, rt.text("", c.Lang, "task.closed", map[string]string{"id": t.ID}))
						return nil
					}
					t.State, t.Note = TaskDone, "claimed done by "+by(c)
					if err := rt.UpdateTask(ctx, t); err != nil {
						return err
					}
					_, _ = rt.Audit(ctx, AuditEntry{Group: t.Group, Actor: by(c), Action: "task.done", Detail: t.Title, Data: map[string]string{"task": t.ID}})
					if ok, err := rt.taskOutcome(ctx, t); err == nil && ok {
						rt.closeTask(ctx, t, TaskVerified, "verified after claim")
						return nil
					}
					c.Reply(ctx, rt.text("", c.Lang, "task.claimed", map[string]string{"id": t.ID}))
					return nil
				}},
			{Name: "cancel", Aliases: []string{"取消"}, Args: []Arg{id}, Perm: RoleOperator,
				Help: Text{ZH: "取消一个待办", EN: "Cancel a task"},
				Run: func(ctx context.Context, c *Call) error {
					t, err := find(ctx, c)
					if err != nil {
						return err
					}
					rt.closeTask(ctx, t, TaskCanceled, "canceled by "+by(c))
					c.Reply(ctx, rt.text("", c.Lang, "task.canceled", map[string]string{"id": t.ID}))
					return nil
				}},
		},
	}
}
