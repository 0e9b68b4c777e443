package fakewx

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The SyncKey carries two cursors: key 1 (and 3) is the last message seq the
// client has, key 2 the last contact-change version. Values are offset so
// they look like the real server's large numbers.
const keyBase = 700000000

type syncKey struct {
	Count int
	List  []keyVal
}

type keyVal struct{ Key, Val int64 }

// syncKeyAt builds a SyncKey. Count must equal len(List): openwechat sizes a
// slice by Count and indexes it by List, so a mismatch panics in synccheck.
func (s *Server) syncKeyAt(msgSeq, contactVer int64) syncKey {
	list := []keyVal{
		{1, keyBase + msgSeq},
		{2, keyBase + contactVer},
		{3, keyBase + msgSeq},
		{1000, time.Now().Unix()},
	}
	return syncKey{Count: len(list), List: list}
}

// cursors reads the two cursors from a SyncKey, clamped to what exists.
// A key without cursor 1 resumes from what was acknowledged last.
func (s *Server) cursors(k syncKey) (msgSeq, contactVer int64) {
	msgSeq, contactVer = s.acked, s.contactVer()
	for _, kv := range k.List {
		switch kv.Key {
		case 1:
			msgSeq = min(max(kv.Val-keyBase, 0), int64(len(s.msgs)))
		case 2:
			contactVer = min(max(kv.Val-keyBase, 0), s.contactVer())
		}
	}
	return msgSeq, contactVer
}

// parseSyncKey reads synccheck's "1_v|2_v|3_v|1000_v" form.
func parseSyncKey(q string) syncKey {
	var k syncKey
	for _, part := range strings.Split(q, "|") {
		a, b, ok := strings.Cut(part, "_")
		if !ok {
			continue
		}
		key, err1 := strconv.ParseInt(a, 10, 64)
		val, err2 := strconv.ParseInt(b, 10, 64)
		if err1 == nil && err2 == nil {
			k.List = append(k.List, keyVal{key, val})
		}
	}
	k.Count = len(k.List)
	return k
}

// ack notes that a client has everything up to seq. webwxinit hands out the
// acknowledged cursor, so messages nobody confirmed are delivered again
// after a re-login, and confirmed ones are not.
func (s *Server) ack(seq int64) {
	s.acked = max(s.acked, seq)
}

// queued is a message waiting in the server's log. It refers to people and
// groups by ref, so it is rendered with the names of whichever session
// fetches it: a message queued during a logout arrives with the new names.
type queued struct {
	seq        int64
	id         string
	typ        int
	appType    int
	from, to   string // refs
	sender     string // ref of the group member, prefixed to Content
	content    string
	fileName   string
	fileSize   string
	mediaID    string
	encryName  string
	imgW, imgH int
	notifyCode int
	notifyRefs []string
	recommend  *recommendSpec
	created    int64
}

type recommendSpec struct {
	person string
	text   string
	ticket string
}

// wireMsg is one AddMsgList entry, with the real field names and types
// (MsgId and FileSize are strings, NewMsgId a number).
type wireMsg struct {
	MsgId                string
	FromUserName         string
	ToUserName           string
	MsgType              int
	Content              string
	Status               int
	ImgStatus            int
	CreateTime           int64
	VoiceLength          int
	PlayLength           int
	FileName             string
	FileSize             string
	MediaId              string
	Url                  string
	AppMsgType           int
	StatusNotifyCode     int
	StatusNotifyUserName string
	RecommendInfo        wireRecommend
	ForwardFlag          int
	AppInfo              struct {
		AppID string
		Type  int
	}
	HasProductId  int
	Ticket        string
	ImgHeight     int
	ImgWidth      int
	SubMsgType    int
	NewMsgId      int64
	OriContent    string
	EncryFileName string
}

type wireRecommend struct {
	UserName   string
	NickName   string
	QQNum      int64
	Province   string
	City       string
	Content    string
	Signature  string
	Alias      string
	Scene      int
	VerifyFlag int
	AttrStatus int64
	Sex        int
	Ticket     string
	OpCode     int
}

// enqueue appends q to the log and returns its MsgId. Caller holds s.mu.
func (s *Server) enqueue(q *queued) string {
	q.seq = int64(len(s.msgs)) + 1
	if q.id == "" {
		q.id = s.newMsgID()
	}
	if q.created == 0 {
		q.created = time.Now().Unix()
	}
	s.msgs = append(s.msgs, q)
	s.bump()
	return q.id
}

func (s *Server) render(q *queued) wireMsg {
	m := wireMsg{
		MsgId:         q.id,
		FromUserName:  s.nameOf(q.from),
		ToUserName:    s.nameOf(q.to),
		MsgType:       q.typ,
		Content:       q.content,
		Status:        3,
		ImgStatus:     1,
		CreateTime:    q.created,
		FileName:      q.fileName,
		FileSize:      q.fileSize,
		MediaId:       q.mediaID,
		EncryFileName: q.encryName,
		AppMsgType:    q.appType,
		ImgWidth:      q.imgW,
		ImgHeight:     q.imgH,
	}
	m.NewMsgId, _ = strconv.ParseInt(q.id, 10, 64)
	if q.typ == 3 {
		m.ImgStatus = 2
	}
	if q.sender != "" {
		m.Content = s.nameOf(q.sender) + ":<br/>" + q.content
	}
	if q.notifyRefs != nil {
		names := make([]string, len(q.notifyRefs))
		for i, ref := range q.notifyRefs {
			names[i] = s.nameOf(ref)
		}
		m.StatusNotifyCode = q.notifyCode
		m.StatusNotifyUserName = strings.Join(names, ",")
		m.Content = "&lt;msg&gt;<br/>&lt;op id='4'&gt;<br/>&lt;username&gt;" + m.StatusNotifyUserName + "&lt;/username&gt;<br/>&lt;/op&gt;<br/>&lt;/msg&gt;"
	}
	if r := q.recommend; r != nil {
		p := s.people[r.person]
		m.RecommendInfo = wireRecommend{
			UserName:   s.nameOf(personRef(r.person)),
			NickName:   p.NickName,
			Province:   p.Province,
			City:       p.City,
			Content:    r.text,
			Signature:  p.Signature,
			Scene:      30,
			AttrStatus: p.AttrStatus,
			Sex:        p.Sex,
			Ticket:     r.ticket,
			OpCode:     2,
		}
		m.Ticket = r.ticket
	}
	return m
}

