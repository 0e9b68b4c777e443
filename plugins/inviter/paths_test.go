package inviter_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/bot/sim"
	"github.com/qunguan/qunguan/bot/simbot"
	"github.com/qunguan/qunguan/plugins/inviter"
	"github.com/qunguan/qunguan/plugins/rules"
	"github.com/qunguan/qunguan/store"
)

const config = `
platform: sim
language: zh
timezone: Asia/Shanghai
operators: [运营-王老师]
groups:
  - name: 技术交流群
plugins:
  inviter:
    keywords:
      - keyword: 进群
        groups: [技术交流群]
`

// noInvite is a platform that cannot invite: only the Platform methods of
// the sim, so the inviter must fall back to an operator task.
type noInvite struct{ p *sim.Platform }

func (n noInvite) Name() string                                        { return "no-invite" }
func (n noInvite) Run(ctx context.Context, emit func(bot.Event)) error { return n.p.Run(ctx, emit) }
func (n noInvite) SendText(ctx context.Context, to bot.Target, text string) error {
	return n.p.SendText(ctx, to, text)
}
func (n noInvite) SendFile(ctx context.Context, to bot.Target, f bot.File) error {
	return n.p.SendFile(ctx, to, f)
}
func (n noInvite) Groups(ctx context.Context) ([]bot.GroupInfo, error) { return n.p.Groups(ctx) }
func (n noInvite) Members(ctx context.Context, g bot.GroupID) ([]bot.Member, error) {
	return n.p.Members(ctx, g)
}
func (n noInvite) Friends(ctx context.Context) ([]bot.Member, error) { return n.p.Friends(ctx) }
func (n noInvite) Self(ctx context.Context) (bot.Member, error)      { return n.p.Self(ctx) }

var _ bot.Platform = noInvite{}

func TestWithoutInviteCapability(t *testing.T) {
	ctx := context.Background()
	clock := bot.NewFakeClock(simbot.Start)
	world, err := sim.LoadWorld(clock, []byte(simbot.DefaultWorld))
	if err != nil {
		t.Fatal(err)
	}
	erin := world.AddFriend("erin", "")
	cfg, err := bot.ParseConfig("config.yaml", []byte(config), plugins())
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.TempDir(), store.Options{Logger: slog.New(slog.DiscardHandler), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rt, err := bot.New(bot.Options{Config: cfg, Store: db, Platform: noInvite{world}, Plugins: plugins(), Clock: clock, Logger: bottest.Logger(), Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer rt.Shutdown(ctx)
	world.SetEmitter(func(ev bot.Event) { rt.Handle(ctx, ev) })
	world.Login()
	world.TakeActions()

	world.DM("erin", "进群")
	var texts []string
	for _, a := range world.TakeActions() {
		texts = append(texts, a.String())
	}
	got := strings.Join(texts, "\n")
	for _, want := range []string{"send_text DM:王老师: 【待办 T1】把 erin（" + string(erin.ID) + "）拉进「技术交流群」", "send_text DM:erin: 已请管理员把你拉进「技术交流群」"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "invite ") {
		t.Errorf("invited without the capability:\n%s", got)
	}
	// Asking again while the task is open: no card to look for, no second task.
	world.DM("erin", "进群")
	texts = texts[:0]
	for _, a := range world.TakeActions() {
		texts = append(texts, a.String())
	}
	if got := strings.Join(texts, "\n"); got != "send_text DM:erin: 已经请管理员把你拉进「技术交流群」了，请耐心等一下，不用再发关键词。" {
		t.Errorf("second request while the task is open:\n%s", got)
	}
	// An operator adds erin on the phone: the task is verified and the
	// invitation is done.
	world.Join("技术交流群", "王老师", "erin")
	es, err := db.AuditEntries(ctx, bot.AuditFilter{Action: "inviter."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "inviter.task,inviter.joined" {
		t.Errorf("audit: %v", actions)
	}
	if task, err := db.Task(ctx, "T1"); err != nil || task.State != bot.TaskVerified {
		t.Errorf("task: %+v %v", task, err)
	}
}

// TestUnacceptedInvitationExpires: an invitation the person never accepts
// is expired by the hourly sweep and frees its place.
func TestUnacceptedInvitationExpires(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins, Config: config})
	ctx := context.Background()
	raw, _ := json.Marshal(map[string]any{"user": "u_0009", "name": "kate", "group": h.Group("技术交流群"), "group_name": "技术交流群", "keyword": "进群", "at": h.Clock.Now()})
	if err := h.Store.KV("inviter").Put(ctx, "inv/u_0009/"+string(h.Group("技术交流群")), raw); err != nil {
		t.Fatal(err)
	}
	h.Do("advance 23h")
	if es, _ := h.Store.AuditEntries(ctx, bot.AuditFilter{Action: "inviter.expired"}); len(es) != 0 {
		t.Fatalf("expired early: %+v", es)
	}
	h.Do("advance 2h")
	es, err := h.Store.AuditEntries(ctx, bot.AuditFilter{Action: "inviter.expired"})
	if err != nil || len(es) != 1 || !strings.Contains(es[0].Detail, "u_0009 (kate)") {
		t.Fatalf("expiry audit: %+v %v", es, err)
	}
	if _, err := h.Store.KV("inviter").Get(ctx, "inv/u_0009/"+string(h.Group("技术交流群"))); err == nil {
		t.Error("the expired invitation still holds its place")
	}
}

// TestInviteFailure: a refused invitation is told to the person, audited,
// and does not keep a place.
func TestInviteFailure(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins, Config: config})
	h.Sim.AddFriend("erin", "")
	h.Sim.FailNext("invite", bot.ErrRateLimited)
	out := h.Do("dm erin: 进群")
	if !strings.Contains(out, "DM:erin: 邀请你加入「技术交流群」没有成功") {
		t.Errorf("no failure reply:\n%s", out)
	}
	es, _ := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "inviter."})
	if len(es) != 1 || es[0].Action != "inviter.failed" {
		t.Errorf("audit: %+v", es)
	}
	// The next try goes through.
	if out := h.Do("advance 1m", "dm erin: 进群"); !strings.Contains(out, "invite 技术交流群 [erin]") {
		t.Errorf("retry:\n%s", out)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"match: fuzzy", "match"},
		{"strategy: random", "strategy"},
		{"cap: 600", "cap"},
		{"per_user_hourly: 0", "per_user_hourly"},
		{"keywords: [{keyword: 进群, groups: []}]", "groups"},
		{"keywords: [{keyword: 进群, groups: [a]}, {keyword: ' 进 群 ', groups: [b]}]", "listed twice"},
		{"keywords: [{keyword: '', groups: [a]}]", "empty keyword"},
	} {
		_, err := bot.ParseConfig("c.yaml", []byte("plugins:\n  inviter:\n    "+c.yaml+"\n"), []bot.Plugin{inviter.New()})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.yaml, err, c.want)
		}
	}
}

