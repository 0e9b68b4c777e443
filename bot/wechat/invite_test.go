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
