package fakewx_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eatmoreapple/openwechat"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
)

const wait = 5 * time.Second

// newServer starts a server with short long-polls so tests stay fast.
func newServer(t *testing.T, opts fakewx.Options) *fakewx.Server {
	t.Helper()
	if opts.LoginPoll == 0 {
		opts.LoginPoll = 20 * time.Millisecond
	}
	if opts.SyncPoll == 0 {
		opts.SyncPoll = 50 * time.Millisecond
	}
	s := fakewx.New(opts)
	t.Cleanup(s.Close)
	return s
}

// newBot returns a real openwechat bot attached to s. Its context is
// cancelled at cleanup, before the server closes (cleanups run last in,
// first out), so no sync loop outlives the test.
func newBot(t *testing.T, s *fakewx.Server) *openwechat.Bot {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	b := openwechat.NewBot(ctx)
	s.Attach(b)
	return b
}

// qrLogin logs b in by QR, scanning as soon as the code is issued.
func qrLogin(t *testing.T, s *fakewx.Server, b *openwechat.Bot) {
	t.Helper()
	b.UUIDCallback = func(string) { s.Scan() }
	if err := b.Login(); err != nil {
		t.Fatalf("Login: %v", err)
	}
}

// seen is what a MessageHandler extracts from a message. Handlers run on
// the bot's sync goroutine; copying into a plain struct and sending it over
// a channel keeps the test goroutine away from openwechat's unsynchronised
// contact caches.
type seen struct {
	msgID, from, to, content string
	msgType                  openwechat.MessageType
	senderNick, senderCard   string
	senderErr                error
	joinGroup, renameGroup   bool
	byFriend, bySelf         bool
	byGroup                  bool
	data                     []byte
	friendAdd                *openwechat.FriendAddMessage
	agreed                   string
}

func collect(b *openwechat.Bot, extra func(*openwechat.Message, *seen)) <-chan seen {
	ch := make(chan seen, 64)
	b.MessageHandler = func(m *openwechat.Message) {
		v := seen{msgID: m.MsgId, from: m.FromUserName, to: m.ToUserName, content: m.Content, msgType: m.MsgType,
			joinGroup: m.IsJoinGroup(), renameGroup: m.IsRenameGroup(), bySelf: m.IsSendBySelf(), byGroup: m.IsSendByGroup()}
		v.byFriend = !v.byGroup && !v.bySelf && strings.HasPrefix(m.FromUserName, "@")
		if m.IsComeFromGroup() && !m.IsSendBySelf() {
			u, err := m.SenderInGroup()
			v.senderErr = err
			if err == nil {
				v.senderNick, v.senderCard = u.NickName, u.DisplayName
			}
		}
		if extra != nil {
			extra(m, &v)
		}
		ch <- v
	}
	return ch
}

