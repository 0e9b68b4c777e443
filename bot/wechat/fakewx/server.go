package fakewx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eatmoreapple/openwechat"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Domain is the web-WeChat domain the login redirect points at; the
	// client then also calls file.<Domain> and webpush.<Domain>. Default
	// "wx.fake.test".
	Domain string
	// World is the scripted account. An empty World means DefaultWorld().
	World World

	// LoginPoll is how long a QR-login poll is held before answering 408.
	// Default 150 ms. openwechat polls again at once, so it must not be 0.
	LoginPoll time.Duration
	// SyncPoll is how long an idle synccheck is held before answering
	// selector 0. Default 200 ms (the real server holds about 25 s).
	SyncPoll time.Duration
	// ClientTimeout is the http.Client timeout Attach sets. Default 5 s.
	ClientTimeout time.Duration

	// AutoScan scans and confirms every QR code as soon as it is issued.
	AutoScan bool
	// AutoConfirmPush confirms every push login as soon as it is requested.
	AutoConfirmPush bool

	// ContactPageSize pages webwxgetcontact by Seq when > 0.
	ContactPageSize int
	// EchoSent queues every message the client sends back to it through
	// webwxsync (FromUserName = the bot), as the real server does.
	EchoSent bool
	// LoginNotify queues a MsgType 51 status-notify message (code 4, the
	// recent-chat list) at every webwxinit, as the real server does.
	LoginNotify bool
	// DataTicketOnInit sets the webwx_data_ticket cookie again on webwxinit.
	// Without it the cookie is only set at login, so after openwechat's
	// HotLogin uploads fail with ErrWebWxDataTicketNotFound (the library
	// stores cookies without their Domain). Whether the real server re-sets
	// it is unknown.
	DataTicketOnInit bool
	// KickWorks makes the delmember call remove the members. By default it
	// is recorded and answered Ret 0 without effect, as reported for the
	// real server.
	KickWorks bool
	// CreateChatRoomFails makes webwxcreatechatroom answer Ret 0 with an
	// empty ChatRoomName and an <e>…创建群聊失败…</e> ErrMsg, as the real
	// server sometimes does. See also SetCreateChatRoomFails.
	CreateChatRoomFails bool
}

// Server is a fake web-WeChat server. All methods are safe for concurrent
// use. Accessors return copies.
type Server struct {
	opts   Options
	domain string
	srv    *httptest.Server
	target *url.URL
	routes map[string]http.HandlerFunc

	mu sync.Mutex
	// changed is closed and replaced on every state change; long polls and
	// WaitFor wait on it.
	changed chan struct{}
	closed  bool
	down    bool

	// world
	people      map[string]*Person
	personOrder []string
	groups      map[string]*group
	groupOrder  []string
	mps         []string

	// session names, valid until the next login
	names map[string]string // ref -> UserName
	refs  map[string]string // UserName -> ref
	seqs  map[string]int64  // ref -> avatar seq

	// login
	sessions   map[string]*session // by skey
	cur        *session
	logins     int
	attempts   map[string]*attempt // by uuid
	tickets    map[string]*attempt
	lastQR     string
	lastPush   string
	scanArmed  bool
	pushArmed  bool
	loginPolls []string

	// sync
	msgs       []*queued // msgs[i].seq == i+1
	acked      int64     // highest message seq a client has sent back
	contacts   []contactChange
	media      map[string][]byte // MsgId or MediaId -> bytes
	tickets37  map[string]string // friend-request ticket -> person key
	nextID     int64
	createFail bool
	mediaFail  MediaFailure

	// failure injection and counting
	failNext map[string][]int
	counts   map[string]int
	total    int

	// records
	calls   []Call
	sent    []Sent
	uploads []Upload
	partial map[string]*partialUpload
	roomOps []ChatRoomOp
}

// Call is one request as the server received it.
type Call struct {
	Endpoint string
	Host     string
	Query    url.Values
	// Body is the raw request body; nil for uploads, whose content is in
	// Uploads.
	Body []byte
	Time time.Time
}