// TestStrategies: "fewest" picks the emptier group, "fill" the first one
// listed that still has room.
func TestStrategies(t *testing.T) {
	for strategy, want := range map[string]string{"fewest": "invite 读书会 [erin]", "fill": "invite 技术交流群 [erin]"} {
		h := bottest.New(t, bottest.Options{Plugins: plugins, Config: `
platform: sim
operators: [运营-王老师]
groups:
  - name: 技术交流群
  - name: 读书会
plugins:
  inviter:
    strategy: ` + strategy + `
    keywords:
      - keyword: 进群
        groups: [技术交流群, 读书会]
`})
		h.Sim.AddFriend("erin", "")
		if out := h.Do("dm erin: 进群"); !strings.Contains(out, want) {
			t.Errorf("%s: want %q in:\n%s", strategy, want, out)
		}
	}
}

// TestRulesFromRulesPlugin: without rules of its own, the keyword sends the
// chosen group's rules from the rules plugin, before the invitation.
func TestRulesFromRulesPlugin(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: func() []bot.Plugin { return []bot.Plugin{rules.New(), inviter.New()} }, Config: config + `
  rules:
    text: 一、只聊技术；二、不发广告。
`})
	h.Sim.AddFriend("erin", "")
	out := h.Do("dm erin: 进群")
	i, j := strings.Index(out, "一、只聊技术；二、不发广告。"), strings.Index(out, "invite 技术交流群 [erin]")
	if i < 0 || j < 0 || i > j {
		t.Errorf("want the rules plugin's text before the invitation:\n%s", out)
	}
}

// TestNoUsableGroup: a keyword whose groups the bot is not in anymore is
// not "full": the operators are told to fix the config.
func TestNoUsableGroup(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins, Config: config})
	h.Sim.AddFriend("erin", "")
	h.Do("removebot 技术交流群 by 王老师")
	out := h.Do("dm erin: 进群")
	if !strings.Contains(out, "DM:王老师: 【无群可邀】关键词“进群”对应的群（技术交流群）") || !strings.Contains(out, "DM:erin: 抱歉，暂时没有可以加入的群") {
		t.Errorf("no usable group:\n%s", out)
	}
}

// TestInvitationCard: for big groups WeChat sends an invitation card and
// the person is not a member yet (bot.ErrInvitePending). The invitation
// stays open, holds its place, and is done when they join.
func TestInvitationCard(t *testing.T) {
	h := bottest.New(t, bottest.Options{Plugins: plugins, Config: config})
	h.Sim.AddFriend("erin", "")
	h.Sim.FailNext("invite", bot.ErrInvitePending)
	out := h.Do("dm erin: 进群")
	if !strings.Contains(out, "DM:erin: 已向你发送「技术交流群」的群邀请卡片，请在聊天里点开卡片确认加入（1天内有效）。") {
		t.Errorf("no card reply:\n%s", out)
	}
	// Asking again points to the card and says when a new one can come.
	if out := h.Do("dm erin: 进群"); !strings.Contains(out, "DM:erin: 已经给你发过「技术交流群」的群邀请卡片了：请在和我的聊天里找到这张卡片，点开确认加入。找不到的话，1天后再发一次关键词") {
		t.Errorf("second request while the card is open:\n%s", out)
	}
	h.Do("advance 2h")
	if out := h.Do("dm erin: 进群"); !strings.Contains(out, "找不到的话，22小时后再发一次关键词") || strings.Contains(out, "invite ") {
		t.Errorf("third request while the card is open:\n%s", out)
	}
	h.Do("+erin@技术交流群 by 王老师")
	es, _ := h.Store.AuditEntries(context.Background(), bot.AuditFilter{Action: "inviter."})
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Data["card"])
	}
	if strings.Join(got, ",") != "inviter.invite true,inviter.joined " {
		t.Errorf("audit: %v", got)
	}
}