func next(t *testing.T, ch <-chan seen) seen {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("no message arrived")
		return seen{}
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		img.Set(i%w, i/w, color.RGBA{R: uint8(i), G: 80, B: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func groupByName(t *testing.T, b *openwechat.Bot, name string) *openwechat.Group {
	t.Helper()
	self, err := b.GetCurrentUser()
	if err != nil {
		t.Fatal(err)
	}
	groups, err := self.Groups()
	if err != nil {
		t.Fatalf("Groups: %v", err)
	}
	g := groups.SearchByNickName(1, name).First()
	if g == nil {
		t.Fatalf("group %q not found", name)
	}
	return g
}

func friendByNick(t *testing.T, b *openwechat.Bot, nick string) *openwechat.Friend {
	t.Helper()
	self, _ := b.GetCurrentUser()
	friends, err := self.Friends()
	if err != nil {
		t.Fatalf("Friends: %v", err)
	}
	f := friends.SearchByNickName(1, nick).First()
	if f == nil {
		t.Fatalf("friend %q not found", nick)
	}
	return f
}

func TestQRLoginPolls408Then201Then200(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	b := newBot(t, s)
	var scanned, loggedIn atomic.Bool
	b.ScanCallBack = func(openwechat.CheckLoginResponse) { scanned.Store(true) }
	b.LoginCallBack = func(openwechat.CheckLoginResponse) { loggedIn.Store(true) }
	// Scan only after the client has been told 408 at least once.
	b.UUIDCallback = func(string) {
		go func() {
			s.WaitFor(wait, func() bool { return len(s.LoginPolls()) > 0 })
			s.Scan()
		}()
	}
	if err := b.Login(); err != nil {
		t.Fatalf("Login: %v", err)
	}
	polls := s.LoginPolls()
	if len(polls) < 3 || polls[0] != "408" || !slices.Equal(polls[len(polls)-2:], []string{"201", "200"}) {
		t.Errorf("polls = %v, want 408 ... 201 200", polls)
	}
	if !scanned.Load() || !loggedIn.Load() {
		t.Errorf("scan callback %v, login callback %v", scanned.Load(), loggedIn.Load())
	}
	self, err := b.GetCurrentUser()
	if err != nil {
		t.Fatal(err)
	}
	want := s.Self()
	if self.NickName != want.NickName || self.UserName != want.UserName || self.ID() != want.Uin {
		t.Errorf("self = %q %q %d, want %q %q %d", self.NickName, self.UserName, self.ID(), want.NickName, want.UserName, want.Uin)
	}
	if !s.Online() || s.Logins() != 1 {
		t.Errorf("Online %v Logins %d", s.Online(), s.Logins())
	}
}

func TestExpiredQRCode(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	b := newBot(t, s)
	b.UUIDCallback = func(string) { s.ExpireLogin() }
	if err := b.Login(); !errors.Is(err, openwechat.ErrLoginTimeout) {
		t.Fatalf("Login = %v, want ErrLoginTimeout", err)
	}
}

func TestGroupsMembersAndFriendsLoad(t *testing.T) {
	w := fakewx.DefaultWorld()
	w.Groups = append(w.Groups, fakewx.GroupSpec{Topic: "未保存群", Unsaved: true, Members: []fakewx.MemberSpec{{Person: "bob"}}})
	s := newServer(t, fakewx.Options{World: w, ContactPageSize: 2})
	b := newBot(t, s)
	qrLogin(t, s, b)

	self, _ := b.GetCurrentUser()
	groups, err := self.Groups()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.NickName)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"技术群", "闲聊群"}) {
		t.Errorf("groups = %v, want the two saved groups", names)
	}
	if n := s.Requests("webwxgetcontact"); n < 3 {
		t.Errorf("webwxgetcontact requests = %d, want paging (>= 3)", n)
	}

	g := groupByName(t, b, "技术群")
	if g.UserName != s.Group("技术群").UserName || g.IsOwner != 1 {
		t.Errorf("group = %q owner %d, want %q owner 1", g.UserName, g.IsOwner, s.Group("技术群").UserName)
	}
	members, err := g.Members()
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 5 {
		t.Errorf("members = %d, want 5 (bot, alice, bob, carol, dave)", len(members))
	}
	alice := s.Member("技术群", "alice")
	m := members.SearchByUserName(1, alice.UserName).First()
	if m == nil || m.NickName != "爱丽丝" || m.DisplayName != "Alice@技术" || m.AttrStatus != 100101 {
		t.Errorf("alice = %+v", m)
	}

	friends, err := self.Friends()
	if err != nil {
		t.Fatal(err)
	}
	f := friends.SearchByRemarkName(1, "[u1] 爱丽丝").First()
	if f == nil || f.UserName != alice.UserName {
		t.Errorf("friend by remark = %v, want alice %q", f, alice.UserName)
	}
	if kind, key, ok := s.Resolve(f.UserName); !ok || kind != "person" || key != "alice" {
		t.Errorf("Resolve = %q %q %v", kind, key, ok)
	}
	if mps, _ := self.Mps(); mps.Count() != 1 {
		t.Errorf("mps = %d, want 1", mps.Count())
	}
}

