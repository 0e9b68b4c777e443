package countdown_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/bot/sim"
	"github.com/qunguan/qunguan/bot/simbot"
	"github.com/qunguan/qunguan/internal/failpoint"
	"github.com/qunguan/qunguan/plugins"
	"github.com/qunguan/qunguan/plugins/countdown"
	"github.com/qunguan/qunguan/plugins/export"
	"github.com/qunguan/qunguan/plugins/export/archive"
)

// fullDisk is an archive.FS on the real disk that runs out of space after
// a budget of bytes, as a full disk does part-way through an export.
type fullDisk struct {
	archive.OSFS
	mu   sync.Mutex
	left int64
}

func (d *fullDisk) setBudget(n int64) {
	d.mu.Lock()
	d.left = n
	d.mu.Unlock()
}

func (d *fullDisk) Create(path string) (archive.File, error) {
	f, err := d.OSFS.Create(path)
	if err != nil {
		return nil, err
	}
	return &budgetFile{File: f, d: d}, nil
}

type budgetFile struct {
	archive.File
	d *fullDisk
}

func (f *budgetFile) Write(p []byte) (int, error) {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	if f.d.left < int64(len(p)) {
		n := max(f.d.left, 0)
		f.d.left = 0
		w, _ := f.File.Write(p[:n])
		return w, &fs.PathError{Op: "write", Path: "archive", Err: syscall.ENOSPC}
	}
	f.d.left -= int64(len(p))
	return f.File.Write(p)
}

// tech is 技术交流群's durable id in the default world.
const tech = bot.GroupID("g_0001")

// gated builds the plugin list with an export plugin writing through fsys.
func gated(fsys archive.FS) func() []bot.Plugin {
	return func() []bot.Plugin {
		exp := export.New()
		exp.FS = fsys
		return []bot.Plugin{exp, countdown.New(exp)}
	}
}

// lifecycleOf reads a group's lifecycle by the group's durable id (its
// name changes at the freeze): the sim numbers the default world's groups
// g_0001 (技术交流群) and g_0002 (读书会).
func lifecycleOf(t *testing.T, h *bottest.Harness, g bot.GroupID) *countdown.Lifecycle {
	t.Helper()
	raw, err := h.Store.KV("countdown").Get(context.Background(), "lc/"+string(g))
	if err != nil {
		t.Fatal(err)
	}
	var lc countdown.Lifecycle
	if err := jsonUnmarshal(raw, &lc); err != nil {
		t.Fatal(err)
	}
	return &lc
}

