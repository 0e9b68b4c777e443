package countdown

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/internal/failpoint"
)

// inviteBatch is how many people one invite call adds: web WeChat adds
// directly below 40 members and sends invitation cards above.
const inviteBatch = 39

// restoreCommand recreates a dissolved group within the restore window and
// adds back the former members who are the bot's friends (the platform can
// add friends only), then reads the member list to report who is really in.
func (p *Plugin) restoreCommand(ctx context.Context, c *bot.Call) error {
	query := strings.TrimSpace(strings.TrimPrefix(c.Args.String("group"), "@"))
	lc, err := p.findDissolved(ctx, c.Group, query)
	if err != nil {
		return err
	}
	if lc == nil {
		if query == "" {
			query = c.GroupName
		}
		return bot.Errorf("none", "%s", c.T("countdown.restore.none", map[string]string{"name": query}))
	}
	if lc.State == StateRestored && lc.Restore != nil {
		return bot.Errorf("done", "%s", c.T("countdown.restore.done_already", map[string]string{"group": lc.Name, "id": string(lc.Restore.NewGroup)}))
	}
	window := p.cfg(lc.Group).RestoreWindow.D()
	if p.env.Now().Sub(lc.Dissolved) > window {
		return bot.Errorf("expired", "%s", c.T("countdown.restore.expired", map[string]string{"group": lc.Name, "when": p.when(lc.Dissolved), "window": bot.FormatDuration(window, c.Lang)}))
	}
	plat := p.env.Platform()
	friends, err := plat.Friends(ctx)
	if err != nil {
		return err
	}
	isFriend := map[bot.UserID]bool{}
	for _, f := range friends {
		isFriend[f.ID] = true
	}
	var back, strangers []bot.UserID
	for _, u := range lc.Members {
		if isFriend[u] {
			back = append(back, u)
		} else {
			strangers = append(strangers, u)
		}
	}
	creator, canCreate := plat.(bot.GroupCreator)
	inviter, canInvite := plat.(bot.Inviter)
	if !canCreate || !canInvite {
		return bot.Errorf("cannot", "%s", c.T("countdown.restore.cannot", map[string]string{"group": lc.Name, "names": p.names(ctx, lc.Group, lc.Members)}))
	}
	if len(back) < 2 {
		return bot.Errorf("few", "%s", c.T("countdown.restore.few", map[string]string{"n": strconv.Itoa(len(back)), "names": p.names(ctx, lc.Group, lc.Members)}))
	}
	by := actor(c)
	// The restore is written down before the group is created, and the new
	// group's id right after, so a retry never creates a second group.
	lc, ok, err := p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error {
		if lc.State != StateDissolved {
			return errStale
		}
		if lc.Restore == nil {
			lc.Restore = &RestoreInfo{By: by, Started: p.env.Now()}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !ok {
		return bot.Errorf("none", "%s", c.T("countdown.restore.none", map[string]string{"name": query}))
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Actor: by, Action: "countdown.restore",
		Detail: fmt.Sprintf("restoring %q with %d former members who are friends", lc.Name, len(back)),
		Data:   map[string]string{"countdown": lc.ID, "friends": strconv.Itoa(len(back)), "not_friends": strconv.Itoa(len(strangers))}}); err != nil {
		return err
	}
	newG := lc.Restore.NewGroup
	if newG == "" {
		newG, err = creator.CreateGroup(ctx, lc.Name, back[:2]...)
		if err != nil {
			_, _ = p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Actor: by, Action: "countdown.restore_failed", Detail: "create group: " + err.Error(), Data: map[string]string{"countdown": lc.ID}})
			return bot.Errorf("failed", "%s", c.T("countdown.restore.failed", map[string]string{"err": bot.ShortError(err, 300)}))
		}
		if _, _, err := p.update(ctx, lc.Group, lc.ID, func(lc *Lifecycle) error { lc.Restore.NewGroup = newG; return nil }); err != nil {
			return err
		}
		failpoint.Inject("countdown.restore.created")
	}
	present := func() (map[bot.UserID]bool, error) {
		ms, err := plat.Members(ctx, newG)
		if err != nil {
			return nil, err
		}
		in := map[bot.UserID]bool{}
		for _, m := range ms {
			in[m.ID] = true
		}
		return in, nil
	}
	in, err := present()
	if err != nil {
		return err
	}
	var todo []bot.UserID
	for _, u := range back {
		if !in[u] {
			todo = append(todo, u)
		}
	}
	for batch := range slices.Chunk(todo, inviteBatch) {
		if err := inviter.Invite(ctx, newG, batch...); err != nil {
			p.env.Log.Warn("restore invite failed", "group_id", string(newG), "err", err)
		}
	}
	// Believe the member list, not the invite calls.
	if in, err = present(); err != nil {
		return err
	}
	var joined, missing []bot.UserID
	for _, u := range back {
		if in[u] {
			joined = append(joined, u)
		} else {
			missing = append(missing, u)
		}
	}
	lc, ok, err = p.transit(ctx, lc.Group, lc.ID, []State{StateDissolved}, StateRestored, func(lc *Lifecycle) {
		lc.Restore.Invited, lc.Restore.Joined, lc.Restore.Missing, lc.Restore.Done = back, joined, missing, p.env.Now()
	})
	if err != nil || !ok {
		return err
	}
	if _, err := p.env.Audit(ctx, bot.AuditEntry{Group: lc.Group, Actor: by, Action: "countdown.restored",
		Detail: fmt.Sprintf("restored as %s: %d invited, %d joined, %d not friends", newG, len(back), len(joined), len(strangers)),
		Data:   map[string]string{"countdown": lc.ID, "new_group": string(newG), "joined": strconv.Itoa(len(joined)), "missing": strconv.Itoa(len(missing))}}); err != nil {
		return err
	}
	p.announce(ctx, newG, p.env.T(p.env.Lang(lc.Group), "countdown.restore.welcome", nil))
	vars := map[string]string{"group": lc.Name, "id": string(newG), "invited": strconv.Itoa(len(back)), "joined": strconv.Itoa(len(joined))}
	if len(missing) > 0 {
		// Invited but not in yet (an invitation card waits to be
		// accepted): a task watches for them, and closes when they are in.
		names := p.names(ctx, lc.Group, missing)
		opLang := p.env.Lang("")
		t, err := p.env.CreateTask(ctx, bot.Task{Kind: "restore_members", Ref: lc.ID, Group: newG, Users: missing, Watch: bot.WatchMembersAdded,
			Title: p.env.T(opLang, "countdown.restore.task_title", map[string]string{"group": lc.Name}),
			Steps: p.env.T(opLang, "countdown.restore.task_steps", map[string]string{"group": lc.Name, "names": names})})
		if err != nil {
			return err
		}
		vars["missing"] = c.T("countdown.restore.missing", map[string]string{"names": names, "task": t.ID})
	}
	if len(strangers) > 0 {
		vars["strangers"] = c.T("countdown.restore.strangers", map[string]string{"names": p.names(ctx, lc.Group, strangers)})
	}
	c.Reply(ctx, strings.TrimSpace(c.T("countdown.restore.result", withDefaults(vars, "missing", "strangers"))))
	return nil
}

