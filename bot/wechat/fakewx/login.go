package fakewx

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// session is one web login. Only the newest is live: a new login ends the
// previous one, as logging in elsewhere does on the real server.
type session struct {
	uin        int64
	sid        string
	skey       string
	passTicket string
	dataTicket string
	dead       bool
	// retcode is what synccheck answers once the session is dead.
	retcode string
}

func (ss *session) ret() int {
	if n, err := strconv.Atoi(ss.retcode); err == nil && n != 0 {
		return n
	}
	return 1101
}

// attempt is one QR code or push-login prompt.
type attempt struct {
	uuid   string
	state  attemptState
	ticket string
	used   bool
}

type attemptState int

const (
	waiting   attemptState = iota // 408 until something happens
	scanned                       // next poll answers 201
	confirmed                     // next poll answers 200
	done                          // 200 was answered
	expired                       // polls answer 400
)

// Scan scans the newest QR code and confirms on the phone: the next poll
// answers 201, the one after 200. If no code is waiting, the next one issued
// is scanned at once.
func (s *Server) Scan() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.attempts[s.lastQR]; a != nil && a.state == waiting {
		a.state = scanned
	} else {
		s.scanArmed = true
	}
	s.bump()
}

// ConfirmPush taps "log in" on the phone for the newest push login, whose
// next poll then answers 200. If none is waiting, the next one is confirmed
// as soon as it is requested.
func (s *Server) ConfirmPush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.attempts[s.lastPush]; a != nil && a.state == waiting {
		a.state = confirmed
	} else {
		s.pushArmed = true
	}
	s.bump()
}

// ExpireLogin expires every QR code and push prompt not yet confirmed: their
// polls answer 400 and openwechat returns ErrLoginTimeout.
func (s *Server) ExpireLogin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.attempts {
		if a.state == waiting || a.state == scanned {
			a.state = expired
		}
	}
	s.scanArmed, s.pushArmed = false, false
	s.bump()
}

// ForceLogout ends the live session: the next synccheck answers retcode
// (e.g. "1100", "1101", "1102") and every other call of that session
// answers BaseResponse.Ret 1101 (or retcode, if numeric) until a new login.
// A hot login with the old session fails; a push or QR login works.
func (s *Server) ForceLogout(retcode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && !s.cur.dead {
		s.cur.dead = true
		s.cur.retcode = retcode
	}
	s.bump()
}

// Online reports whether a live session exists.
func (s *Server) Online() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil && !s.cur.dead
}

// Logins returns how many logins (QR or push) have succeeded. Hot logins
// reuse a session and do not count.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// LoginPolls returns the window.code of every QR/push poll answered, in
// order: "408", "201", "200", "400".
func (s *Server) LoginPolls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.loginPolls)
}

func (s *Server) recordPoll(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordPollLocked(code)
}

func (s *Server) recordPollLocked(code string) {
	s.loginPolls = append(s.loginPolls, code)
	s.bump()
}

// checkBase validates a BaseRequest and returns 0 or the Ret to answer.
// Caller holds s.mu.
func (s *Server) checkBase(br baseRequest) int {
	ss := s.sessions[br.Skey]
	if ss == nil || ss.sid != br.Sid || ss.uin != br.Uin {
		return 1101
	}
	if ss.dead {
		return ss.ret()
	}
	return 0
}

// checkSkey validates a request that carries only the skey.
func (s *Server) checkSkey(skey string) int {
	ss := s.sessions[skey]
	if ss == nil {
		return 1101
	}
	if ss.dead {
		return ss.ret()
	}
	return 0
}

func (s *Server) handleJSLogin(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := &attempt{uuid: randBase64(8)}
	if s.opts.AutoScan || s.scanArmed {
		a.state = scanned
		s.scanArmed = false
	}
	s.attempts[a.uuid] = a
	s.lastQR = a.uuid
	s.bump()
	s.mu.Unlock()
	writeText(w, fmt.Sprintf(`window.QRLogin.code = 200; window.QRLogin.uuid = "%s";`, a.uuid))
}