// syncRetcode is synccheck's retcode for the session in q. Caller holds s.mu.
func (s *Server) syncRetcode(q url.Values) string {
	ss := s.sessions[q.Get("skey")]
	if ss == nil || ss.sid != q.Get("sid") || strconv.FormatInt(ss.uin, 10) != q.Get("uin") {
		return "1101"
	}
	if ss.dead {
		return ss.retcode
	}
	return "0"
}

// handleSyncCheck is the message long poll. It answers at once when the
// client's SyncKey is behind (selector 2 for messages, 4 or 6 for contact
// changes) or its session is dead, and otherwise holds the request for
// SyncPoll and answers selector 0. The format is matched by a strict regexp
// in openwechat: no spaces.
func (s *Server) handleSyncCheck(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := parseSyncKey(q.Get("synckey"))
	check := func() (string, bool) {
		if rc := s.syncRetcode(q); rc != "0" {
			return fmt.Sprintf(`window.synccheck={retcode:"%s",selector:"0"}`, rc), true
		}
		seq, ver := s.cursors(key)
		s.ack(seq)
		if seq < int64(len(s.msgs)) {
			return `window.synccheck={retcode:"0",selector:"2"}`, true
		}
		if ver < s.contactVer() {
			sel := "4"
			for _, c := range s.contacts[ver:] {
				if c.kind != contactMod {
					sel = "6"
				}
			}
			return `window.synccheck={retcode:"0",selector:"` + sel + `"}`, true
		}
		return "", false
	}
	idle := func() string { return `window.synccheck={retcode:"0",selector:"0"}` }
	s.longPoll(w, r, s.opts.SyncPoll, check, idle)
}

type syncResponse struct {
	BaseResponse           baseResponse
	AddMsgCount            int
	AddMsgList             []wireMsg
	ModContactCount        int
	ModContactList         []wireUser
	DelContactCount        int
	DelContactList         []wireUser
	ModChatRoomMemberCount int
	ModChatRoomMemberList  []wireUser
	ContinueFlag           int
	// SyncKey must always be present: openwechat dereferences it.
	SyncKey      syncKey
	SyncCheckKey syncKey
	SKey         string
}

// handleSync answers webwxsync with every message and contact change after
// the client's SyncKey, and the new SyncKey.
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BaseRequest baseRequest
		SyncKey     syncKey
	}
	if !s.decode(w, r, &req) {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	ret := s.checkBase(req.BaseRequest)
	if ret == 0 && (q.Get("skey") != req.BaseRequest.Skey || q.Get("sid") != req.BaseRequest.Sid) {
		ret = 1101
	}
	if ret != 0 {
		s.mu.Unlock()
		// A zero Count keeps openwechat from replacing its SyncKey.
		writeJSON(w, syncResponse{BaseResponse: baseResponse{Ret: ret}, AddMsgList: []wireMsg{},
			SyncKey: syncKey{List: []keyVal{}}, SyncCheckKey: syncKey{List: []keyVal{}}})
		return
	}
	seq, ver := s.cursors(req.SyncKey)
	s.ack(seq)
	resp := syncResponse{
		AddMsgList:            []wireMsg{},
		ModContactList:        []wireUser{},
		DelContactList:        []wireUser{},
		ModChatRoomMemberList: []wireUser{},
		SKey:                  req.BaseRequest.Skey,
	}
	for _, m := range s.msgs[seq:] {
		resp.AddMsgList = append(resp.AddMsgList, s.render(m))
	}
	seen := map[string]bool{}
	for i := len(s.contacts) - 1; i >= int(ver); i-- {
		c := s.contacts[i]
		if seen[c.ref] {
			continue
		}
		seen[c.ref] = true
		if u, gone := s.contactEntry(c.ref); gone {
			resp.DelContactList = append(resp.DelContactList, u)
		} else {
			resp.ModContactList = append(resp.ModContactList, u)
		}
	}
	resp.AddMsgCount = len(resp.AddMsgList)
	resp.ModContactCount = len(resp.ModContactList)
	resp.DelContactCount = len(resp.DelContactList)
	resp.SyncKey = s.syncKeyAt(int64(len(s.msgs)), s.contactVer())
	resp.SyncCheckKey = resp.SyncKey
	s.bump()
	s.mu.Unlock()
	writeJSON(w, resp)
}

// Pending returns how many queued messages no client has acknowledged yet
// (by sending a SyncKey past them).
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs) - int(s.acked)
}

// escapeText turns plain text into web-WeChat message content: HTML
// entities for &, < and >, and <br/> for newlines. openwechat undoes both.
func escapeText(t string) string {
	t = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(t)
	return strings.ReplaceAll(t, "\n", "<br/>")
}
