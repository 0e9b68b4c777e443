package wechat_test

import (
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
)

func isKind(k bot.EventKind) func(bot.Event) bool {
	return func(ev bot.Event) bool { return ev.Kind == k }
}

func TestJoinMessagesYieldJoinedEvents(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	alice := r.member(tech, "爱丽丝")

	tests := []struct {
		name, person, nick, content string
		inviter                     bot.UserID
	}{
		// The bot sees alice by the remark it gave her.
		{"chinese invite", "frank", "Frank", fakewx.SysInvite("[u1] 爱丽丝", "Frank"), alice.ID},
		{"english invite", "grace", "Grace", fakewx.SysInviteEN("[u1] 爱丽丝", "Grace"), alice.ID},
		{"chinese QR code", "heidi", "海蒂", fakewx.SysJoinQR("海蒂", "[u1] 爱丽丝"), alice.ID},
		{"english QR code", "ivan", "Ivan", fakewx.SysJoinQREN("Ivan", "[u1] 爱丽丝"), alice.ID},
		{"the bot's QR code", "judy", "Judy", fakewx.SysJoinYourQR("Judy"), bot.SelfID},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			r.s.AddMember("技术群", fakewx.MemberSpec{Person: tt.person, NickName: tt.nick, AttrStatus: int64(200000 + i)})
			r.s.SendSystem("技术群", tt.content)
			ev := r.waitEvent("joined", isKind(bot.EventMemberJoined))
			if ev.Group != tech || len(ev.Members) != 1 || ev.Members[0].Nick != tt.nick || ev.Members[0].ID == "" {
				t.Fatalf("joined = %+v", ev)
			}
			if ev.Inviter != tt.inviter {
				t.Errorf("inviter = %s (%q), want %s", ev.Inviter, ev.InviterName, tt.inviter)
			}
			rec, err := r.db.Member(t.Context(), tech, ev.Members[0].ID)
			if err != nil || !rec.Present || rec.JoinedAt.IsZero() {
				t.Errorf("member record = %+v, %v", rec, err)
			}
		})
	}
}

func TestSeveralInviteesAndNamesThatAreOnlyHints(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	r.s.AddMember("技术群", fakewx.MemberSpec{Person: "k1", NickName: "Kim", AttrStatus: 300001})
	r.s.AddMember("技术群", fakewx.MemberSpec{Person: "k2", NickName: "Kai", AttrStatus: 300002})
	// The message spells one name differently: the member list decides
	// who joined, and both are reported.
	r.s.SendSystem("技术群", fakewx.SysInvite("卡罗尔", "Kim", "凯"))
	ev := r.waitEvent("joined", isKind(bot.EventMemberJoined))
	nicks := map[string]bool{}
	for _, m := range ev.Members {
		nicks[m.Nick] = true
	}
	if ev.Group != tech || len(ev.Members) != 2 || !nicks["Kim"] || !nicks["Kai"] {
		t.Errorf("joined = %+v", ev)
	}
	if carol := r.member(tech, "卡罗尔"); ev.Inviter != carol.ID {
		t.Errorf("inviter = %s, want carol %s", ev.Inviter, carol.ID)
	}
}

func TestSilentLeaveIsNoticedByTheRefreshTimer(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{config: strings.Replace(baseConfig, "member_refresh: 0s", "member_refresh: 150ms", 1)})
	tech := r.group("技术群")
	dave := r.member(tech, "Bob") // dave and bob share a nickname; bob is the friend
	if dave.Friend {
		ms, _ := r.p.Members(t.Context(), tech)
		for _, m := range ms {
			if m.Nick == "Bob" && !m.Friend {
				dave = m
			}
		}
	}
	// dave leaves by himself: WeChat says nothing.
	r.s.RemoveMember("技术群", "dave")
	ev := r.waitEvent("left", isKind(bot.EventMemberLeft))
	if ev.Group != tech || len(ev.Members) != 1 || ev.Members[0].ID != dave.ID {
		t.Fatalf("left = %+v, want dave %s", ev, dave.ID)
	}
	rec, err := r.db.Member(t.Context(), tech, dave.ID)
	if err != nil || rec.Present || rec.LeftAt.IsZero() {
		t.Errorf("member record = %+v, %v", rec, err)
	}
	// He comes back later, found by the timer too, and keeps his id.
	r.s.AddMember("技术群", fakewx.MemberSpec{Person: "dave"})
	ev = r.waitEvent("joined", isKind(bot.EventMemberJoined))
	if len(ev.Members) != 1 || ev.Members[0].ID != dave.ID || ev.Inviter != "" {
		t.Errorf("rejoined = %+v, want dave %s", ev, dave.ID)
	}
}

