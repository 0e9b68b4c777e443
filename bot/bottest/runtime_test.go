package bottest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/internal/failpoint"
)

// probe is a test plugin: it records events, panics on request and owns timers.
type probe struct {
	env  *bot.Env
	mu   sync.Mutex
	seen []string
}

func (p *probe) Name() string            { return "probe" }
func (p *probe) Init(env *bot.Env) error { p.env = env; return nil }

func (p *probe) HandleEvent(ctx context.Context, ev *bot.Event) error {
	if ev.Text() == "panic!" {
		panic("probe was asked to panic")
	}
	p.mu.Lock()
	p.seen = append(p.seen, ev.Kind.String()+":"+ev.Text())
	p.mu.Unlock()
	return nil
}

func (p *probe) Commands() []*bot.Command {
	timer := func(kind string, missed bot.MissedPolicy) func(ctx context.Context, c *bot.Call) error {
		return func(ctx context.Context, c *bot.Call) error {
			_, err := p.env.At(ctx, bot.TimerSpec{Kind: kind, Group: c.Group, Due: p.env.Now().Add(c.Args.Duration("in")), Missed: missed})
			if err == nil {
				c.Reply(ctx, kind+" set")
			}
			return err
		}
	}
	in := []bot.Arg{{Name: "in", Kind: bot.ArgDuration}}
	return []*bot.Command{
		{Name: "later", Args: in, Perm: bot.RoleAdmin, Scope: bot.ScopeGroup, Run: timer("ping", bot.MissedRun), Help: bot.Text{ZH: "测试定时"}},
		{Name: "destroy", Args: in, Perm: bot.RoleOperator, Scope: bot.ScopeGroup, Run: timer("destroy", bot.MissedConfirm), Help: bot.Text{ZH: "测试破坏性定时"}},
		{Name: "boom", Perm: bot.RoleMember, Scope: bot.ScopeBoth, Help: bot.Text{ZH: "测试崩溃"}, Run: func(ctx context.Context, c *bot.Call) error { panic("boom") }},
		{Name: "oops", Perm: bot.RoleMember, Scope: bot.ScopeBoth, Help: bot.Text{ZH: "测试内部错误"}, Run: func(ctx context.Context, c *bot.Call) error { return errors.New("disk on fire") }},
	}
}

func (p *probe) HandleTimer(ctx context.Context, t bot.TimerRecord) error {
	p.env.Send(ctx, bot.ToGroup(t.Group), "fired "+t.Kind, bot.PrioBulk)
	return nil
}

func (p *probe) DescribeTimer(t bot.TimerRecord, lang bot.Lang) string { return "probe " + t.Kind }

func newProbeHarness(t *testing.T, o bottest.Options) (*bottest.Harness, func() *probe) {
	var mu sync.Mutex
	var cur *probe
	o.Plugins = func() []bot.Plugin {
		mu.Lock()
		defer mu.Unlock()
		cur = &probe{}
		return []bot.Plugin{cur}
	}
	h := bottest.New(t, o)
	return h, func() *probe { mu.Lock(); defer mu.Unlock(); return cur }
}

func contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestNicknameImpersonationGainsNothing(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	// bob makes himself look like the operator by nickname and group card.
	h.Do("nick bob -> 运营-王老师", "card 技术交流群 运营-王老师 王老师")
	out := h.Do("运营-王老师@技术交流群: /admin add carol")
	if !strings.Contains(out, "权限不足") {
		t.Fatalf("impersonator was not refused:\n%s", out)
	}
	out = h.Do("运营-王老师@技术交流群: /destroy 1d")
	if !strings.Contains(out, "权限不足") {
		t.Fatalf("impersonator ran an operator command:\n%s", out)
	}
	// The real operator (remark set on the bot's phone) is obeyed.
	out = h.Do("王老师@技术交流群: /admin add carol")
	if !strings.Contains(out, "已将 carol 设为本群管理员") {
		t.Fatalf("operator refused:\n%s", out)
	}
	// A member's help lists only what a member may run.
	out = h.Do("运营-王老师@技术交流群: /help")
	if strings.Contains(out, "/destroy") || strings.Contains(out, "/safemode") || !strings.Contains(out, "/help") {
		t.Errorf("member help shows operator commands:\n%s", out)
	}
}