// New starts a fake server. Close it when done.
func New(opts Options) *Server {
	if opts.Domain == "" {
		opts.Domain = "wx.fake.test"
	}
	if opts.LoginPoll <= 0 {
		opts.LoginPoll = 150 * time.Millisecond
	}
	if opts.SyncPoll <= 0 {
		opts.SyncPoll = 200 * time.Millisecond
	}
	if opts.ClientTimeout <= 0 {
		opts.ClientTimeout = 5 * time.Second
	}
	w := opts.World
	if w.Self.NickName == "" && len(w.People) == 0 && len(w.Groups) == 0 {
		w = DefaultWorld()
	}
	s := &Server{
		opts:       opts,
		domain:     opts.Domain,
		changed:    make(chan struct{}),
		sessions:   map[string]*session{},
		attempts:   map[string]*attempt{},
		tickets:    map[string]*attempt{},
		media:      map[string][]byte{},
		tickets37:  map[string]string{},
		failNext:   map[string][]int{},
		counts:     map[string]int{},
		partial:    map[string]*partialUpload{},
		nextID:     4600000000000000000,
		createFail: opts.CreateChatRoomFails,
	}
	s.resetNames()
	s.load(w)
	s.routes = s.buildRoutes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.target, _ = url.Parse(s.srv.URL)
	return s
}

func (s *Server) buildRoutes() map[string]http.HandlerFunc {
	const cgi = "/cgi-bin/mmwebwx-bin/"
	d, file, push := s.domain, "file."+s.domain, "webpush."+s.domain
	return map[string]http.HandlerFunc{
		"login.wx.qq.com/jslogin":         s.handleJSLogin,
		"login.wx.qq.com" + cgi + "login": s.handleLoginPoll,
		d + cgi + "webwxnewloginpage":     s.handleNewLoginPage,
		d + cgi + "webwxpushloginurl":     s.handlePushLoginURL,
		d + cgi + "webwxinit":             s.handleInit,
		d + cgi + "webwxstatusnotify":     s.handleStatusNotify,
		d + cgi + "webwxlogout":           s.handleLogout,
		d + cgi + "webwxgetcontact":       s.handleGetContact,
		d + cgi + "webwxbatchgetcontact":  s.handleBatchGetContact,
		d + cgi + "webwxsync":             s.handleSync,
		push + cgi + "synccheck":          s.handleSyncCheck,
		d + cgi + "webwxsendmsg":          s.handleSendMsg,
		d + cgi + "webwxsendmsgimg":       s.handleSendMsg,
		d + cgi + "webwxsendappmsg":       s.handleSendMsg,
		d + cgi + "webwxsendvideomsg":     s.handleSendMsg,
		d + cgi + "webwxsendemoticon":     s.handleSendMsg,
		file + cgi + "webwxuploadmedia":   s.handleUpload,
		d + cgi + "webwxcheckupload":      s.handleCheckUpload,
		d + cgi + "webwxgetmsgimg":        s.handleGetMsgImg,
		d + cgi + "webwxgetvoice":         s.handleGetVoiceVideo,
		d + cgi + "webwxgetvideo":         s.handleGetVoiceVideo,
		file + cgi + "webwxgetmedia":      s.handleGetMedia,
		d + cgi + "webwxgeticon":          s.handleIcon,
		d + cgi + "webwxgetheadimg":       s.handleIcon,
		d + cgi + "webwxupdatechatroom":   s.handleUpdateChatRoom,
		d + cgi + "webwxcreatechatroom":   s.handleCreateChatRoom,
		d + cgi + "webwxrevokemsg":        s.handlePlainOK,
		d + cgi + "webwxoplog":            s.handlePlainOK,
		d + cgi + "webwxverifyuser":       s.handleVerifyUser,
		// GetLoginQrcode fetches login.weixin.qq.com/qrcode/<uuid>.
		"login.weixin.qq.com/qrcode/": s.handleIcon,
	}
}

// Close stops the server. Stop the bots first (cancel their context): a bot
// whose server has gone retries in a hot loop.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.bump()
	s.mu.Unlock()
	s.srv.Close()
}

// URL is the address of the underlying httptest server.
func (s *Server) URL() string { return s.srv.URL }

