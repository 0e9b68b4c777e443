package wechat_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
)

// ids collects the durable ids a run gave to the default world.
type ids struct {
	tech, chat          bot.GroupID
	alice, bob, eve     bot.UserID
	dave, carol, carol2 bot.UserID // carol2 is carol as a member of 闲聊群
}

func collectIDs(t *testing.T, r *rig, chatName string) ids {
	t.Helper()
	var x ids
	x.tech, x.chat = r.group("技术群"), r.group(chatName)
	x.alice, x.eve, x.bob = r.friend("[u1] 爱丽丝").ID, r.friend("eve-op").ID, r.friend("Bob").ID
	ms, err := r.p.Members(context.Background(), x.tech)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		switch {
		case m.Nick == "Bob" && !m.Friend:
			x.dave = m.ID
		case m.Nick == "卡罗尔":
			x.carol = m.ID
		}
	}
	x.carol2 = r.member(x.chat, "卡罗尔").ID
	return x
}

func TestRestartWithNewSessionNamesKeepsIDs(t *testing.T) {
	t.Parallel()
	s := newServer(t, fakewx.Options{})
	dir := t.TempDir()
	r1 := start(t, rigOptions{server: s, dir: dir})
	before := collectIDs(t, r1, "闲聊群")
	if before.carol != before.carol2 {
		t.Errorf("carol has two ids in one session: %s, %s", before.carol, before.carol2)
	}
	oldName := s.Group("技术群").UserName
	r1.stop()

	// While the bot is down its session dies and 闲聊群 is renamed, so
	// the next login has new names for everything and a new group name.
	s.ForceLogout("1101")
	s.RenameGroup("闲聊群", "班级群")
	s.ConfirmPush()
	r2 := start(t, rigOptions{server: s, dir: dir, noScan: true})
	if s.Group("技术群").UserName == oldName {
		t.Fatal("the session names did not change")
	}
	after := collectIDs(t, r2, "班级群")
	if after.tech != before.tech || after.chat != before.chat {
		t.Errorf("groups: %s %s, before %s %s", after.tech, after.chat, before.tech, before.chat)
	}
	for _, c := range []struct {
		who           string
		before, after bot.UserID
	}{{"alice", before.alice, after.alice}, {"bob", before.bob, after.bob}, {"eve", before.eve, after.eve},
		{"dave", before.dave, after.dave}, {"carol", before.carol, after.carol}, {"carol in 闲聊群", before.carol2, after.carol2}} {
		if c.before != c.after || c.after == "" {
			t.Errorf("%s: %s, before %s", c.who, c.after, c.before)
		}
	}
	// The rename while away was reported, so the store keeps the history.
	ev := r2.waitEvent("renamed", isKind(bot.EventGroupRenamed))
	if ev.Group != before.chat || ev.OldName != "闲聊群" || ev.NewName != "班级群" {
		t.Errorf("renamed = %+v", ev)
	}
	// The operator is still recognised and answered.
	s.SendGroupText("闲聊群", "eve", "/tasks") // the key stays; the topic changed
	msg := r2.waitEvent("operator command", isMsg("/tasks"))
	if msg.Sender != before.eve || msg.SenderRemark != "eve-op" || msg.Group != before.chat {
		t.Errorf("operator message = %+v", msg)
	}
	r2.sent("the task list", func(m fakewx.Sent) bool {
		return m.Group == "闲聊群" && strings.Contains(m.Text, "没有未完成的待办")
	})
}

func TestNicknameOfAnOperatorGainsNothing(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	// mallory names herself like the operator's remark and joins; dave
	// sets his group card to it.
	r.s.AddMember("技术群", fakewx.MemberSpec{Person: "mallory", NickName: "eve-op", AttrStatus: 666})
	r.s.SendSystem("技术群", fakewx.SysInvite("卡罗尔", "eve-op"))
	joined := r.waitEvent("joined", isKind(bot.EventMemberJoined))
	r.s.SetCard("技术群", "dave", "eve-op")

	for i, who := range []string{"mallory", "dave"} {
		r.s.SendGroupText("技术群", who, "/tasks")
		ev := r.waitEvent("command", isMsg("/tasks"))
		// dave's card change shows at the next member refresh; his
		// remark is empty either way, which is what counts.
		if ev.SenderRemark != "" || (who == "mallory" && ev.SenderName != "eve-op") {
			t.Errorf("%s: sender %q remark %q", who, ev.SenderName, ev.SenderRemark)
		}
		if role := r.rt.RoleOf(t.Context(), tech, ev.Sender); role != bot.RoleMember {
			t.Errorf("%s has role %s", who, role)
		}
		refused := r.s.WaitFor(wait, func() bool {
			n := 0
			for _, m := range r.s.Sent() {
				if m.Group == "技术群" && strings.Contains(m.Text, "权限不足") {
					n++
				}
			}
			return n == i+1
		})
		if !refused {
			t.Errorf("%s was not refused; sent %+v", who, r.s.Sent())
		}
	}
	if joined.Members[0].Remark != "" || joined.Members[0].Friend {
		t.Errorf("mallory = %+v", joined.Members[0])
	}
	// The real operator in the same group is answered.
	r.s.SendGroupText("闲聊群", "eve", "/tasks")
	r.sent("the answer to eve", func(m fakewx.Sent) bool {
		return m.Group == "闲聊群" && strings.Contains(m.Text, "没有未完成的待办")
	})
}

