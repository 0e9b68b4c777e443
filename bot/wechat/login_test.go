package wechat_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
)

func TestLoginByQRCode(t *testing.T) {
	t.Parallel()
	var pngSeen atomic.Bool
	r := start(t, rigOptions{fake: fakewx.Options{EchoSent: true, LoginNotify: true}, tune: func(o *wechat.Options) {
		scan := o.OnQRCode
		o.OnQRCode = func(uuid string) {
			st, err := os.Stat(filepath.Join(o.DataDir, "login-qr.png"))
			pngSeen.Store(err == nil && st.Mode().Perm() == 0o600)
			scan(uuid)
		}
	}})
	if !pngSeen.Load() {
		t.Error("no QR picture (mode 0600) in the data dir while waiting for the scan")
	}
	polls := strings.Join(r.s.LoginPolls(), ",")
	if !strings.Contains(polls, "408") || !strings.HasSuffix(polls, "201,200") {
		t.Errorf("login polls = %s, want 408s then 201, 200", polls)
	}
	if out := r.qr.String(); !strings.Contains(out, "https://login.weixin.qq.com/l/") || !strings.Contains(out, "▀") {
		t.Errorf("terminal QR code missing:\n%s", out)
	}
	// The person at the terminal is told what goes on, not only the log.
	if out := r.qr.String(); !strings.HasPrefix(out, "正在登录微信（normal 模式）") || !strings.Contains(out, "已登录：") {
		t.Errorf("terminal login progress missing:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "login-qr.png")); !os.IsNotExist(err) {
		t.Errorf("the QR picture outlived the login: %v", err)
	}
	st, err := os.Stat(filepath.Join(r.dir, "wechat-session.json"))
	if err != nil {
		t.Fatalf("session not saved: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("session file mode %v, want 0600", st.Mode().Perm())
	}
	self, err := r.p.Self(t.Context())
	if err != nil || self.ID != bot.SelfID || self.Nick != "群管机器人" {
		t.Errorf("Self = %+v, %v", self, err)
	}
}

func TestRefusedLoginIsRetriedAndOperatorsTold(t *testing.T) {
	t.Parallel()
	s := newServer(t, fakewx.Options{})
	// WeChat refuses the first web login of this account (1203).
	s.FailNext("webwxnewloginpage", 1203)
	r := start(t, rigOptions{server: s})
	if s.Requests("jslogin") < 2 {
		t.Errorf("QR codes issued: %d, want a second one after the refusal", s.Requests("jslogin"))
	}
	var told bool
	for _, a := range r.rt.RecentAlerts() {
		if strings.Contains(a.Text, "1203") && strings.Contains(a.Text, "desktop") {
			told = true
		}
	}
	if !told {
		t.Errorf("no alert about the refusal: %+v", r.rt.RecentAlerts())
	}
	if out := r.qr.String(); !strings.Contains(out, "登录失败（第 1 次）") || !strings.Contains(out, "后重试") {
		t.Errorf("the refusal was not shown at the terminal:\n%s", out)
	}
}