// Domain is the web-WeChat domain of this server.
func (s *Server) Domain() string { return s.domain }

// Transport returns the rewrite transport: every request, whatever its
// https://host, goes to this server, with the original host in the Host
// header for routing. The request is cloned, never changed, because the
// cookie jar keys cookies on the original URL.
func (s *Server) Transport() http.RoundTripper {
	return &rewriteTransport{target: s.target, base: s.srv.Client().Transport}
}

type rewriteTransport struct {
	target *url.URL
	base   http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r2 := req.Clone(req.Context())
	r2.URL.Scheme = t.target.Scheme
	r2.URL.Host = t.target.Host
	r2.Host = req.URL.Host
	return t.base.RoundTrip(r2)
}

// Attach points b at this server and makes it fail fast: the rewrite
// transport, Options.ClientTimeout and MaxRetryTimes 1 (openwechat's default
// of 5 retries without delay only multiplies requests). Call it before
// Login, HotLogin or PushLogin. Set the fields again afterwards to test other
// values.
func (s *Server) Attach(b *openwechat.Bot) {
	hc := b.Caller.Client.HTTPClient()
	hc.Transport = s.Transport()
	hc.Timeout = s.opts.ClientTimeout
	b.Caller.Client.MaxRetryTimes = 1
}

// bump wakes everyone waiting for a change. Caller holds s.mu.
func (s *Server) bump() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor waits until cond returns true or timeout passes, re-checking after
// every change in the server (requests, messages, records, world). cond may
// call the Server's accessors. It reports whether cond became true.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond()
		}
	}
}

// longPoll answers a long-polled text endpoint. check runs with s.mu held
// and returns the answer once there is one; it runs again after every
// change in the server until hold passes, and then idle gives the answer.
// A server that goes down meanwhile drops the request; one that closes, or
// a client that goes away, ends the wait early.
func (s *Server) longPoll(w http.ResponseWriter, r *http.Request, hold time.Duration, check func() (string, bool), idle func() string) {
	timer := time.NewTimer(hold)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if s.down {
			s.mu.Unlock()
			hangUp()
		}
		if answer, ok := check(); ok {
			s.mu.Unlock()
			writeText(w, answer)
			return
		}
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if closed {
			break
		}
		select {
		case <-ch:
			continue
		case <-timer.C:
		case <-r.Context().Done():
		}
		break
	}
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		hangUp()
	}
	answer := idle()
	s.mu.Unlock()
	writeText(w, answer)
}

// SetDown makes every request fail (true) or work again (false). A down
// server counts the request and then drops the connection without an
// answer, so the client sees a network error; long polls in progress are
// dropped too.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	s.bump()
}

// FailNext makes the next request to endpoint fail with ret. Calls queue up.
// For JSON endpoints ret is BaseResponse.Ret; for synccheck it is the
// retcode; for the QR poll ("login") the window.code; for
// webwxnewloginpage the XML <ret> (1203 carries the real refusal text); for
// webwxpushloginurl the "ret"; for jslogin the answer has no uuid. The
// request has no other effect.
func (s *Server) FailNext(endpoint string, ret int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[endpoint] = append(s.failNext[endpoint], ret)
}

// Requests returns how many requests reached endpoint (the last element of
// the URL path, e.g. "synccheck", "webwxsync", "login" for the QR poll,
// "jslogin", "webwxuploadmedia"), including ones that failed.
func (s *Server) Requests(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[endpoint]
}