// archivesUnder lists complete archives (folders with a manifest, zips)
// and leftovers (.partial) under the data dir's exports.
func archivesUnder(t *testing.T, dataDir string) (complete, partial []string) {
	t.Helper()
	root := filepath.Join(dataDir, "exports")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.SkipAll
		}
		if err != nil {
			return err
		}
		switch {
		case strings.Contains(d.Name(), ".partial"):
			partial = append(partial, p)
		case d.IsDir() && fileExists(filepath.Join(p, archive.ManifestFile)):
			complete = append(complete, p)
		case strings.HasSuffix(d.Name(), ".zip"):
			complete = append(complete, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return complete, partial
}

func start(t *testing.T, h *bottest.Harness, line string) {
	t.Helper()
	h.Do(line)
	out := h.Do("dm 王老师: /confirm {code}")
	if !strings.Contains(out, "已确认") {
		t.Fatalf("countdown not confirmed:\n%s", out)
	}
}

// TestExportFailureHaltsLifecycle: the disk fills up part-way through the
// export at the deadline. The lifecycle halts, operators get an
// export_failed alert, nothing is dissolved and nothing that looks like an
// archive is left. With space again, a confirmed retry dissolves.
func TestExportFailureHaltsLifecycle(t *testing.T) {
	disk := &fullDisk{left: 4000}
	h := bottest.New(t, bottest.Options{Plugins: gated(disk)})
	for i := 0; i < 30; i++ {
		h.Do("alice@技术交流群: 这是一条要写进档案的消息，第" + strings.Repeat("很长", 20) + "条")
	}
	start(t, h, "王老师@技术交流群: /解散倒计时 2小时 课程结束")
	out := h.Do("advance 2h")
	if !strings.Contains(out, "【告警】") && !strings.Contains(out, "【解散已暂停】") {
		t.Errorf("operators not alerted:\n%s", out)
	}
	if strings.Contains(out, "> dissolve") {
		t.Fatalf("dissolved after a failed export:\n%s", out)
	}
	lc := lifecycleOf(t, h, tech)
	if lc.State != countdown.StateHalted || !strings.Contains(lc.Halt, "导出失败") {
		t.Fatalf("state %s (%q), want halted by the export", lc.State, lc.Halt)
	}
	complete, partial := archivesUnder(t, h.DataDir)
	if len(complete)+len(partial) != 0 {
		t.Errorf("a failed export left %v %v", complete, partial)
	}
	found := false
	for _, a := range h.RT.RecentAlerts() {
		found = found || a.Kind == bot.AlertExportFailed
	}
	if !found {
		t.Error("no export_failed alert raised")
	}
	es, _ := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "countdown.halt"})
	if len(es) != 1 {
		t.Errorf("halt audited %d times", len(es))
	}
	// Days later the group still exists: nothing destructive happened.
	h.Do("advance 3d")
	if h.Sim.Group("【已解散】技术交流群") == nil {
		t.Fatal("the group was dissolved while halted")
	}
	// Space again; an operator retries with a code.
	disk.setBudget(1 << 40)
	if out := h.Do("dm 王老师: /countdown retry @技术交流群"); !strings.Contains(out, "/confirm") {
		t.Fatalf("no code asked for the retry:\n%s", out)
	}
	out = h.Do("dm 王老师: /confirm {code}", "advance 1m")
	if !strings.Contains(out, "> dissolve") {
		t.Fatalf("retry did not dissolve:\n%s", out)
	}
	if lc := lifecycleOf(t, h, tech); lc.State != countdown.StateDissolved {
		t.Errorf("after retry: %s", lc.State)
	}
	if complete, _ := archivesUnder(t, h.DataDir); len(complete) != 2 {
		t.Errorf("archives after the retry: %v, want one folder and its zip", complete)
	}
}

// TestTamperedArchiveHalts: someone changes the archive between its
// export and the readiness check; the re-verification catches it and the
// lifecycle halts with an alert instead of dissolving.
func TestTamperedArchiveHalts(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: lifecycle})
	h.Do("alice@技术交流群: 原始消息", "bob@技术交流群: 第二条")
	start(t, h, "王老师@技术交流群: /解散倒计时 1小时 结束")
	unset := failpoint.Set("countdown.export.done", func() {
		lc := lifecycleOf(t, h, tech)
		csv := filepath.Join(lc.Export.Dir, archive.MessagesCSV)
		b, err := os.ReadFile(csv)
		if err != nil {
			t.Error(err)
			return
		}
		if err := os.WriteFile(csv, []byte(strings.Replace(string(b), "原始消息", "篡改消息", 1)), 0o600); err != nil {
			t.Error(err)
		}
	})
	defer unset()
	out := h.Do("advance 1h")
	unset()
	if strings.Contains(out, "> dissolve") {
		t.Fatalf("dissolved with a tampered archive:\n%s", out)
	}
	lc := lifecycleOf(t, h, tech)
	if lc.State != countdown.StateHalted || !strings.Contains(lc.Halt, "校验失败") {
		t.Fatalf("state %s (%q), want halted by verification", lc.State, lc.Halt)
	}
	if !strings.Contains(out, "校验失败") {
		t.Errorf("operators not told why:\n%s", out)
	}
}

