package wechat_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
	"github.com/qunguan/qunguan/plugins/inviter"
)

// Invitation cards: openwechat invites into groups of 40 or more with
// fun=invitemember, and WeChat then sends the friend a card they must
// accept. These tests run that path through the real client.

// bigWorld is DefaultWorld plus 大群, whose members with the bot number
// size: strangers p01, p02, ... and the bot.
func bigWorld(size int) fakewx.World {
	w := fakewx.DefaultWorld()
	g := fakewx.GroupSpec{Topic: "大群", Owner: "p01"}
	for i := 1; i < size; i++ {
		g.Members = append(g.Members, fakewx.MemberSpec{Person: fmt.Sprintf("p%02d", i)})
	}
	w.Groups = append(w.Groups, g)
	return w
}

var bigConfig = strings.Replace(baseConfig, "  - name: 班级群", "  - name: 班级群\n  - name: 大群", 1)

func TestInviteIntoABigGroupWaitsForTheCard(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{fake: fakewx.Options{World: bigWorld(40)}, config: bigConfig})
	big := r.group("大群")
	bob := r.friend("Bob")

	err := r.p.Invite(t.Context(), big, bob.ID)
	if !errors.Is(err, bot.ErrInvitePending) {
		t.Fatalf("invite into a group of 40 = %v, want ErrInvitePending", err)
	}
	if !strings.Contains(err.Error(), "invitation card") {
		t.Errorf("error = %v", err)
	}
	// 39 members and the bot: the group counts the bot, as openwechat's
	// own AddFriendsIn does, so this is a card.
	if ops := r.s.ChatRoomOps(); len(ops) != 1 || ops[0].Fun != "invitemember" || ops[0].People[0] != "bob" {
		t.Fatalf("chat-room calls = %+v", ops)
	}
	if inv := r.s.Group("大群").Invited; !slices.Equal(inv, []string{"bob"}) {
		t.Errorf("open cards = %v", inv)
	}
	r.noEvent("join before accepting", 300*time.Millisecond, isKind(bot.EventMemberJoined))
	if ms, _ := r.p.Members(t.Context(), big); slices.ContainsFunc(ms, func(m bot.Member) bool { return m.ID == bob.ID }) {
		t.Error("bob is a member before accepting")
	}
	// Asking again sends another card; still not a member.
	if err := r.p.Invite(t.Context(), big, bob.ID); !errors.Is(err, bot.ErrInvitePending) {
		t.Errorf("second invite = %v", err)
	}

	r.s.AcceptInvitation("大群", "bob", "")
	ev := r.waitEvent("joined", isKind(bot.EventMemberJoined))
	if ev.Group != big || len(ev.Members) != 1 || ev.Members[0].ID != bob.ID || ev.Inviter != bot.SelfID || !ev.Members[0].Friend {
		t.Errorf("joined = %+v", ev)
	}
	if err := r.p.Invite(t.Context(), big, bob.ID); err != nil {
		t.Errorf("inviting a member: %v", err)
	}
	if n := len(r.s.ChatRoomOps()); n != 2 {
		t.Errorf("%d chat-room calls, want 2: a member is not invited again", n)
	}
}

// TestCardJoinWithAnUnknownText: whatever WeChat says when a card is
// accepted, the member list decides; here the text is not a join the
// adapter knows, and the join is seen when the newcomer speaks.
func TestCardJoinWithAnUnknownText(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{fake: fakewx.Options{World: bigWorld(45)}, config: bigConfig})
	big := r.group("大群")
	alice := r.friend("[u1] 爱丽丝")
	if err := r.p.Invite(t.Context(), big, alice.ID); !errors.Is(err, bot.ErrInvitePending) {
		t.Fatalf("invite = %v", err)
	}
	r.s.AcceptInvitation("大群", "alice", "“爱丽丝”已加入群聊")
	r.noEvent("join from an unknown text", 300*time.Millisecond, isKind(bot.EventMemberJoined))
	r.s.SendGroupText("大群", "alice", "大家好")
	ev := r.waitEvent("joined", isKind(bot.EventMemberJoined))
	if ev.Group != big || len(ev.Members) != 1 || ev.Members[0].ID != alice.ID || ev.Inviter != "" {
		t.Errorf("joined = %+v", ev)
	}
	msg := r.waitEvent("message", isMsg("大家好"))
	if msg.Sender != alice.ID {
		t.Errorf("message from %s, want %s", msg.Sender, alice.ID)
	}
}

// TestDeclinedCardStaysPending: nobody joins, and nothing says so.
func TestDeclinedCardStaysPending(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{fake: fakewx.Options{World: bigWorld(40)}, config: bigConfig})
	big := r.group("大群")
	bob := r.friend("Bob")
	if err := r.p.Invite(t.Context(), big, bob.ID); !errors.Is(err, bot.ErrInvitePending) {
		t.Fatalf("invite = %v", err)
	}
	r.s.DeclineInvitation("大群", "bob")
	r.noEvent("join after declining", 300*time.Millisecond, isKind(bot.EventMemberJoined))
	if len(r.s.Group("大群").Invited) != 0 {
		t.Error("the card is still open")
	}
}