// handleLoginPoll is the QR and push-login long poll. openwechat polls again
// at once after 408, so holding the request is what keeps it from spinning.
func (s *Server) handleLoginPoll(w http.ResponseWriter, r *http.Request) {
	uuid := r.URL.Query().Get("uuid")
	check := func() (string, bool) {
		a := s.attempts[uuid]
		if a == nil || a.state == expired {
			s.recordPollLocked("400")
			return "window.code=400;", true
		}
		switch a.state {
		case scanned:
			a.state = confirmed
			s.recordPollLocked("201")
			return "window.code=201;window.userAvatar = 'data:img/jpg;base64," + base64.StdEncoding.EncodeToString(iconPNG) + "';", true
		case confirmed, done:
			if a.ticket == "" {
				a.ticket = randHex(16)
				s.tickets[a.ticket] = a
			}
			a.state = done
			s.recordPollLocked("200")
			q := url.Values{"ticket": {a.ticket}, "uuid": {a.uuid}, "lang": {"zh_CN"}, "scan": {strconv.FormatInt(time.Now().Unix(), 10)}}
			return fmt.Sprintf("window.code=200;\nwindow.redirect_uri=\"https://%s/cgi-bin/mmwebwx-bin/webwxnewloginpage?%s\";", s.domain, q.Encode()), true
		}
		return "", false
	}
	idle := func() string {
		s.recordPollLocked("408")
		return "window.code=408;"
	}
	s.longPoll(w, r, s.opts.LoginPoll, check, idle)
}

type loginXML struct {
	XMLName     xml.Name `xml:"error"`
	Ret         int      `xml:"ret"`
	Message     string   `xml:"message"`
	SKey        string   `xml:"skey,omitempty"`
	WxSid       string   `xml:"wxsid,omitempty"`
	WxUin       int64    `xml:"wxuin,omitempty"`
	PassTicket  string   `xml:"pass_ticket,omitempty"`
	IsGrayscale int      `xml:"isgrayscale"`
}

func writeXMLLogin(w http.ResponseWriter, v loginXML) {
	w.Header().Set("Content-Type", "text/plain")
	b, _ := xml.Marshal(v)
	_, _ = w.Write(b)
}

// handleNewLoginPage trades the ticket from the 200 redirect for a session.
// It sets the session cookies with Domain=<domain>, so that
// file.<domain> and webpush.<domain> get them too; openwechat's uploads
// need webwx_data_ticket for file.<domain>.
func (s *Server) handleNewLoginPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.tickets[r.URL.Query().Get("ticket")]
	if a == nil || a.used {
		s.mu.Unlock()
		writeXMLLogin(w, loginXML{Ret: 1, Message: "fakewx: unknown or used ticket"})
		return
	}
	a.used = true
	ss := s.newSession()
	s.mu.Unlock()

	cookies := []struct{ name, value string }{
		{"wxuin", strconv.FormatInt(ss.uin, 10)},
		{"wxsid", ss.sid},
		{"wxloadtime", strconv.FormatInt(time.Now().Unix(), 10)},
		{"mm_lang", "zh_CN"},
		{"webwx_data_ticket", ss.dataTicket},
		{"webwxuvid", randHex(16)},
		{"webwx_auth_ticket", randBase64(24)},
	}
	for _, c := range cookies {
		http.SetCookie(w, &http.Cookie{Name: c.name, Value: c.value, Domain: s.domain, Path: "/"})
	}
	writeXMLLogin(w, loginXML{
		SKey:        ss.skey,
		WxSid:       ss.sid,
		WxUin:       ss.uin,
		PassTicket:  ss.passTicket,
		IsGrayscale: 1,
	})
}

// newSession ends the live session and starts a new one with new names for
// everyone. Caller holds s.mu.
func (s *Server) newSession() *session {
	if s.cur != nil && !s.cur.dead {
		s.cur.dead = true
		s.cur.retcode = "1101"
	}
	ss := &session{
		uin:        s.people[SelfKey].Uin,
		sid:        randBase64(12),
		skey:       "@crypt_" + randHex(4) + "_" + randHex(16),
		passTicket: randBase64(48),
		dataTicket: randBase64(36),
	}
	s.sessions[ss.skey] = ss
	s.cur = ss
	s.logins++
	s.resetNames()
	s.bump()
	return ss
}