// TestSilentModeTellsOperatorsOnly: no group message, no rename.
func TestSilentModeTellsOperatorsOnly(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: lifecycle})
	start(t, h, "王老师@技术交流群: /解散倒计时 2小时 --静默 活动结束")
	out := h.Do("advance 1h", "advance 50m", "advance 10m")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "> send_text 技术交流群") || strings.HasPrefix(line, "> rename") {
			t.Errorf("silent mode sent to the group: %s", line)
		}
	}
	if !strings.Contains(out, "DM:王老师: 【倒计时】「技术交流群」还有 1小时") || !strings.Contains(out, "> dissolve 技术交流群") {
		t.Errorf("silent lifecycle incomplete:\n%s", out)
	}
	if !strings.Contains(out, "静默模式") {
		t.Errorf("readiness does not explain silent mode:\n%s", out)
	}
}

// TestGoneEarlyStillExports: the owner dissolves the group on the phone
// before the deadline; the bot exports what it recorded and ends.
func TestGoneEarlyStillExports(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: lifecycle})
	h.Do("alice@技术交流群: 再见")
	start(t, h, "王老师@技术交流群: /解散倒计时 3天 期末")
	out := h.Do("advance 1h", "dissolve 技术交流群")
	if !strings.Contains(out, "提前") && !strings.Contains(out, "计划解散前") {
		t.Errorf("operators not told of the early end:\n%s", out)
	}
	lc := lifecycleOf(t, h, tech)
	if lc.State != countdown.StateDissolved || lc.Export == nil || !lc.Early {
		t.Fatalf("state %s, export %v, early %v", lc.State, lc.Export, lc.Early)
	}
	if err := export.Check(lc.Export); err != nil {
		t.Error(err)
	}
	if out := h.Do("advance 3d"); strings.Contains(out, "提醒") {
		t.Errorf("reminders after the group was gone:\n%s", out)
	}
}

// TestInactiveRuleCanceledBySpeech: a group idle for the configured time
// gets a rule countdown request; once confirmed it counts down, and a
// person speaking cancels it.
func TestInactiveRuleCanceledBySpeech(t *testing.T) {
	cfg := `
platform: sim
language: zh
timezone: Asia/Shanghai
operators: [运营-王老师]
groups:
  - name: 技术交流群
    plugins:
      countdown:
        rules:
          inactive_for: 10d
          reason: 群已不活跃
  - name: 读书会
`
	h := bottest.New(t, bottest.Options{Plugins: lifecycle, Config: cfg})
	h.Do("alice@技术交流群: 最后一条")
	out := h.Do("advance 2d23h")
	if strings.Contains(out, "二次确认") {
		t.Fatalf("asked too early:\n%s", out)
	}
	// Now within 7 days (the longest reminder) of the rule's deadline.
	out = h.Do("advance 1h")
	if !strings.Contains(out, "按配置规则（inactive）解散群「技术交流群」") {
		t.Fatalf("rule did not ask:\n%s", out)
	}
	out = h.Do("dm 王老师: /confirm {code}")
	if !strings.Contains(out, "📢 本群将于") || !strings.Contains(out, "群已不活跃") {
		t.Fatalf("rule countdown not started:\n%s", out)
	}
	out = h.Do("bob@技术交流群: 我还在！")
	if !strings.Contains(out, "已自动取消") || !strings.Contains(out, "解散倒计时已取消") {
		t.Fatalf("speech did not cancel:\n%s", out)
	}
	if lc := lifecycleOf(t, h, tech); lc.State != countdown.StateCanceled {
		t.Errorf("state %s", lc.State)
	}
	// The rule's new deadline (10 days after bob) is not asked before its time.
	if out := h.Do("advance 1d"); strings.Contains(out, "二次确认") {
		t.Errorf("asked again at once:\n%s", out)
	}
}