func TestUsageLineOnWrongArguments(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	h.Do("王老师@技术交流群: /admin add 李助教")
	out := h.Do("李助教@技术交流群: /later soon")
	if !strings.Contains(out, "用法：/later <in>") {
		t.Errorf("no usage line:\n%s", out)
	}
}

func TestPanicInPluginDoesNotStopNextEvent(t *testing.T) {
	h, get := newProbeHarness(t, bottest.Options{})
	h.Do("alice@技术交流群: panic!")
	h.Do("alice@技术交流群: after the panic")
	if !contains(get().seen, "message:after the panic") {
		t.Errorf("event after a panic not handled: %v", get().seen)
	}
	out := h.Do("alice@技术交流群: /boom")
	if !strings.Contains(out, "内部错误") {
		t.Errorf("panicking command not answered:\n%s", out)
	}
	out = h.Do("alice@技术交流群: /oops")
	if !strings.Contains(out, "内部错误") || strings.Contains(out, "disk on fire") {
		t.Errorf("internal error leaked or unanswered:\n%s", out)
	}
	if h.RT.Counters().Panics < 2 {
		t.Errorf("panics counted = %d", h.RT.Counters().Panics)
	}
}

func TestTimerFiresAfterThreeDaysAcrossReopen(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	h.Do("王老师@技术交流群: /admin add 李助教")
	if out := h.Do("李助教@技术交流群: /later 3d"); !strings.Contains(out, "ping set") {
		t.Fatalf("timer not set:\n%s", out)
	}
	h.Advance(36 * time.Hour)
	if txt := h.Texts(); contains(txt, "fired") {
		t.Fatalf("fired early: %v", txt)
	}
	// Graceful stop and start on the same data dir within the deadline:
	// the timer is re-armed from the store.
	h.Restart()
	h.Advance(36*time.Hour + time.Minute)
	if txt := h.Texts(); !contains(txt, "技术交流群: fired ping") {
		t.Fatalf("timer did not fire after reopen: %v", txt)
	}
	h.Advance(72 * time.Hour)
	if txt := h.Texts(); contains(txt, "fired") {
		t.Errorf("timer fired twice: %v", txt)
	}
}

func TestMissedDestructiveTimerWaitsForConfirmation(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	h.Do("王老师@技术交流群: /destroy 1d", "王老师@技术交流群: /later 1d")
	h.StopBot()
	h.Advance(2 * 24 * time.Hour) // the bot is down when both are due
	h.StartBot()
	txt := h.Texts()
	// The benign timer runs at start; the destructive one does not.
	if !contains(txt, "fired ping") {
		t.Errorf("missed benign timer did not run at start: %v", txt)
	}
	if contains(txt, "fired destroy") {
		t.Fatalf("missed destructive timer ran late without confirmation: %v", txt)
	}
	var code string
	for _, s := range txt {
		if strings.HasPrefix(s, "DM:王老师:") && strings.Contains(s, "probe destroy") {
			i := strings.Index(s, "/confirm ")
			code = s[i+len("/confirm ") : i+len("/confirm ")+6]
		}
	}
	if code == "" {
		t.Fatalf("operator was not asked to confirm: %v", txt)
	}
	// A member cannot confirm; a wrong code is refused; the right one runs it once.
	if out := h.Do("dm alice: /confirm " + code); !strings.Contains(out, "权限不足") {
		t.Errorf("member confirmed:\n%s", out)
	}
	if out := h.Do("dm 王老师: /confirm 000000"); !strings.Contains(out, "无效") {
		t.Errorf("wrong code accepted:\n%s", out)
	}
	out := h.Do("dm 王老师: /confirm " + code)
	if !strings.Contains(out, "fired destroy") {
		t.Fatalf("confirmed timer did not run:\n%s", out)
	}
	if out := h.Do("dm 王老师: /confirm " + code); !strings.Contains(out, "无效") {
		t.Errorf("code reused:\n%s", out)
	}
	// The held timer does not come back after another restart.
	h.Restart()
	h.Advance(time.Hour)
	if contains(h.Texts(), "fired destroy") {
		t.Error("destructive timer ran again after restart")
	}
}