func withDefaults(m map[string]string, keys ...string) map[string]string {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			m[k] = ""
		}
	}
	return m
}

// findDissolved finds a dissolved (or restored) lifecycle by the group the
// router resolved, or by name or id.
func (p *Plugin) findDissolved(ctx context.Context, g bot.GroupID, query string) (*Lifecycle, error) {
	if g != "" {
		lc, err := p.load(ctx, g)
		if err != nil || lc == nil {
			return nil, err
		}
		if lc.State == StateDissolved || lc.State == StateRestored {
			return lc, nil
		}
		return nil, nil
	}
	if query == "" {
		return nil, nil
	}
	lcs, err := p.all(ctx)
	if err != nil {
		return nil, err
	}
	q := norm(query)
	var best *Lifecycle
	for _, lc := range lcs {
		if lc.State != StateDissolved && lc.State != StateRestored {
			continue
		}
		cur := ""
		if rec, ok := p.env.Group(lc.Group); ok {
			cur = rec.Name
		}
		if norm(lc.Name) == q || norm(cur) == q || string(lc.Group) == query || norm(p.baseName(lc.Group, cur)) == q {
			if best == nil || lc.Dissolved.After(best.Dissolved) {
				best = lc
			}
		}
	}
	return best, nil
}

func norm(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(bot.FoldWidth(s)), ""))
}

// names lists people by their name in g, for operators.
func (p *Plugin) names(ctx context.Context, g bot.GroupID, us []bot.UserID) string {
	var out []string
	for _, u := range us {
		n := string(u)
		if m, err := p.env.Store.Member(ctx, g, u); err == nil {
			n = m.DisplayName()
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, "、")
}