// handlePushLoginURL starts a push login (免扫码登录): the phone shows a
// prompt and the client polls the returned uuid with tip=1. It needs a
// previous login of the same account.
func (s *Server) handlePushLoginURL(w http.ResponseWriter, r *http.Request) {
	uin, _ := strconv.ParseInt(r.URL.Query().Get("uin"), 10, 64)
	s.mu.Lock()
	if s.logins == 0 || uin != s.people[SelfKey].Uin {
		s.mu.Unlock()
		writeJSON(w, map[string]string{"ret": "1", "msg": "fakewx: no earlier login for this uin", "uuid": ""})
		return
	}
	a := &attempt{uuid: randBase64(8)}
	if s.opts.AutoConfirmPush || s.pushArmed {
		a.state = confirmed
		s.pushArmed = false
	}
	s.attempts[a.uuid] = a
	s.lastPush = a.uuid
	s.bump()
	s.mu.Unlock()
	writeJSON(w, map[string]string{"ret": "0", "msg": "all ok", "uuid": a.uuid})
}

type initResponse struct {
	BaseResponse        baseResponse
	Count               int
	ContactList         []wireUser
	SyncKey             syncKey
	User                wireUser
	ChatSet             string
	SKey                string
	ClientVersion       int
	SystemTime          int64
	GrayScale           int
	InviteStartCount    int
	MPSubscribeMsgCount int
	MPSubscribeMsgList  []struct{}
	ClickReportInterval int
}

// handleInit answers webwxinit. A hot login comes straight here with the
// stored BaseRequest, so a dead session fails with its Ret.
func (s *Server) handleInit(w http.ResponseWriter, r *http.Request) {
	var req struct{ BaseRequest baseRequest }
	if !s.decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	if ret := s.checkBase(req.BaseRequest); ret != 0 {
		s.mu.Unlock()
		writeBaseErr(w, ret, "")
		return
	}
	ss := s.sessions[req.BaseRequest.Skey]
	resp := initResponse{
		User:                s.selfEntry(),
		SyncKey:             s.syncKeyAt(s.acked, s.contactVer()),
		SKey:                ss.skey,
		ClientVersion:       637929529,
		SystemTime:          time.Now().Unix(),
		GrayScale:           1,
		InviteStartCount:    40,
		ClickReportInterval: 600000,
		MPSubscribeMsgList:  []struct{}{},
	}
	// The recent-chat list: the File Transfer helper and every group the bot
	// is in, saved or not. Groups come without MemberList, as from
	// webwxgetcontact.
	resp.ContactList = append(resp.ContactList, s.fileHelperEntry())
	chats := []string{fileHelperRef}
	for _, k := range s.groupOrder {
		if g := s.groups[k]; g.botIn() {
			resp.ContactList = append(resp.ContactList, s.groupEntry(g, false))
			chats = append(chats, groupRef(k))
		}
	}
	resp.Count = len(resp.ContactList)
	for _, ref := range chats {
		resp.ChatSet += s.nameOf(ref) + ","
	}
	if s.opts.LoginNotify {
		s.enqueue(&queued{typ: 51, from: personRef(SelfKey), to: personRef(SelfKey), notifyCode: 4, notifyRefs: chats})
	}
	s.mu.Unlock()

	if s.opts.DataTicketOnInit {
		http.SetCookie(w, &http.Cookie{Name: "webwx_data_ticket", Value: ss.dataTicket, Domain: s.domain, Path: "/"})
	}
	writeJSON(w, resp)
}

func (s *Server) handleStatusNotify(w http.ResponseWriter, r *http.Request) {
	var req struct{ BaseRequest baseRequest }
	if !s.decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	ret := s.checkBase(req.BaseRequest)
	id := s.newMsgID()
	s.mu.Unlock()
	writeJSON(w, struct {
		BaseResponse baseResponse
		MsgID        string
	}{baseResponse{Ret: ret}, id})
}

// handleLogout ends the session. It answers JSON because openwechat's Logout
// decodes a BaseResponse; the real answer's format is unverified.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ret := s.checkSkey(r.URL.Query().Get("skey"))
	if ret == 0 {
		ss := s.sessions[r.URL.Query().Get("skey")]
		ss.dead, ss.retcode = true, "1101"
	}
	s.bump()
	s.mu.Unlock()
	writeBaseErr(w, ret, "")
}