// TestInterruptedConfirmationIsFinishedAtStart: a code accepted by a bot
// that stopped before acting on it (here a panic at the point where a real
// crash would hit) is not lost: the next start finishes the action once and
// tells the operator, and later starts do not repeat it.
func TestInterruptedConfirmationIsFinishedAtStart(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	h.Do("王老师@技术交流群: /destroy 1d")
	h.StopBot()
	h.Advance(2 * 24 * time.Hour)
	h.StartBot()
	var code string
	for _, s := range h.Texts() {
		if i := strings.Index(s, "/confirm "); strings.HasPrefix(s, "DM:王老师:") && i >= 0 {
			code = s[i+len("/confirm ") : i+len("/confirm ")+6]
		}
	}
	if code == "" {
		t.Fatal("operator was not asked to confirm")
	}
	unset := failpoint.Set("confirm.used", func() { panic("power cut") })
	out := h.Do("dm 王老师: /confirm " + code)
	unset()
	if strings.Contains(out, "fired destroy") {
		t.Fatalf("the interrupted action ran anyway:\n%s", out)
	}
	h.Restart()
	txt := h.Texts()
	if !contains(txt, "技术交流群: fired destroy") || !contains(txt, "DM:王老师: 机器人在执行你确认的操作时中断了，重启后已接着完成") {
		t.Fatalf("interrupted confirmation not finished at start: %v", txt)
	}
	if out := h.Do("dm 王老师: /confirm " + code); !strings.Contains(out, "无效") {
		t.Errorf("code reused after the restart:\n%s", out)
	}
	h.Restart()
	h.Advance(time.Hour)
	if txt := h.Texts(); contains(txt, "fired destroy") || contains(txt, "中断") {
		t.Errorf("finished confirmation replayed on the next start: %v", txt)
	}
}

func TestConfigReloadRefusedKeepsOldConfig(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	good := bottest.DefaultConfigWith("command_prefixes: [\"!\"]\n")
	h.WriteConfig(good)
	if out := h.Do("dm 王老师: /reload"); !strings.Contains(out, "已重新加载") {
		t.Fatalf("valid reload refused:\n%s", out)
	}
	if out := h.Do("alice@技术交流群: !help"); !strings.Contains(out, "可用命令") {
		t.Fatalf("new prefix not in effect:\n%s", out)
	}
	// A broken edit: refused with file, line and reason; the old config stays.
	h.WriteConfig(good + "pacer:\n  burst: 0\n")
	out := h.Do("dm 王老师: !reload")
	if !strings.Contains(out, "未生效") || !strings.Contains(out, "config.yaml:") || !strings.Contains(out, "pacer.burst") {
		t.Fatalf("broken reload not refused with file and line:\n%s", out)
	}
	if out := h.Do("alice@技术交流群: !help"); !strings.Contains(out, "可用命令") {
		t.Errorf("old config stopped working after a refused reload:\n%s", out)
	}
	es, err := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "config."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if !contains(actions, "config.reload") || !contains(actions, "config.refused") {
		t.Errorf("reloads not audited: %v", actions)
	}
}

func TestDMTargetsGroupByName(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	out := h.Do("dm 王老师: /admin add @技术 李助教")
	if !strings.Contains(out, "DM:王老师: 已将 李助教 设为本群管理员") {
		t.Fatalf("DM with @group prefix match failed:\n%s", out)
	}
	out = h.Do("dm 王老师: /later 1d --group 不存在的群")
	if !strings.Contains(out, "找不到群") {
		t.Errorf("unknown group not reported:\n%s", out)
	}
	out = h.Do("dm alice: /destroy 1d @读书会")
	if !strings.Contains(out, "权限不足") {
		t.Errorf("member ran an operator command by DM:\n%s", out)
	}
}