// TestAfterFirstSeenRuleAndLapse: a rule request nobody confirms lapses and
// is asked again a day later, not every hour.
func TestAfterFirstSeenRuleAndLapse(t *testing.T) {
	cfg := bottest.DefaultConfigWith("plugins:\n  countdown:\n    rules:\n      after_first_seen: 3d\n")
	h := bottest.New(t, bottest.Options{Plugins: lifecycle, Config: cfg})
	// The rules are looked at when the bot logs in: both groups are within
	// the longest reminder offset of their deadline.
	out := simbot.FormatActions(h.Actions())
	if strings.Count(out, "二次确认") != 2 {
		t.Fatalf("want one request per managed group:\n%s", out)
	}
	out = h.Do("advance 1h")
	if !strings.Contains(out, "未在有效期内确认") || strings.Contains(out, "二次确认") {
		t.Fatalf("lapse not reported, or asked again within the hour:\n%s", out)
	}
	out = h.Do("advance 23h") // lapsed at 09:30; now 09:00 the next day
	if strings.Contains(out, "二次确认") {
		t.Errorf("asked again within a day:\n%s", out)
	}
	out = h.Do("advance 1h")
	if strings.Count(out, "二次确认") != 2 {
		t.Errorf("not asked again after a day:\n%s", out)
	}
}

// TestAuditCommand: operators read the recent entries of one group by DM,
// and whether the chain verifies; members cannot.
func TestAuditCommand(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: lifecycle})
	start(t, h, "王老师@技术交流群: /解散倒计时 1天 结束")
	h.Do("dm 王老师: /countdown cancel @技术交流群")
	out := h.Do("dm 王老师: /审计 @技术交流群 5")
	for _, want := range []string{"哈希链校验通过", "倒计时开始 u_0001", "倒计时取消", "验证码已确认"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit reply lacks %q:\n%s", want, out)
		}
	}
	if out := h.Do("dm alice: /audit"); !strings.Contains(out, "权限不足") {
		t.Errorf("member read the audit log:\n%s", out)
	}
	if out := h.Do("王老师@技术交流群: /audit"); !strings.Contains(out, "只能私聊") {
		t.Errorf("audit answered in the group:\n%s", out)
	}
}

// kickOnly is web WeChat's capabilities plus Kick: a platform that can
// remove members but not dissolve.
type kickOnly struct{ *sim.WebLikePlatform }

func (k kickOnly) Kick(ctx context.Context, g bot.GroupID, users ...bot.UserID) error {
	return k.Sim().Kick(ctx, g, users...)
}

var _ bot.Kicker = kickOnly{}

// TestKickerRemovesEveryMember: without a Dissolver, a platform that can
// kick has every member removed; the group counts as dissolved when the
// bot sees nobody left, and operators are told the bot is still in it.
func TestKickerRemovesEveryMember(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: lifecycle,
		Platform: func(p *sim.Platform) bot.Platform { return kickOnly{sim.WebLike(p)} }})
	start(t, h, "王老师@读书会: /解散倒计时 1小时 活动结束")
	out := h.Do("advance 1h")
	if !strings.Contains(out, "> kick 【已解散】读书会 [王老师, alice, dave]") {
		t.Fatalf("members not removed:\n%s", out)
	}
	if !strings.Contains(out, "移出了全部成员") {
		t.Errorf("operators not told how it ended:\n%s", out)
	}
	lc := lifecycleOf(t, h, bot.GroupID("g_0002"))
	if lc.State != countdown.StateDissolved || lc.Method != "kicker" || lc.Observed != "all members removed" {
		t.Errorf("state %s method %s observed %q", lc.State, lc.Method, lc.Observed)
	}
}