func TestUploadAfterHotLogin(t *testing.T) {
	t.Parallel()
	s := newServer(t, fakewx.Options{})
	dir := t.TempDir()
	r1 := start(t, rigOptions{server: s, dir: dir})
	r1.stop()
	logins := s.Logins()
	// Make the session file look like openwechat alone writes it: its jar
	// keeps cookies only under the hosts that set them, so the domain
	// cookies end up belonging to the main host only.
	path := filepath.Join(dir, "wechat-session.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var item map[string]json.RawMessage
	if err := json.Unmarshal(raw, &item); err != nil {
		t.Fatal(err)
	}
	var jar map[string]json.RawMessage
	if err := json.Unmarshal(item["Jar"], &jar); err != nil {
		t.Fatal(err)
	}
	for host := range jar {
		if host != "https://"+s.Domain() {
			delete(jar, host)
		}
	}
	item["Jar"], _ = json.Marshal(jar)
	raw, _ = json.Marshal(item)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	// A restart within the session's life: hot login, no QR, no tap.
	r2 := start(t, rigOptions{server: s, dir: dir, noScan: true})
	if s.Logins() != logins || s.Requests("webwxpushloginurl") != 0 {
		t.Fatalf("not a hot login: logins %d -> %d", logins, s.Logins())
	}
	// openwechat's storage loses the cookies' domain; the adapter puts
	// them back, so uploads work after a hot login too.
	pic := filepath.Join(t.TempDir(), "a.png")
	if err := os.WriteFile(pic, pngBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r2.p.SendFile(t.Context(), bot.ToGroup(r2.group("技术群")), bot.File{Path: pic, Image: true}); err != nil {
		t.Fatalf("upload after hot login: %v", err)
	}
}

func TestAmbiguousGroupsAreAskedNotGuessed(t *testing.T) {
	t.Parallel()
	world := fakewx.World{
		People: []fakewx.Person{{Key: "eve", NickName: "伊芙", RemarkName: "eve-op", Friend: true, AttrStatus: 1}},
		Groups: []fakewx.GroupSpec{
			{Key: "A", Topic: "班级群", Members: []fakewx.MemberSpec{{Person: "p1", AttrStatus: 11}, {Person: "p2", AttrStatus: 12}, {Person: "eve"}}},
			{Key: "B", Topic: "班级群", Members: []fakewx.MemberSpec{{Person: "p1"}, {Person: "p2"}, {Person: "eve"}}},
		},
	}
	config := strings.Replace(baseConfig, "  - name: 班级群", "  - pattern: 班级群*", 1)
	s := newServer(t, fakewx.Options{World: world})
	dir := t.TempDir()
	r1 := start(t, rigOptions{server: s, dir: dir, config: config})
	idOf := func(r *rig, key string) bot.GroupID {
		text := "hello from " + key + " " + time.Now().String()
		s.SendGroupText(key, "p1", text)
		return r.waitEvent("message in "+key, isMsg(text)).Group
	}
	a1, b1 := idOf(r1, "A"), idOf(r1, "B")
	if a1 == b1 {
		t.Fatal("two groups share an id")
	}
	r1.stop()

	// A new session: two groups of the same name and the same members
	// match both old records equally well.
	s.ForceLogout("1101")
	s.ConfirmPush()
	r2 := start(t, rigOptions{server: s, dir: dir, config: config, noScan: true})
	a2, b2 := idOf(r2, "A"), idOf(r2, "B")
	if a2 == a1 || a2 == b1 || b2 == a1 || b2 == b1 || a2 == b2 {
		t.Fatalf("guessed: %s %s, old %s %s", a2, b2, a1, b1)
	}
	var task bot.Task
	if !s.WaitFor(wait, func() bool {
		ts, _ := r2.db.Tasks(t.Context())
		for _, x := range ts {
			if x.Kind == "identity" {
				task = x
				return true
			}
		}
		return false
	}) {
		t.Fatal("no identity task")
	}
	for _, id := range []bot.GroupID{a1, b1} {
		if !strings.Contains(task.Steps, "#"+bot.ShortID(string(id))) {
			t.Errorf("the task does not name %s:\n%s", id, task.Steps)
		}
	}
	r2.sent("the task to the operator", func(m fakewx.Sent) bool { return m.Person == "eve" && strings.Contains(m.Text, task.ID) })

	// The operator answers on the phone by tagging each group's name.
	for _, c := range []struct {
		key              string
		provisional, old bot.GroupID
	}{{"A", a2, a1}, {"B", b2, b1}} {
		name := "班级群 #" + bot.ShortID(string(c.old))
		s.RenameGroup(c.key, name)
		s.SendSystem(c.key, fakewx.SysRenamed("伊芙", name))
		gone := r2.waitEvent("provisional group gone", isKind(bot.EventGroupGone))
		if gone.Group != c.provisional {
			t.Errorf("gone = %+v, want %s", gone, c.provisional)
		}
		ren := r2.waitEvent("renamed", isKind(bot.EventGroupRenamed))
		if ren.Group != c.old || ren.NewName != name {
			t.Errorf("renamed = %+v, want %s", ren, c.old)
		}
		if got := idOf(r2, c.key); got != c.old {
			t.Errorf("group %s is %s after the answer, want %s", c.key, got, c.old)
		}
	}
	if !s.WaitFor(wait, func() bool {
		x, err := r2.db.Task(t.Context(), task.ID)
		return err == nil && x.State == bot.TaskVerified
	}) {
		t.Error("the identity task was not closed")
	}
	r2.stop()

	// With the numbers kept in the names, the next new session maps
	// both groups without asking again.
	s.ForceLogout("1101")
	s.ConfirmPush()
	r3 := start(t, rigOptions{server: s, dir: dir, config: config, noScan: true})
	if a, b := idOf(r3, "A"), idOf(r3, "B"); a != a1 || b != b1 {
		t.Errorf("after another login: %s %s, want %s %s", a, b, a1, b1)
	}
	ts, err := r3.db.Tasks(t.Context())
	if err != nil || len(ts) != 1 {
		t.Errorf("tasks = %+v, %v; want only the first question", ts, err)
	}
}

func TestLookalikeMembers(t *testing.T) {
	t.Parallel()
	world := fakewx.World{
		People: []fakewx.Person{{Key: "eve", NickName: "伊芙", RemarkName: "eve-op", Friend: true, AttrStatus: 1}},
		Groups: []fakewx.GroupSpec{{Topic: "技术群", Members: []fakewx.MemberSpec{
			{Person: "t1", NickName: "Tom", AttrStatus: 9}, {Person: "t2", NickName: "Tom", AttrStatus: 9}, {Person: "eve"}}}},
	}
	s := newServer(t, fakewx.Options{World: world})
	dir := t.TempDir()
	idsOf := func(r *rig) (bot.UserID, bot.UserID) {
		var out [2]bot.UserID
		for i, who := range []string{"t1", "t2"} {
			text := who + " " + time.Now().String()
			s.SendGroupText("技术群", who, text)
			out[i] = r.waitEvent("message", isMsg(text)).Sender
		}
		return out[0], out[1]
	}
	r1 := start(t, rigOptions{server: s, dir: dir})
	t1, t2 := idsOf(r1)
	if t1 == t2 {
		t.Fatal("two people, one id")
	}
	r1.stop()

	// A restart within the session: their session names tell them apart.
	r2 := start(t, rigOptions{server: s, dir: dir, noScan: true})
	if a, b := idsOf(r2); a != t1 || b != t2 {
		t.Errorf("after a hot login: %s %s, want %s %s", a, b, t1, t2)
	}
	r2.stop()

	// A new session: nothing tells them apart. They get new ids and the
	// operators a note, rather than a coin toss.
	s.ForceLogout("1101")
	s.ConfirmPush()
	r3 := start(t, rigOptions{server: s, dir: dir, noScan: true})
	a, b := idsOf(r3)
	if a == t1 || a == t2 || b == t1 || b == t2 || a == b {
		t.Errorf("after a new login: %s %s; before %s %s", a, b, t1, t2)
	}
	if !s.WaitFor(wait, func() bool {
		ts, _ := r3.db.Tasks(t.Context())
		return len(ts) == 1 && ts[0].Kind == "identity" && strings.Contains(ts[0].Steps, "Tom")
	}) {
		ts, _ := r3.db.Tasks(t.Context())
		t.Errorf("tasks = %+v", ts)
	}
}