func TestMessagesArriveWithTheRightSender(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	b := newBot(t, s)
	ch := collect(b, func(m *openwechat.Message, v *seen) {
		if m.IsPicture() || m.HasAttachment() {
			var buf bytes.Buffer
			if err := m.SaveFile(&buf); err == nil {
				v.data = buf.Bytes()
			}
		}
	})
	qrLogin(t, s, b)
	group := s.Group("技术群")
	self := s.Self()

	s.SendGroupText("技术群", "alice", "你好 <world> & 1\n2")
	v := next(t, ch)
	if v.from != group.UserName || v.senderNick != "爱丽丝" || v.senderCard != "Alice@技术" || v.content != "你好 <world> & 1\n2" || !v.byGroup {
		t.Errorf("group text = %+v", v)
	}

	s.SendDM("bob", "hi bot")
	v = next(t, ch)
	if v.from != s.Person("bob").UserName || !v.byFriend || v.content != "hi bot" {
		t.Errorf("DM = %+v", v)
	}

	for _, tc := range []struct {
		content      string
		join, rename bool
	}{
		{fakewx.SysInvite("爱丽丝", "李四", "王五"), true, false},
		{fakewx.SysJoinQR("李四", "爱丽丝"), true, false},
		{fakewx.SysYouInvited("李四"), true, false},
		{fakewx.SysYouRemoved("李四"), false, false},
		{fakewx.SysRenamed("爱丽丝", "新名字"), false, true},
		{fakewx.SysInviteEN("Alice", "Li"), false, false},
	} {
		s.SendSystem("技术群", tc.content)
		v = next(t, ch)
		if v.msgType != openwechat.MsgTypeSys || v.content != tc.content || v.joinGroup != tc.join || v.renameGroup != tc.rename {
			t.Errorf("system %q: %+v", tc.content, v)
		}
		if v.senderErr == nil {
			t.Errorf("system %q: SenderInGroup found a sender", tc.content)
		}
	}

	s.SendSelfGroupText("技术群", "from the phone")
	v = next(t, ch)
	if !v.bySelf || v.from != self.UserName || v.to != group.UserName || v.content != "from the phone" {
		t.Errorf("self group text = %+v", v)
	}

	s.SendFileHelper("/status")
	v = next(t, ch)
	if !v.bySelf || v.to != "filehelper" || v.content != "/status" {
		t.Errorf("file helper text = %+v", v)
	}

	pic := pngBytes(t, 7, 5)
	id := s.SendImage("技术群", "carol", pic)
	v = next(t, ch)
	if v.msgID != id || v.msgType != openwechat.MsgTypeImage || v.senderCard != "卡卡" || !bytes.Equal(v.data, pic) {
		t.Errorf("image: id %q type %v card %q, %d bytes", v.msgID, v.msgType, v.senderCard, len(v.data))
	}

	doc := []byte("%PDF-1.4 fake")
	s.SendFile("", "alice", "报告.pdf", doc)
	v = next(t, ch)
	if !v.byFriend || !bytes.Equal(v.data, doc) {
		t.Errorf("DM file: %+v", v)
	}

	// A person who is not (or no longer) in the group: the library cannot
	// find the sender.
	s.SendGroupText("技术群", "eve", "I left already")
	if v = next(t, ch); !errors.Is(v.senderErr, openwechat.ErrNoSuchUserFound) {
		t.Errorf("non-member sender err = %v, want ErrNoSuchUserFound", v.senderErr)
	}
}

func TestFriendRequestAgree(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	b := newBot(t, s)
	ch := collect(b, func(m *openwechat.Message, v *seen) {
		if !m.IsFriendAdd() {
			return
		}
		v.friendAdd, _ = m.FriendAddMessageContent()
		if f, err := m.Agree("欢迎"); err == nil {
			v.agreed = f.NickName
		}
	})
	qrLogin(t, s, b)
	s.SendFriendRequest("张伟", `我是"张伟" <来自群>`)
	v := next(t, ch)
	if v.friendAdd == nil || v.friendAdd.FromNickName != "张伟" || v.friendAdd.Content != `我是"张伟" <来自群>` || v.agreed != "张伟" {
		t.Errorf("friend request = %+v / %+v", v, v.friendAdd)
	}
	if !s.Person("张伟").Friend {
		t.Error("agreed requester is not a friend")
	}
}