// TestAtRuleAsksBeforeCronTime: a rule naming the end of a course by cron
// asks for a code within the longest reminder offset of that time.
func TestAtRuleAsksBeforeCronTime(t *testing.T) {
	// 18:00 on 9 March; the bot starts on Monday 2 March 09:00.
	cfg := bottest.DefaultConfigWith("plugins:\n  countdown:\n    reminders: [1d, 1h]\n    rules:\n      at: \"0 18 9 3 *\"\n      reason: 课程结束\n")
	h := bottest.New(t, bottest.Options{Plugins: lifecycle, Config: cfg})
	if out := simbot.FormatActions(h.Actions()); strings.Contains(out, "二次确认") {
		t.Fatalf("asked a week early:\n%s", out)
	}
	if out := h.Do("advance 6d8h"); strings.Contains(out, "二次确认") { // 03-08 17:00
		t.Fatalf("asked more than a day early:\n%s", out)
	}
	out := h.Do("advance 1h") // 03-08 18:00: a day before
	if strings.Count(out, "按配置规则（at）") != 2 || !strings.Contains(out, "03-09 18:00 解散") {
		t.Fatalf("rule did not ask for the cron time:\n%s", out)
	}
}

// TestRestoreWindow: /restore is refused once the window has passed.
func TestRestoreWindow(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: lifecycle})
	start(t, h, "王老师@读书会: /解散 结束")
	h.Do("advance 1m")
	if lc := lifecycleOf(t, h, bot.GroupID("g_0002")); lc.State != countdown.StateDissolved {
		t.Fatalf("not dissolved: %s", lc.State)
	}
	h.Do("advance 73h")
	out := h.Do("dm 王老师: /restore 读书会")
	if !strings.Contains(out, "恢复期 3天 已过") || strings.Contains(out, "create_group") {
		t.Errorf("restore after the window:\n%s", out)
	}
	if out := h.Do("dm 王老师: /restore 不存在的群"); !strings.Contains(out, "没有可恢复") {
		t.Errorf("unknown group:\n%s", out)
	}
}

// TestExpiredTaskHalts: nobody dissolves the group on the phone; when the
// task expires the lifecycle halts, nothing is reported dissolved, and
// operators are told.
func TestExpiredTaskHalts(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: lifecycle, WebLike: true})
	start(t, h, "王老师@读书会: /解散倒计时 1小时 活动结束")
	if out := h.Do("advance 1h"); !strings.Contains(out, "【待办 T1】") {
		t.Fatalf("no task:\n%s", out)
	}
	out := h.Do("advance 7d1h")
	if !strings.Contains(out, "【解散已暂停】") || strings.Contains(out, "已解散（") {
		t.Errorf("expired task not reported as a halt:\n%s", out)
	}
	if lc := lifecycleOf(t, h, bot.GroupID("g_0002")); lc.State != countdown.StateHalted {
		t.Errorf("state %s, want halted", lc.State)
	}
}

// TestCancelAfterPostponementRestoresGroup: a postponed (frozen, renamed)
// group that is canceled gets its name back and is no longer frozen.
func TestCancelAfterPostponementRestoresGroup(t *testing.T) {
	cfg := bottest.DefaultConfigWith("plugins:\n  countdown:\n    readiness_threshold: 100\n")
	h := bottest.New(t, bottest.Options{Plugins: lifecycle, Config: cfg})
	h.Do("王老师@技术交流群: /解散 试一下")
	out := h.Do("dm 王老师: /confirm {code}")
	if !strings.Contains(out, "⏸ 解散推迟到") {
		t.Fatalf("not postponed:\n%s", out)
	}
	if g, _ := h.RT.GroupRecord(tech); !g.Frozen || g.Name != "【已解散】技术交流群" {
		t.Fatalf("not frozen and renamed: %+v", g)
	}
	out = h.Do("王老师@【已解散】技术交流群: /解散倒计时 取消")
	if !strings.Contains(out, "> rename 【已解散】技术交流群: 技术交流群") || !strings.Contains(out, "已解除冻结") {
		t.Errorf("cancel did not undo the freeze:\n%s", out)
	}
	if g, _ := h.RT.GroupRecord(tech); g.Frozen || g.Name != "技术交流群" {
		t.Errorf("after cancel: %+v", g)
	}
	if out := h.Do("advance 2d"); strings.Contains(out, "dissolve") {
		t.Errorf("dissolved after cancel:\n%s", out)
	}
}