// TotalRequests returns how many requests reached the server.
func (s *Server) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// RequestCounts returns the request count of every endpoint seen.
func (s *Server) RequestCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// Calls returns the requests to endpoint, or all requests when endpoint is "".
func (s *Server) Calls(endpoint string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if endpoint == "" || c.Endpoint == endpoint {
			c.Query = cloneValues(c.Query)
			c.Body = bytes.Clone(c.Body)
			out = append(out, c)
		}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func endpointOf(p string) string {
	if strings.HasPrefix(p, "/qrcode/") {
		return "qrcode"
	}
	return path.Base(p)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	ep := endpointOf(r.URL.Path)
	var body []byte
	if ep != "webwxuploadmedia" && r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}

	s.mu.Lock()
	s.counts[ep]++
	s.total++
	down := s.down
	s.calls = append(s.calls, Call{Endpoint: ep, Host: host, Query: r.URL.Query(), Body: body, Time: time.Now()})
	var fail, failed = 0, false
	if q := s.failNext[ep]; len(q) > 0 && !down {
		fail, failed = q[0], true
		s.failNext[ep] = q[1:]
	}
	s.bump()
	s.mu.Unlock()

	if down {
		hangUp()
	}
	h := s.routes[host+r.URL.Path]
	if h == nil && strings.HasPrefix(r.URL.Path, "/qrcode/") {
		h = s.routes[host+"/qrcode/"]
	}
	if h == nil {
		http.NotFound(w, r)
		return
	}
	if failed {
		s.writeFailure(w, ep, fail)
		return
	}
	h(w, r)
}

// hangUp drops the connection without an answer. http.ErrAbortHandler makes
// net/http close it quietly; the client sees EOF, a network error.
func hangUp() {
	panic(http.ErrAbortHandler)
}

func (s *Server) writeFailure(w http.ResponseWriter, ep string, ret int) {
	switch ep {
	case "synccheck":
		writeText(w, fmt.Sprintf(`window.synccheck={retcode:"%d",selector:"0"}`, ret))
	case "login":
		s.recordPoll(strconv.Itoa(ret))
		writeText(w, fmt.Sprintf("window.code=%d;", ret))
	case "jslogin":
		writeText(w, fmt.Sprintf(`window.QRLogin.code = %d; window.QRLogin.error = "fakewx: injected failure";`, ret))
	case "webwxnewloginpage":
		msg := "fakewx: injected failure"
		if ret == 1203 {
			msg = "为了你的帐号安全，此微信号不能登录网页微信。你可以使用Windows微信或Mac微信在电脑端登录。"
		}
		writeXMLLogin(w, loginXML{Ret: ret, Message: msg})
	case "webwxpushloginurl":
		writeJSON(w, map[string]string{"ret": strconv.Itoa(ret), "msg": "fakewx: injected failure", "uuid": ""})
	case "webwxsync":
		writeJSON(w, syncResponse{BaseResponse: baseResponse{Ret: ret, ErrMsg: "fakewx: injected failure"}, SyncKey: syncKey{List: []keyVal{}}, SyncCheckKey: syncKey{List: []keyVal{}}, AddMsgList: []wireMsg{}})
	default:
		writeJSON(w, struct{ BaseResponse baseResponse }{baseResponse{Ret: ret, ErrMsg: "fakewx: injected failure"}})
	}
}

type baseResponse struct {
	Ret    int
	ErrMsg string
}

var okResponse = baseResponse{}

type baseRequest struct {
	Uin      int64
	Sid      string
	Skey     string
	DeviceID string
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/plain")
	enc := json.NewEncoder(w)
	// The real server sends "<" and "&" unescaped inside JSON strings.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeText(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/javascript")
	_, _ = io.WriteString(w, text)
}

// writeBaseErr answers a JSON endpoint with only a BaseResponse.
func writeBaseErr(w http.ResponseWriter, ret int, msg string) {
	writeJSON(w, struct{ BaseResponse baseResponse }{baseResponse{Ret: ret, ErrMsg: msg}})
}

// handlePlainOK answers endpoints that only need a valid session, such as
// webwxrevokemsg and webwxoplog (remark and pin, which the real server is
// reported to ignore). The request is in Calls.
func (s *Server) handlePlainOK(w http.ResponseWriter, r *http.Request) {
	var req struct{ BaseRequest baseRequest }
	if !s.decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	ret := s.checkBase(req.BaseRequest)
	s.mu.Unlock()
	writeBaseErr(w, ret, "")
}

// decode reads a JSON body; on failure it answers Ret 1 (param error).
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeBaseErr(w, 1, "fakewx: bad request body: "+err.Error())
		return false
	}
	return true
}

func (s *Server) newMsgID() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}
