package wechat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
)

func TestLogoutThenPushLoginKeepsTheMessages(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	alice := r.member(tech, "爱丽丝")
	oldName := r.s.Group("技术群").UserName
	qrCodes := r.s.Requests("jslogin")

	// Logged in elsewhere: the next sync check answers 1101.
	r.s.ForceLogout("1101")
	ev := r.waitEvent("logout", isKind(bot.EventLogout))
	if !strings.Contains(ev.Reason, "1101") {
		t.Errorf("logout reason = %q", ev.Reason)
	}
	if sess, err := r.db.Sessions(t.Context(), time.Time{}, time.Time{}); err != nil || len(sess) != 1 || sess[0].End.IsZero() {
		t.Errorf("the store did not record the end of the session: %+v, %v", sess, err)
	}
	// Messages keep coming while the bot is away.
	r.s.SendGroupText("技术群", "alice", "掉线期间的消息")
	r.s.SendGroupText("技术群", "carol", "/help")
	// One tap on the phone.
	r.s.ConfirmPush()

	ev = r.waitEvent("login again", isKind(bot.EventLogin))
	if !strings.Contains(ev.Reason, "免扫码") {
		t.Errorf("login reason = %q", ev.Reason)
	}
	if r.s.Requests("webwxpushloginurl") != 1 || r.s.Requests("jslogin") != qrCodes {
		t.Errorf("push logins %d, QR codes %d (before %d)", r.s.Requests("webwxpushloginurl"), r.s.Requests("jslogin"), qrCodes)
	}
	if r.s.Group("技术群").UserName == oldName {
		t.Fatal("the fake kept the session names; the test proves nothing")
	}
	ev = r.waitEvent("the message sent while logged out", isMsg("掉线期间的消息"))
	if ev.Group != tech || ev.Sender != alice.ID {
		t.Errorf("after the new login: group %s sender %s, want %s %s", ev.Group, ev.Sender, tech, alice.ID)
	}
	// The command sent meanwhile is answered in the group, under its new
	// session name.
	m := r.sent("the help", func(m fakewx.Sent) bool { return strings.Contains(m.Text, "可用命令") })
	if m.Group != "技术群" {
		t.Errorf("help went to %q", m.Group)
	}
	// Operators hear that the bot is back (eve is the operator).
	r.sent("the recovery alert", func(m fakewx.Sent) bool { return m.Person == "eve" && strings.Contains(m.Text, "重新登录") })
	r.noEvent("second copy", 200*time.Millisecond, isMsg("掉线期间的消息"))
}

func TestServerDownCausesFewRequests(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{tune: func(o *wechat.Options) {
		// Shorter than in production so the test ends soon after the
		// server is back; the requests still grow only logarithmically.
		o.SyncBackoff = wechat.Backoff{Base: 250 * time.Millisecond, Max: 2 * time.Second}
		o.OfflineAfter = time.Second
		o.MaxRetries = 0 // the production default
	}})
	r.s.SetDown(true)
	before := r.s.TotalRequests()
	ev := r.waitEvent("offline", isKind(bot.EventLogout))
	if !strings.Contains(ev.Reason, "网络") {
		t.Errorf("logout reason = %q", ev.Reason)
	}
	time.Sleep(10*time.Second - time.Since(ev.Time.Add(-time.Second)))
	n := r.s.TotalRequests() - before
	r.s.SetDown(false)
	t.Logf("requests while the server was down for 10 s: %d %v", n, r.s.RequestCounts())
	if n > 40 {
		t.Errorf("%d requests in 10 s; the sync loop does not back off", n)
	}
	ev = r.waitEvent("online again", isKind(bot.EventLogin))
	if ev.Reason != "网络恢复" {
		t.Errorf("login reason = %q", ev.Reason)
	}
	r.s.SendDM("eve", "回来了吗")
	r.waitEvent("a message after the outage", isMsg("回来了吗"))
	if r.s.Logins() != 1 {
		t.Errorf("logins = %d: the session survived the outage and needed no new login", r.s.Logins())
	}
}