func TestFileHelperIsOwner(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	out := h.Do("owner: /status")
	if !strings.Contains(out, "send_text filehelper:") || !strings.Contains(out, "状态：在线") {
		t.Errorf("owner command not answered in File Transfer:\n%s", out)
	}
}

func TestSafeModeHoldsSends(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	out := h.Do("dm 王老师: /safemode on")
	if !strings.Contains(out, "安全模式已开启") {
		t.Fatalf("no safe mode ack:\n%s", out)
	}
	if out := h.Do("alice@技术交流群: /help"); out != "" {
		t.Fatalf("sent during safe mode:\n%s", out)
	}
	out = h.Do("dm 王老师: /safemode off")
	if !strings.Contains(out, "可用命令") || !strings.Contains(out, "安全模式已关闭") {
		t.Errorf("held sends not released:\n%s", out)
	}
}

func TestSecondOpenOfDataDirFails(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	_, err := bottestOpen(h.DataDir)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("another qunguan is using %q", h.DataDir)) {
		t.Fatalf("second open: %v", err)
	}
}

func TestDataDirPermissions(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	st, err := os.Stat(h.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", st.Mode().Perm())
	}
}

func TestRenamedGroupStaysManaged(t *testing.T) {
	h, get := newProbeHarness(t, bottest.Options{})
	// The config names 技术交流群; a member renames it. It is the same group
	// (same durable id), so it keeps being managed and recorded.
	h.Do("rename 技术交流群 -> 技术交流群二期 by alice")
	out := h.Do("alice@技术交流群二期: /help")
	if !strings.Contains(out, "send_text 技术交流群二期:") || !strings.Contains(out, "可用命令") {
		t.Fatalf("renamed group no longer answered:\n%s", out)
	}
	if !contains(get().seen, "message:/help") {
		t.Errorf("plugins did not see the renamed group's event: %v", get().seen)
	}
	managed := h.RT.ManagedGroups()
	found := false
	for _, g := range managed {
		found = found || g.Name == "技术交流群二期"
	}
	if !found {
		t.Errorf("renamed group missing from ManagedGroups: %v", managed)
	}
	// A group the config never named is still not managed.
	if out := h.Do("dm 王老师: /later 1d --group 不相干的群"); !strings.Contains(out, "找不到群") {
		t.Errorf("unknown group resolved:\n%s", out)
	}
}

func TestOldConfirmationsArePruned(t *testing.T) {
	h, _ := newProbeHarness(t, bottest.Options{})
	h.Do("王老师@技术交流群: /destroy 1d")
	h.StopBot()
	h.Advance(2 * 24 * time.Hour)
	h.StartBot()
	count := func() int {
		n := 0
		err := h.Store.KV("_runtime").Scan(context.Background(), "confirm/", func(string, []byte) error { n++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count() != 1 {
		t.Fatalf("confirmation not stored")
	}
	// The code expires after 30 minutes and is pruned a day later.
	h.Advance(26 * time.Hour)
	if n := count(); n != 0 {
		t.Errorf("%d stale confirmations kept", n)
	}
}

func TestLeaveWhileStoppedFoundAtLogin(t *testing.T) {
	h, get := newProbeHarness(t, bottest.Options{})
	h.StopBot()
	h.Do("-carol@技术交流群")
	h.StartBot()
	ctx := context.Background()
	m, err := h.Store.Member(ctx, h.Group("技术交流群"), h.User("carol"))
	if err != nil || m.Present {
		t.Fatalf("carol still present after login: %+v %v", m, err)
	}
	var left int
	err = h.Store.ScanRecords(ctx, h.Group("技术交流群"), time.Time{}, time.Time{}, func(r bot.Record) error {
		if r.Kind == bot.EventMemberLeft && r.Sender == h.User("carol") {
			left++
		}
		return nil
	})
	if err != nil || left != 1 {
		t.Errorf("left records = %d, %v", left, err)
	}
	if !contains(get().seen, "member_left:") {
		t.Errorf("plugins did not see the leave: %v", get().seen)
	}
}