// TestGroupStatusLine: the operator console's one line about a group.
func TestGroupStatusLine(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: lifecycle})
	p := h.Plugins[1].(*countdown.Plugin)
	ctx := context.Background()
	if s := p.GroupStatus(ctx, tech, bot.LangZH); s != "" {
		t.Errorf("status without a countdown: %q", s)
	}
	start(t, h, "王老师@技术交流群: /解散倒计时 3天 期末")
	if s := p.GroupStatus(ctx, tech, bot.LangZH); s != "倒计时：倒计时中，03-05 09:00" {
		t.Errorf("zh status: %q", s)
	}
	if s := p.GroupStatus(ctx, tech, bot.LangEN); s != "Countdown: counting down, 03-05 09:00" {
		t.Errorf("en status: %q", s)
	}
}

// cardInvites can do everything the sim can, but its invitations are
// cards the invited must accept: nobody joins when Invite returns.
type cardInvites struct{ *sim.Platform }

func (cardInvites) Invite(ctx context.Context, g bot.GroupID, users ...bot.UserID) error { return nil }

// TestRestoreWaitsForInvitedMembers: the bot reports only who it sees in
// the new group, and a task closes when the rest join.
func TestRestoreWaitsForInvitedMembers(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: lifecycle, Platform: func(p *sim.Platform) bot.Platform { return cardInvites{p} }})
	// 王老师, 李助教 and alice (小A here) are the bot's friends; bob and carol are not.
	h.Do("alice@技术交流群: 你好")
	start(t, h, "王老师@技术交流群: /解散 活动结束")
	h.Do("advance 1m")
	out := h.Do("dm 王老师: /restore 技术交流群")
	if !strings.Contains(out, "邀请 3 人，已进群 2 人") || !strings.Contains(out, "尚未进群：小A") || !strings.Contains(out, "【待办 T1】") {
		t.Fatalf("restore did not report the pending member:\n%s", out)
	}
	out = h.Do("+alice@技术交流群")
	if !strings.Contains(out, "【待办 T1 已核实完成】") {
		t.Fatalf("task not closed when alice joined:\n%s", out)
	}
	lc := lifecycleOf(t, h, tech)
	if lc.Restore == nil || len(lc.Restore.Missing) != 0 || len(lc.Restore.Joined) != 3 {
		t.Errorf("restore record: %+v", lc.Restore)
	}
}

// TestReadinessCountsPendingModeration runs every plugin: moderation
// leaves an open task (a member to remove by hand on web WeChat), and the
// readiness score says so before the group is dissolved.
func TestReadinessCountsPendingModeration(t *testing.T) {
	cfg := `
platform: sim
language: zh
timezone: Asia/Shanghai
operators: [运营-王老师]
groups:
  - name: 技术交流群
plugins:
  moderation:
    categories:
      fraud:
        label: {zh: 诈骗, en: fraud}
        points: 3
        words: [刷单返利]
`
	h := bottest.New(t, bottest.Options{Plugins: plugins.All, Config: cfg, WebLike: true})
	out := h.Do("bob@技术交流群: 刷单返利，稳赚", "bob@技术交流群: 刷单返利，快来")
	if !strings.Contains(out, "【待办 T1】") {
		t.Fatalf("moderation left no task:\n%s", out)
	}
	h.Do("王老师@技术交流群: /解散 活动结束")
	out = h.Do("dm 王老师: /confirm {code}")
	if !strings.Contains(out, "✘ 还有 1 个未完成的待办：T1") {
		t.Errorf("readiness does not name the pending task:\n%s", out)
	}
}
