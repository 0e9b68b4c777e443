package wechat_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
)

func TestCapabilities(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	caps := bot.CapabilitiesOf(r.p)
	if caps.Kick || caps.Dissolve || !caps.Rename || !caps.Invite || !caps.CreateGroup || !caps.AcceptFriend {
		t.Errorf("capabilities = %+v; web WeChat cannot kick or dissolve", caps)
	}
}

func TestInviteIsVerifiedInTheMemberList(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	chat := r.group("闲聊群")
	bob := r.friend("Bob")
	if err := r.p.Invite(t.Context(), chat, bob.ID); err != nil {
		t.Fatalf("invite: %v", err)
	}
	ev := r.waitEvent("joined", isKind(bot.EventMemberJoined))
	if ev.Group != chat || len(ev.Members) != 1 || ev.Members[0].ID != bob.ID || ev.Inviter != bot.SelfID {
		t.Errorf("joined = %+v", ev)
	}
	if ops := r.s.ChatRoomOps(); len(ops) != 1 || ops[0].Op != "addmember" || ops[0].People[0] != "bob" {
		t.Errorf("chat-room calls = %+v", ops)
	}
	// The "你邀请…" message that follows reports nobody twice.
	r.noEvent("second join", 300*time.Millisecond, isKind(bot.EventMemberJoined))
	// Someone already in: nothing to do. A stranger: not possible.
	if err := r.p.Invite(t.Context(), chat, bob.ID); err != nil {
		t.Errorf("inviting a member again: %v", err)
	}
	dave := r.member(r.group("技术群"), "Bob")
	if !dave.Friend {
		if err := r.p.Invite(t.Context(), chat, dave.ID); !errors.Is(err, bot.ErrUnknownTarget) {
			t.Errorf("inviting a non-friend: %v", err)
		}
	}
}

func TestRenameIsVerified(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	if err := r.p.Rename(t.Context(), tech, "班级群"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	ev := r.waitEvent("renamed", isKind(bot.EventGroupRenamed))
	if ev.Group != tech || ev.NewName != "班级群" || ev.OldName != "技术群" || ev.Sender != bot.SelfID {
		t.Errorf("renamed = %+v", ev)
	}
	if r.group("班级群") != tech {
		t.Error("the group's id changed with its name")
	}
	// "你修改群名为…" follows and repeats nothing.
	r.noEvent("second rename", 300*time.Millisecond, isKind(bot.EventGroupRenamed))
	if err := r.p.Rename(t.Context(), "g_nosuchgroup", "x"); !errors.Is(err, bot.ErrUnknownTarget) {
		t.Errorf("renaming an unknown group: %v", err)
	}
}

func TestCreateGroup(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{config: strings.Replace(baseConfig, "  - name: 班级群", "  - name: 班级群\n  - name: 新群", 1)})
	alice, bob := r.friend("[u1] 爱丽丝"), r.friend("Bob")
	id, err := r.p.CreateGroup(t.Context(), "新群", alice.ID, bob.ID)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	ev := r.waitEvent("bot added", isKind(bot.EventBotAdded))
	if ev.Group != id || ev.GroupName != "新群" {
		t.Errorf("bot added = %+v", ev)
	}
	if ms, err := r.p.Members(t.Context(), id); err != nil || len(ms) != 2 {
		t.Errorf("members of the new group = %+v, %v", ms, err)
	}
	// New groups are not saved to contacts: operators are told how.
	r.sent("the save-to-contacts hint", func(m fakewx.Sent) bool {
		return m.Person == "eve" && strings.Contains(m.Text, "新群") && strings.Contains(m.Text, "保存到通讯录")
	})

	// WeChat's refusal looks like success with no group: an error.
	r.s.SetCreateChatRoomFails(true)
	if _, err := r.p.CreateGroup(t.Context(), "又一个群", alice.ID, bob.ID); err == nil || !strings.Contains(err.Error(), "创建群聊失败") {
		t.Errorf("create on refusal: %v", err)
	}
}

func TestFriendRequestIsAccepted(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	r.s.SendFriendRequest("zed", "我是 zed，加个好友")
	ev := r.waitEvent("friend request", isKind(bot.EventFriendRequest))
	if ev.FriendRequest == nil || ev.FriendRequest.Nick != "zed" || ev.FriendRequest.Text != "我是 zed，加个好友" || ev.FriendRequest.Ticket == "" {
		t.Fatalf("request = %+v", ev.FriendRequest)
	}
	id, err := r.p.AcceptFriend(t.Context(), *ev.FriendRequest)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	if f := r.friend("zed"); f.ID != id {
		t.Errorf("friend zed = %+v, accepted as %s", f, id)
	}
	// zed can now be written to.
	if err := r.p.SendText(t.Context(), bot.ToUser(id), "你好"); err != nil {
		t.Errorf("DM to the new friend: %v", err)
	}
	if _, err := r.p.AcceptFriend(t.Context(), bot.FriendRequest{Ticket: "v4_old"}); !errors.Is(err, bot.ErrUnknownTarget) {
		t.Errorf("accepting an unknown ticket: %v", err)
	}
}

func TestErrorsAreMappedForThePacer(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	r.s.FailNext("webwxsendmsg", 1205)
	if err := r.p.SendText(t.Context(), bot.ToGroup(tech), "太快了"); !errors.Is(err, bot.ErrRateLimited) {
		t.Errorf("1205 = %v, want ErrRateLimited", err)
	}
	r.s.FailNext("webwxsendmsg", 1101)
	if err := r.p.SendText(t.Context(), bot.ToGroup(tech), "会话失效"); !errors.Is(err, bot.ErrOffline) {
		t.Errorf("1101 = %v, want ErrOffline", err)
	}
	r.s.SetDown(true)
	err := r.p.SendText(t.Context(), bot.ToGroup(tech), "断网")
	r.s.SetDown(false)
	if !errors.Is(err, bot.ErrNetwork) {
		t.Errorf("server down = %v, want ErrNetwork", err)
	}
	if err := r.p.SendText(t.Context(), bot.ToUser("u_nobody"), "x"); !errors.Is(err, bot.ErrUnknownTarget) || bot.Retryable(err) {
		t.Errorf("unknown user = %v", err)
	}
	// Through the runtime, a rate limit is retried by the pacer.
	r.s.FailNext("webwxsendmsg", 1205)
	r.rt.Send(t.Context(), bot.ToGroup(tech), "重试后送达", bot.PrioReply)
	r.sent("the retried message", func(m fakewx.Sent) bool { return m.Text == "重试后送达" })
}