func TestSendTextImageAndFile(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	b := newBot(t, s)
	qrLogin(t, s, b)
	g := groupByName(t, b, "技术群")

	if _, err := g.SendText("大家好"); err != nil {
		t.Fatal(err)
	}
	pic := pngBytes(t, 3, 3)
	if _, err := g.SendImage(bytes.NewReader(pic)); err != nil {
		t.Fatalf("SendImage: %v", err)
	}
	// Over 512 KB, so openwechat uploads it in two chunks.
	big := bytes.Repeat([]byte("0123456789abcdef"), 40000)
	path := filepath.Join(t.TempDir(), "report.txt")
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := friendByNick(t, b, "Bob").SendFile(f); err != nil {
		t.Fatalf("SendFile: %v", err)
	}

	sent := s.Sent()
	if len(sent) != 3 {
		t.Fatalf("sent = %d, want 3", len(sent))
	}
	if sent[0].Kind != "text" || sent[0].Group != "技术群" || sent[0].Text != "大家好" {
		t.Errorf("text = %+v", sent[0])
	}
	if sent[1].Kind != "image" || sent[1].Group != "技术群" || !bytes.Equal(sent[1].Data, pic) {
		t.Errorf("image = %s %s %d bytes", sent[1].Kind, sent[1].Group, len(sent[1].Data))
	}
	if sent[2].Kind != "file" || sent[2].Person != "bob" || sent[2].FileName != "report.txt" || !bytes.Equal(sent[2].Data, big) {
		t.Errorf("file = %s %s %q %d bytes", sent[2].Kind, sent[2].Person, sent[2].FileName, len(sent[2].Data))
	}
	ups := s.Uploads()
	sum := md5.Sum(big)
	if len(ups) != 2 || ups[0].MediaType != "pic" || ups[1].Chunks != 2 || ups[1].MD5 != hex.EncodeToString(sum[:]) ||
		ups[1].ClaimedMD5 != ups[1].MD5 || ups[1].Name != path {
		t.Errorf("uploads = %+v", ups)
	}
}