func TestRemovalOnThePhoneIsReportedAtOnce(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	carol := r.member(tech, "卡罗尔")
	// The owner removes carol on the bot's phone (an operator task the
	// runtime opened, say): the bot sees "你将…移出了群聊".
	r.s.RemoveMember("技术群", "carol")
	r.s.SendSystem("技术群", fakewx.SysYouRemoved("卡罗尔"))
	ev := r.waitEvent("left", isKind(bot.EventMemberLeft))
	if len(ev.Members) != 1 || ev.Members[0].ID != carol.ID || ev.Sender != bot.SelfID {
		t.Errorf("left = %+v", ev)
	}
}

func TestBotRemovedAndRenamedMessages(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	chat, tech := r.group("闲聊群"), r.group("技术群")
	carol := r.member(chat, "卡罗尔")

	r.s.RenameGroup("闲聊群", "班级群")
	r.s.SendSystem("闲聊群", fakewx.SysRenamed("卡罗尔", "班级群"))
	ev := r.waitEvent("renamed", isKind(bot.EventGroupRenamed))
	if ev.Group != chat || ev.OldName != "闲聊群" || ev.NewName != "班级群" || ev.Sender != carol.ID {
		t.Errorf("renamed = %+v", ev)
	}
	rec, err := r.db.Group(t.Context(), chat)
	if err != nil || rec.Name != "班级群" || len(rec.NameHistory) != 1 {
		t.Errorf("group record = %+v, %v", rec, err)
	}

	r.s.RemoveBotFromGroup("技术群")
	r.s.SendSystem("技术群", fakewx.SysYouWereRemoved("卡罗尔"))
	ev = r.waitEvent("bot removed", isKind(bot.EventBotRemoved))
	if ev.Group != tech || ev.Reason != "removed by 卡罗尔" {
		t.Errorf("bot removed = %+v", ev)
	}
	rec, err = r.db.Group(t.Context(), ev.Group)
	if err != nil || rec.BotPresent {
		t.Errorf("group record = %+v, %v", rec, err)
	}

	// Invited back; bob left while the bot was out.
	bob := r.friend("Bob")
	r.s.RemoveMember("技术群", "bob")
	r.s.AddMember("技术群", fakewx.MemberSpec{Person: fakewx.SelfKey})
	r.s.SendSystem("技术群", fakewx.SysInvitedYou("卡罗尔", "爱丽丝"))
	ev = r.waitEvent("bot added", isKind(bot.EventBotAdded))
	if ev.Group != tech || ev.Sender != carol.ID {
		t.Errorf("bot added = %+v", ev)
	}
	ev = r.waitEvent("left meanwhile", isKind(bot.EventMemberLeft))
	if ev.Group != tech || len(ev.Members) != 1 || ev.Members[0].ID != bob.ID {
		t.Errorf("left = %+v", ev)
	}
	rec, err = r.db.Group(t.Context(), tech)
	if err != nil || !rec.BotPresent {
		t.Errorf("group record = %+v, %v", rec, err)
	}
}

func TestUnsavedGroupsAreFoundAndOperatorsTold(t *testing.T) {
	t.Parallel()
	w := fakewx.DefaultWorld()
	w.Groups = append(w.Groups, fakewx.GroupSpec{Topic: "读书会", Owner: "carol", Unsaved: true,
		Members: []fakewx.MemberSpec{{Person: "carol"}, {Person: "eve"}}})
	config := strings.Replace(baseConfig, "  - name: 班级群", "  - name: 读书会\n  - name: 新来的群", 1)
	r := start(t, rigOptions{fake: fakewx.Options{World: w}, config: config})
	// Seen at login (recent chats) but not saved: operators learn how to
	// save it, so that it does not vanish at the next login.
	r.sent("the hint about 读书会", func(m fakewx.Sent) bool {
		return m.Person == "eve" && strings.Contains(m.Text, "读书会") && strings.Contains(m.Text, "保存到通讯录")
	})

	// The bot is put into a group it has never seen, not saved either: it
	// appears with the message that says so.
	r.s.AddGroup(fakewx.GroupSpec{Topic: "新来的群", Owner: "carol", Unsaved: true,
		Members: []fakewx.MemberSpec{{Person: "carol"}, {Person: "bob"}}})
	r.s.SendSystem("新来的群", fakewx.SysInvitedYou("卡罗尔", "Bob"))
	ev := r.waitEvent("bot added", isKind(bot.EventBotAdded))
	if ev.GroupName != "新来的群" || ev.Sender != r.member(ev.Group, "卡罗尔").ID {
		t.Errorf("bot added = %+v", ev)
	}
	r.sent("the hint about 新来的群", func(m fakewx.Sent) bool {
		return m.Person == "eve" && strings.Contains(m.Text, "新来的群") && strings.Contains(m.Text, "保存到通讯录")
	})
	r.s.SendGroupText("新来的群", "bob", "第一句话")
	msg := r.waitEvent("message", isMsg("第一句话"))
	if msg.Group != ev.Group || msg.SenderRemark != "" || msg.Sender != r.friend("Bob").ID {
		t.Errorf("message = %+v", msg)
	}
}