// TestInviteCreditsOnlyTheInvitees: someone who joined unnoticed just
// before an invitation is not reported as invited by the bot, even with
// the invitee's nickname, when the invitee does not appear (a card).
func TestInviteCreditsOnlyTheInvitees(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{fake: fakewx.Options{World: bigWorld(40)}, config: bigConfig})
	big := r.group("大群")
	bob := r.friend("Bob")
	r.s.AddMember("大群", fakewx.MemberSpec{Person: "bob2", NickName: "Bob"}) // silent: a join the bot missed
	if err := r.p.Invite(t.Context(), big, bob.ID); !errors.Is(err, bot.ErrInvitePending) {
		t.Fatalf("invite = %v", err)
	}
	ev := r.waitEvent("joined", isKind(bot.EventMemberJoined))
	if len(ev.Members) != 1 || ev.Members[0].ID == bob.ID || ev.Members[0].Nick != "Bob" || ev.Inviter != "" || ev.InviterName != "" {
		t.Errorf("joined = %+v; the stranger was not invited by the bot", ev)
	}
}

// TestKeywordInviteWithACard runs the inviter plugin on the runtime and
// the WeChat adapter: a friend DMs the keyword, gets the rules and then a
// card for the big group, and the invitation stays open until the member
// list shows them, after they accepted.
func TestKeywordInviteWithACard(t *testing.T) {
	t.Parallel()
	cfg := bigConfig + `
plugins:
  inviter:
    keywords:
      - keyword: 进群
        groups: [大群]
        rules: 不发广告，友善交流。
`
	r := start(t, rigOptions{fake: fakewx.Options{World: bigWorld(40)}, config: cfg, plugins: []bot.Plugin{inviter.New()}})
	ctx := t.Context()
	big := r.group("大群")
	bob := r.friend("Bob")
	toBob := func(what, text string) fakewx.Sent {
		return r.sent(what, func(m fakewx.Sent) bool { return m.Person == "bob" && strings.Contains(m.Text, text) })
	}
	audits := func() []string {
		es, err := r.db.AuditEntries(ctx, bot.AuditFilter{Action: "inviter."})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Action+" card="+e.Data["card"]+" user="+e.Data["user"])
		}
		return out
	}
	kv := r.db.KV("inviter")
	key := "inv/" + string(bob.ID) + "/" + string(big)

	r.s.SendDM("bob", "进群")
	rules := toBob("the rules", "「大群」群规，入群前请先看一下：\n不发广告，友善交流。")
	card := toBob("the card", "已向你发送「大群」的群邀请卡片，请在聊天里点开卡片确认加入")
	calls := r.s.Calls("webwxupdatechatroom")
	if ops := r.s.ChatRoomOps(); len(ops) != 1 || ops[0].Fun != "invitemember" || ops[0].People[0] != "bob" || len(calls) != 1 {
		t.Fatalf("chat-room calls = %+v", ops)
	}
	if !rules.Time.Before(calls[0].Time) || calls[0].Time.After(card.Time) {
		t.Errorf("order: rules %v, invitation %v, card reply %v", rules.Time, calls[0].Time, card.Time)
	}
	// Sent, not done: the invitation holds its place and nothing says
	// bob joined. (WaitFor re-checks at every request, and the client's
	// synccheck polls keep coming.)
	if !r.s.WaitFor(wait, func() bool { return len(audits()) == 1 }) || audits()[0] != "inviter.invite card=true user="+string(bob.ID) {
		t.Fatalf("audit after the card: %q", audits())
	}
	if raw, err := kv.Get(ctx, key); err != nil || !strings.Contains(string(raw), `"card":true`) {
		t.Errorf("open invitation = %s, %v", raw, err)
	}
	if m, err := r.db.Member(ctx, big, bob.ID); err == nil && m.Present {
		t.Error("bob is recorded as a member before accepting")
	}
	r.s.SendDM("bob", "进群")
	toBob("the reminder", "已经给你发过「大群」的群邀请卡片了：请在和我的聊天里找到这张卡片，点开确认加入。")
	if n := len(r.s.ChatRoomOps()); n != 1 {
		t.Errorf("%d chat-room calls: a second invitation went out", n)
	}

	r.s.AcceptInvitation("大群", "bob", "")
	r.waitEvent("joined", func(ev bot.Event) bool {
		return ev.Kind == bot.EventMemberJoined && ev.Group == big && len(ev.Members) == 1 && ev.Members[0].ID == bob.ID && ev.Inviter == bot.SelfID
	})
	if !r.s.WaitFor(wait, func() bool { return len(audits()) == 2 }) || audits()[1] != "inviter.joined card= user="+string(bob.ID) {
		t.Fatalf("audit after joining: %q", audits())
	}
	if _, err := kv.Get(ctx, key); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the invitation is still open: %v", err)
	}
	r.s.SendDM("bob", "进群")
	toBob("already a member", "你已经在「大群」里了")
}