func TestChatRoomOperations(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	b := newBot(t, s)
	qrLogin(t, s, b)
	self, _ := b.GetCurrentUser()
	g := groupByName(t, b, "技术群")

	if err := g.AddFriendsIn(friendByNick(t, b, "伊芙")); err != nil {
		t.Fatalf("AddFriendsIn: %v", err)
	}
	members, err := g.Members()
	if err != nil {
		t.Fatal(err)
	}
	if members.SearchByUserName(1, s.Person("eve").UserName).Count() != 1 {
		t.Error("eve is not in the member list after addmember")
	}

	if err := g.Rename("新技术群"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if topic := s.Group("技术群").Topic; topic != "新技术群" {
		t.Errorf("topic = %q", topic)
	}

	carol := members.SearchByUserName(1, s.Person("carol").UserName)
	if err := g.RemoveMembers(carol); err != nil {
		t.Fatalf("RemoveMembers: %v", err)
	}
	if !slices.ContainsFunc(s.Group("技术群").Members, func(m fakewx.Member) bool { return m.Person == "carol" }) {
		t.Error("delmember removed carol without KickWorks")
	}

	alice, bob := friendByNick(t, b, "爱丽丝"), friendByNick(t, b, "Bob")
	created, err := self.CreateGroup("新群", alice, bob)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if ng := s.Group("新群"); created.UserName != ng.UserName || len(created.MemberList) != 3 || !ng.IsOwner || ng.Saved {
		t.Errorf("created %q with %d members; server has %+v", created.UserName, len(created.MemberList), ng)
	}

	// The real server sometimes answers Ret 0 without a group;
	// openwechat reports success with an empty UserName.
	s.SetCreateChatRoomFails(true)
	failed, err := self.CreateGroup("又一个群", alice, bob)
	if err != nil || failed.UserName != "" {
		t.Errorf("failing create = %v, %v; want empty group, nil", failed, err)
	}

	var ops []string
	for _, op := range s.ChatRoomOps() {
		// openwechat de-duplicates friends through a map: order varies.
		slices.Sort(op.People)
		ops = append(ops, op.Fun+"/"+op.Op+"/"+strings.Join(op.People, ","))
	}
	want := []string{"addmember/addmember/eve", "modtopic/modtopic/", "/delmember/carol", "/create/alice,bob", "/create/alice,bob"}
	if !slices.Equal(ops, want) {
		t.Errorf("ops = %q, want %q", ops, want)
	}
}

// bigWorld is DefaultWorld plus 大群, whose members with the bot number
// size, all strangers but the bot.
func bigWorld(size int) fakewx.World {
	w := fakewx.DefaultWorld()
	g := fakewx.GroupSpec{Topic: "大群", Owner: "p01"}
	for i := 1; i < size; i++ {
		g.Members = append(g.Members, fakewx.MemberSpec{Person: fmt.Sprintf("p%02d", i)})
	}
	w.Groups = append(w.Groups, g)
	return w
}

// TestInviteMemberSendsACard: openwechat invites into a group of 40 with
// fun=invitemember; the friend gets a card and joins only on accepting it.
func TestInviteMemberSendsACard(t *testing.T) {
	s := newServer(t, fakewx.Options{World: bigWorld(40)})
	b := newBot(t, s)
	got := collect(b, nil)
	qrLogin(t, s, b)
	g := groupByName(t, b, "大群")
	if err := g.AddFriendsIn(friendByNick(t, b, "Bob"), friendByNick(t, b, "伊芙")); err != nil {
		t.Fatalf("AddFriendsIn: %v", err)
	}
	ops := s.ChatRoomOps()
	if len(ops) != 1 || ops[0].Fun != "invitemember" || ops[0].Ret != 0 {
		t.Fatalf("ops = %+v", ops)
	}
	big := s.Group("大群")
	slices.Sort(big.Invited)
	if len(big.Members) != 40 || !slices.Equal(big.Invited, []string{"bob", "eve"}) {
		t.Fatalf("after invitemember: %d members, invited %v", len(big.Members), big.Invited)
	}
	if s.Pending() != 0 {
		t.Errorf("%d messages queued for a card", s.Pending())
	}

	s.DeclineInvitation("大群", "eve")
	s.AcceptInvitation("大群", "bob", "")
	v := next(t, got)
	if v.content != `你邀请"Bob"加入了群聊  ` || !v.joinGroup || v.from != g.UserName {
		t.Errorf("message after accepting = %+v", v)
	}
	members, err := g.Members()
	if err != nil {
		t.Fatal(err)
	}
	if members.Count() != 41 || members.SearchByUserName(1, s.Person("bob").UserName).Count() != 1 {
		t.Errorf("members after accepting: %d", members.Count())
	}
	if big := s.Group("大群"); len(big.Invited) != 0 {
		t.Errorf("invitations left open: %v", big.Invited)
	}

	// One member fewer and openwechat adds directly.
	s.RemoveMember("大群", "bob")
	s.RemoveMember("大群", "p39")
	if err := g.AddFriendsIn(friendByNick(t, b, "Bob")); err != nil {
		t.Fatalf("AddFriendsIn: %v", err)
	}
	if ops := s.ChatRoomOps(); len(ops) != 2 || ops[1].Fun != "addmember" || !slices.ContainsFunc(s.Group("大群").Members, func(m fakewx.Member) bool { return m.Person == "bob" }) {
		t.Errorf("ops = %+v", ops)
	}
}

func TestFailNextReturnsRet(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	b := newBot(t, s)
	qrLogin(t, s, b)
	g := groupByName(t, b, "技术群")
	s.FailNext("webwxsendmsg", 1205)
	if _, err := g.SendText("x"); !errors.Is(err, openwechat.Ret(1205)) {
		t.Errorf("SendText = %v, want Ret 1205", err)
	}
	if _, err := g.SendText("y"); err != nil {
		t.Errorf("second SendText = %v", err)
	}
	if n := len(s.Sent()); n != 1 {
		t.Errorf("sent = %d, want 1", n)
	}
}

// blockErr waits for b to exit and returns why, like b.Block. Block itself
// reads a field that the exiting sync goroutine writes without
// synchronisation, so under -race it can only be called before anything
// can make the bot exit; the context is the safe signal.
func blockErr(t *testing.T, b *openwechat.Bot) error {
	t.Helper()
	select {
	case <-b.Context().Done():
		return b.CrashReason()
	case <-time.After(wait):
		t.Fatal("the bot did not exit")
		return nil
	}
}

func TestForcedLogoutThenPushLoginGetsQueuedMessages(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	storage := fakewx.NewMemoryStorage()

	b1 := newBot(t, s)
	ch1 := collect(b1, nil)
	b1.UUIDCallback = func(string) { s.Scan() }
	// The production pattern: hot login, falling back to QR.
	if err := b1.HotLogin(storage, openwechat.NewRetryLoginOption()); err != nil {
		t.Fatalf("first login: %v", err)
	}
	s.SendDM("bob", "before")
	next(t, ch1)
	oldGroup := s.Group("技术群").UserName

	s.ForceLogout("1101")
	if err := blockErr(t, b1); !errors.Is(err, openwechat.Ret(1101)) {
		t.Fatalf("Block = %v, want Ret 1101", err)
	}
	s.SendGroupText("技术群", "alice", "while you were out")

	b2 := newBot(t, s)
	ch2 := collect(b2, nil)
	s.ConfirmPush()
	if err := b2.PushLogin(storage, openwechat.NewRetryLoginOption()); err != nil {
		t.Fatalf("PushLogin: %v", err)
	}
	if s.Logins() != 2 || s.Requests("webwxpushloginurl") != 1 {
		t.Errorf("logins %d, push requests %d", s.Logins(), s.Requests("webwxpushloginurl"))
	}
	v := next(t, ch2)
	newGroup := s.Group("技术群").UserName
	if newGroup == oldGroup || v.from != newGroup || v.content != "while you were out" || v.senderNick != "爱丽丝" {
		t.Errorf("after push login: %+v (group %q, before %q)", v, newGroup, oldGroup)
	}
	// Push login sets the domain cookies again, so uploads work.
	if _, err := groupByName(t, b2, "技术群").SendImage(bytes.NewReader(pngBytes(t, 2, 2))); err != nil {
		t.Errorf("SendImage after push login: %v", err)
	}
}

func TestHotLogin(t *testing.T) {
	for _, dataTicketOnInit := range []bool{false, true} {
		t.Run("DataTicketOnInit="+strconv.FormatBool(dataTicketOnInit), func(t *testing.T) { testHotLogin(t, dataTicketOnInit) })
	}
}

func testHotLogin(t *testing.T, dataTicketOnInit bool) {
	{
		s := newServer(t, fakewx.Options{DataTicketOnInit: dataTicketOnInit})
		storage := fakewx.NewMemoryStorage()
		ctx1, stop1 := context.WithCancel(context.Background())
		b1 := openwechat.NewBot(ctx1)
		s.Attach(b1)
		b1.UUIDCallback = func(string) { s.Scan() }
		if err := b1.HotLogin(storage, openwechat.NewRetryLoginOption()); err != nil {
			t.Fatal(err)
		}
		name := s.Group("技术群").UserName
		stop1() // the process restarts

		s.SendDM("alice", "queued during restart")
		b2 := newBot(t, s)
		ch := collect(b2, nil)
		b2.UUIDCallback = func(string) { t.Error("hot login asked for a QR code") }
		if err := b2.HotLogin(storage); err != nil {
			t.Fatalf("HotLogin: %v", err)
		}
		if s.Logins() != 1 || s.Group("技术群").UserName != name {
			t.Errorf("hot login made a new session")
		}
		if v := next(t, ch); v.content != "queued during restart" {
			t.Errorf("message = %+v", v)
		}
		// openwechat stores cookies without their Domain, so after a hot
		// login webwx_data_ticket is no longer sent to file.<domain>.
		_, err := groupByName(t, b2, "技术群").SendImage(bytes.NewReader(pngBytes(t, 2, 2)))
		if dataTicketOnInit && err != nil {
			t.Errorf("SendImage with DataTicketOnInit: %v", err)
		}
		if !dataTicketOnInit && !errors.Is(err, openwechat.ErrWebWxDataTicketNotFound) {
			t.Errorf("SendImage after hot login = %v, want ErrWebWxDataTicketNotFound", err)
		}
	}
}

func TestHotLoginFailsAfterForcedLogout(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	storage := fakewx.NewMemoryStorage()
	b1 := newBot(t, s)
	b1.UUIDCallback = func(string) { s.Scan() }
	if err := b1.HotLogin(storage, openwechat.NewRetryLoginOption()); err != nil {
		t.Fatal(err)
	}
	s.ForceLogout("1100")
	if err := blockErr(t, b1); !errors.Is(err, openwechat.Ret(1100)) {
		t.Fatalf("Block = %v, want Ret 1100", err)
	}
	b2 := newBot(t, s)
	if err := b2.HotLogin(storage); !errors.Is(err, openwechat.Ret(1100)) {
		t.Errorf("HotLogin on a dead session = %v, want Ret 1100", err)
	}
}

func TestLogoutFromHandler(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	b := newBot(t, s)
	// Bot.Logout writes state the sync loop reads, so call it from the
	// handler, on the sync goroutine.
	b.MessageHandler = func(m *openwechat.Message) {
		if m.Content == "logout" {
			_ = m.Bot().Logout()
		}
	}
	qrLogin(t, s, b)
	s.SendDM("alice", "logout")
	if err := blockErr(t, b); !errors.Is(err, openwechat.ErrUserLogout) {
		t.Errorf("Block = %v, want ErrUserLogout", err)
	}
	if s.Online() {
		t.Error("session still live after logout")
	}
}

func TestEchoAndLoginNotify(t *testing.T) {
	s := newServer(t, fakewx.Options{EchoSent: true, LoginNotify: true})
	b := newBot(t, s)
	ch := collect(b, nil)
	qrLogin(t, s, b)
	if v := next(t, ch); v.msgType != 51 || !v.bySelf {
		t.Errorf("first message = %+v, want a status notify", v)
	}
	if _, err := groupByName(t, b, "技术群").SendText("echo me"); err != nil {
		t.Fatal(err)
	}
	if v := next(t, ch); !v.bySelf || v.to != s.Group("技术群").UserName || v.content != "echo me" || v.msgID != s.Sent()[0].MsgID {
		t.Errorf("echo = %+v", v)
	}
}

func TestServerDown(t *testing.T) {
	t.Run("with a backoff handler", func(t *testing.T) {
		s := newServer(t, fakewx.Options{})
		b := newBot(t, s)
		var errs atomic.Int32
		b.MessageErrorHandler = func(err error) error {
			errs.Add(1)
			time.Sleep(100 * time.Millisecond)
			return nil
		}
		ch := collect(b, nil)
		qrLogin(t, s, b)

		s.SetDown(true)
		before := s.TotalRequests()
		time.Sleep(1500 * time.Millisecond)
		n := s.TotalRequests() - before
		s.SetDown(false)
		t.Logf("down 1.5 s with backoff: %d requests, %d handler calls", n, errs.Load())
		if n < 5 || n > 60 {
			t.Errorf("requests while down = %d, want a handful (5..60)", n)
		}
		s.SendDM("bob", "back")
		if v := next(t, ch); v.content != "back" {
			t.Errorf("after recovery: %+v", v)
		}
	})
	t.Run("with the default handler", func(t *testing.T) {
		// openwechat swallows network errors and retries at once, so the
		// loop spins (here about a thousand requests a second, bounded by
		// connection setup). Measure it for a moment only.
		s := newServer(t, fakewx.Options{})
		b := newBot(t, s)
		qrLogin(t, s, b)
		s.SetDown(true)
		before := s.TotalRequests()
		start := time.Now()
		// A backoff of even 100 ms would need 20 s for 200 requests; the
		// default handler gets there in a fraction of a second. Waiting
		// for the count (not for a fixed time) keeps a loaded machine from
		// failing the test.
		for s.TotalRequests()-before < 200 && time.Since(start) < 10*time.Second {
			time.Sleep(5 * time.Millisecond)
		}
		n, took := s.TotalRequests()-before, time.Since(start)
		s.SetDown(false)
		t.Logf("down without a handler: %d requests in %v (a hot loop)", n, took)
		if n < 200 {
			t.Errorf("requests = %d in %v; expected the default handler to spin", n, took)
		}
	})
}

func TestTransportDoesNotChangeTheRequest(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	req, err := http.NewRequest(http.MethodGet, "https://webpush."+s.Domain()+"/cgi-bin/mmwebwx-bin/synccheck?skey=x", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Transport().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if req.URL.Scheme != "https" || req.URL.Host != "webpush."+s.Domain() || req.Host != "webpush."+s.Domain() {
		t.Errorf("request changed: %v host %q", req.URL, req.Host)
	}
	if string(body) != `window.synccheck={retcode:"1101",selector:"0"}` {
		t.Errorf("body = %q", body)
	}
}

func TestSystemTemplates(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fakewx.SysInvite("张三", "李四"), `"张三"邀请"李四"加入了群聊`},
		{fakewx.SysInvite("张三", "李四", "王五"), `"张三"邀请"李四、王五"加入了群聊`},
		{fakewx.SysYouInvited("李四"), `你邀请"李四"加入了群聊  `},
		{fakewx.SysInvitedYou("张三", "李四", "王五"), `"张三"邀请你加入了群聊，群聊参与人还有：李四、王五`},
		{fakewx.SysJoinQR("李四", "张三"), `" 李四"通过扫描"张三"分享的二维码加入群聊`},
		{fakewx.SysJoinYourQR("李四"), `"李四"通过扫描你分享的二维码加入群聊  `},
		{fakewx.SysJoinByInvite("李四", "张三"), `"李四"通过"张三"的邀请二维码加入群聊`},
		{fakewx.SysYouRemoved("李四"), `你将"李四"移出了群聊`},
		{fakewx.SysYouWereRemoved("张三"), `你被"张三"移出群聊`},
		{fakewx.SysRenamed("张三", "新名字"), `"张三"修改群名为“新名字”`},
		{fakewx.SysYouRenamed("新名字"), `你修改群名为“新名字”`},
		{fakewx.SysInviteEN("X", "Y"), `"X" invited "Y" to the group chat`},
		{fakewx.SysJoinQREN("Y", "X"), `"Y" joined the group chat via the QR Code shared by "X"`},
		{fakewx.SysYouRemovedEN("X"), `You removed "X" from the group chat`},
		{fakewx.SysRenamedEN("X", "Y"), `"X" changed the group name to "Y"`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestWorldMutationsShowInTheClient(t *testing.T) {
	s := newServer(t, fakewx.Options{})
	b := newBot(t, s)
	changed := make(chan openwechat.Selector, 64)
	b.SyncCheckCallback = func(r openwechat.SyncCheckResponse) {
		if r.Selector != openwechat.SelectorNormal {
			changed <- r.Selector
		}
	}
	qrLogin(t, s, b)

	s.RemoveMember("技术群", "dave") // a voluntary leave: no message
	s.AddMember("技术群", fakewx.MemberSpec{Person: "frank", NickName: "弗兰克", DisplayName: "新人"})
	s.SetCard("技术群", "bob", "Bob的群名片")
	s.RenameGroup("闲聊群", "吹水群")
	s.RemoveBotFromGroup("闲聊群")
	// openwechat ignores the ModContactList these changes bring, but the
	// synccheck selector tells a client that contacts changed.
	select {
	case sel := <-changed:
		if sel != "4" && sel != "6" {
			t.Errorf("selector = %s, want 4 or 6", sel)
		}
	case <-time.After(wait):
		t.Fatal("no selector reported the contact changes")
	}

	g := groupByName(t, b, "技术群")
	members, err := g.Members()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range members {
		got[m.NickName] = m.DisplayName
	}
	if _, ok := got["弗兰克"]; !ok || got["弗兰克"] != "新人" || got["Bob"] != "Bob的群名片" || len(members) != 5 {
		t.Errorf("members = %v", got)
	}
	self, _ := b.GetCurrentUser()
	groups, err := self.Groups(true)
	if err != nil {
		t.Fatal(err)
	}
	if groups.Count() != 1 {
		t.Errorf("groups after removal = %d, want 1", groups.Count())
	}
	if gone := s.Group("闲聊群"); gone.BotIn || gone.Topic != "吹水群" {
		t.Errorf("snapshot = %+v", gone)
	}
}

func TestAutoScanAutoConfirmAndLoginRefusal(t *testing.T) {
	s := newServer(t, fakewx.Options{AutoScan: true, AutoConfirmPush: true})
	storage := fakewx.NewMemoryStorage()
	b1 := newBot(t, s)
	if err := b1.HotLogin(storage, openwechat.NewRetryLoginOption()); err != nil {
		t.Fatalf("auto-scanned login: %v", err)
	}
	s.ForceLogout("1102")
	if err := blockErr(t, b1); !errors.Is(err, openwechat.Ret(1102)) {
		t.Fatalf("Block = %v, want Ret 1102", err)
	}
	b2 := newBot(t, s)
	if err := b2.PushLogin(storage); err != nil {
		t.Fatalf("auto-confirmed push login: %v", err)
	}
	if polls := s.LoginPolls(); polls[len(polls)-1] != "200" || s.Logins() != 2 {
		t.Errorf("polls %v, logins %d", polls, s.Logins())
	}

	s.FailNext("webwxnewloginpage", 1203)
	b3 := newBot(t, s)
	if err := b3.Login(); err == nil || !strings.Contains(err.Error(), "不能登录网页微信") {
		t.Errorf("refused login = %v", err)
	}
	if calls := s.Calls("webwxnewloginpage"); len(calls) != 3 || calls[2].Query.Get("version") != "v2" {
		t.Errorf("newloginpage calls = %d", len(calls))
	}
}
