package fakewx

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Sent is a message the client sent (webwxsendmsg, webwxsendmsgimg,
// webwxsendappmsg, webwxsendvideomsg, webwxsendemoticon) and the server
// accepted.
type Sent struct {
	// Kind is "text", "image", "file", "video" or "emoticon".
	Kind       string
	ToUserName string
	// Group is the group key when sent to a group; Person the person key
	// when sent to a person (FileHelperKey for the File Transfer helper).
	Group  string
	Person string
	// Text is the text of a text message and the appmsg XML of a file.
	Text     string
	MediaID  string
	FileName string // a file's <title>; an image's uploaded base name
	// Data is the uploaded content the MediaId refers to.
	Data        []byte
	MsgID       string
	ClientMsgID string
	Time        time.Time
}

// Upload is a file the client uploaded with webwxuploadmedia, after all its
// chunks arrived.
type Upload struct {
	MediaID string
	// Name is the form's name field. openwechat sends the full local path
	// (a temp file's path for readers that are not *os.File), with an
	// extension made up from the content type if the file had none.
	Name        string
	MediaType   string // the form's mediatype: "pic", "video" or "doc"
	ContentType string
	Size        int64 // the form's size field
	Data        []byte
	MD5         string // of Data, computed by the server
	ClaimedMD5  string // FileMd5 the client sent
	ToUserName  string
	Chunks      int
}

// Sent returns every message the client sent, oldest first.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.sent)
	for i := range out {
		out[i].Data = bytes.Clone(out[i].Data)
	}
	return out
}

// Uploads returns every completed upload, oldest first.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.uploads)
	for i := range out {
		out[i].Data = bytes.Clone(out[i].Data)
	}
	return out
}

type sendMsg struct {
	Type         int
	Content      string
	FromUserName string
	ToUserName   string
	LocalID      string
	ClientMsgId  string
	MediaId      string
	EmojiFlag    int
	EMoticonMd5  string
	Signature    string
}

var sendKinds = map[string]string{
	"webwxsendmsg":      "text",
	"webwxsendmsgimg":   "image",
	"webwxsendappmsg":   "file",
	"webwxsendvideomsg": "video",
	"webwxsendemoticon": "emoticon",
}

// fileAppMsg is the part of openwechat's <appmsg> for files that matters.
type fileAppMsg struct {
	Title     string `xml:"title"`
	AppAttach struct {
		TotalLen int64  `xml:"totallen"`
		AttachId string `xml:"attachid"`
	} `xml:"appattach"`
}

// handleSendMsg accepts every send endpoint. It rejects (Ret 1) a
// FromUserName that is not the bot's current name, a ToUserName the session
// does not know (for example one from before a re-login) and a MediaId that
// was never uploaded.
func (s *Server) handleSendMsg(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BaseRequest baseRequest
		Msg         sendMsg
	}
	if !s.decode(w, r, &req) {
		return
	}
	kind := sendKinds[endpointOf(r.URL.Path)]
	m := req.Msg

	s.mu.Lock()
	defer s.mu.Unlock()
	if ret := s.checkBase(req.BaseRequest); ret != 0 {
		writeBaseErr(w, ret, "")
		return
	}
	if m.FromUserName != s.nameOf(personRef(SelfKey)) {
		writeBaseErr(w, 1, "fakewx: FromUserName is not the bot's name in this session")
		return
	}
	toRef, ok := s.refOf(m.ToUserName)
	if !ok {
		writeBaseErr(w, 1, "fakewx: unknown ToUserName "+m.ToUserName)
		return
	}
	rec := Sent{Kind: kind, ToUserName: m.ToUserName, MediaID: m.MediaId, MsgID: s.newMsgID(), ClientMsgID: m.ClientMsgId, Time: time.Now()}
	switch k, key := splitRef(toRef); k {
	case "group":
		rec.Group = key
	case "person", "filehelper":
		rec.Person = key
	}
	switch kind {
	case "text":
		rec.Text = m.Content
	case "file":
		var app fileAppMsg
		if err := xml.Unmarshal([]byte(m.Content), &app); err != nil {
			writeBaseErr(w, 1, "fakewx: bad appmsg: "+err.Error())
			return
		}
		rec.Text, rec.FileName, rec.MediaID = m.Content, app.Title, app.AppAttach.AttachId
	}
	if kind != "text" && !(kind == "emoticon" && rec.MediaID == "") {
		data, ok := s.media[rec.MediaID]
		if !ok {
			writeBaseErr(w, 1, "fakewx: unknown MediaId "+rec.MediaID)
			return
		}
		rec.Data = bytes.Clone(data)
		if rec.FileName == "" {
			for _, u := range s.uploads {
				if u.MediaID == rec.MediaID {
					rec.FileName = filepath.Base(u.Name)
				}
			}
		}
	}
	s.sent = append(s.sent, rec)
	if s.opts.EchoSent {
		s.echo(rec, toRef)
	}
	s.bump()
	writeJSON(w, struct {
		BaseResponse baseResponse
		MsgID        string
		LocalID      string
	}{okResponse, rec.MsgID, m.LocalID})
}

// echo queues the client's own message back to it, from the bot.
func (s *Server) echo(rec Sent, toRef string) {
	var q *queued
	switch rec.Kind {
	case "text":
		q = &queued{typ: 1, content: escapeText(rec.Text)}
	case "image":
		q = s.imageMsg(rec.Data)
	case "file":
		q = s.fileMsg(rec.FileName, rec.MediaID, int64(len(rec.Data)))
	case "video":
		q = &queued{typ: 43}
	default:
		q = &queued{typ: 47}
	}
	q.id, q.from, q.to = rec.MsgID, personRef(SelfKey), toRef
	s.enqueue(q)
	if rec.Kind == "image" {
		s.media[rec.MsgID] = bytes.Clone(rec.Data)
	}
}

type partialUpload struct {
	data   []byte
	chunks int
}

type uploadRequest struct {
	BaseRequest   baseRequest
	ClientMediaId int64
	TotalLen      int64
	DataLen       int64
	FileMd5       string
	ToUserName    string
}

type uploadResponse struct {
	BaseResponse      baseResponse
	MediaId           string
	StartPos          int64
	CDNThumbImgHeight int
	CDNThumbImgWidth  int
}

// handleUpload takes webwxuploadmedia's multipart form, one 512 KB chunk
// per request for large files. It checks the webwx_data_ticket field
// against the session, because openwechat copies it from the cookie jar.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		writeBaseErr(w, 1, "fakewx: bad multipart form: "+err.Error())
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	var req uploadRequest
	if err := json.Unmarshal([]byte(r.FormValue("uploadmediarequest")), &req); err != nil {
		writeBaseErr(w, 1, "fakewx: bad uploadmediarequest: "+err.Error())
		return
	}
	files := r.MultipartForm.File["filename"]
	if len(files) != 1 {
		writeBaseErr(w, 1, "fakewx: want one file part named filename")
		return
	}
	f, err := files[0].Open()
	if err != nil {
		writeBaseErr(w, 1, err.Error())
		return
	}
	chunk, err := io.ReadAll(f)
	_ = f.Close()
	if err != nil {
		writeBaseErr(w, 1, err.Error())
		return
	}
	chunks, index := 1, 0
	if v := r.FormValue("chunks"); v != "" {
		chunks, _ = strconv.Atoi(v)
		index, _ = strconv.Atoi(r.FormValue("chunk"))
	}
	name := r.FormValue("name")

	s.mu.Lock()
	defer s.mu.Unlock()
	if ret := s.checkBase(req.BaseRequest); ret != 0 {
		writeBaseErr(w, ret, "")
		return
	}
	if ss := s.sessions[req.BaseRequest.Skey]; r.FormValue("webwx_data_ticket") != ss.dataTicket {
		writeBaseErr(w, 1, "fakewx: webwx_data_ticket does not match the session")
		return
	}
	key := fmt.Sprintf("%d|%s", req.ClientMediaId, name)
	p := s.partial[key]
	if p == nil {
		p = &partialUpload{}
		s.partial[key] = p
	}
	p.data = append(p.data, chunk...)
	p.chunks++
	if index+1 < chunks {
		writeJSON(w, uploadResponse{StartPos: int64(len(p.data))})
		return
	}
	delete(s.partial, key)
	sum := md5.Sum(p.data)
	size, _ := strconv.ParseInt(r.FormValue("size"), 10, 64)
	u := Upload{
		MediaID:     "@crypt_" + randHex(8) + "_" + randHex(32),
		Name:        name,
		MediaType:   r.FormValue("mediatype"),
		ContentType: r.FormValue("type"),
		Size:        size,
		Data:        p.data,
		MD5:         hex.EncodeToString(sum[:]),
		ClaimedMD5:  req.FileMd5,
		ToUserName:  req.ToUserName,
		Chunks:      p.chunks,
	}
	s.uploads = append(s.uploads, u)
	s.media[u.MediaID] = u.Data
	s.bump()
	writeJSON(w, uploadResponse{MediaId: u.MediaID, StartPos: int64(len(u.Data))})
}

// handleCheckUpload answers the pre-check openwechat makes for files over
// 25 MB: not uploaded before, so the client uploads with the AESKey and
// Signature given here.
func (s *Server) handleCheckUpload(w http.ResponseWriter, r *http.Request) {
	var req struct{ BaseRequest baseRequest }
	if !s.decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	ret := s.checkBase(req.BaseRequest)
	s.mu.Unlock()
	writeJSON(w, struct {
		BaseResponse  baseResponse
		MediaId       string
		AESKey        string
		Signature     string
		EncryFileName string
	}{baseResponse{Ret: ret}, "", randHex(16), randHex(32), ""})
}

// handleGetMsgImg serves a picture by MsgId. openwechat does not check the
// status code, so an unknown id gets a 404 with an empty body.
func (s *Server) handleGetMsgImg(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	ret := s.checkSkey(q.Get("skey"))
	data, ok := s.media[q.Get("MsgID")]
	s.mu.Unlock()
	if ret != 0 {
		writeBaseErr(w, ret, "")
		return
	}
	s.serveMedia(w, data, ok)
}

// handleGetMedia serves an attachment by MediaId. It needs a live
// session's webwx_data_ticket, which openwechat takes from the cookie jar.
func (s *Server) handleGetMedia(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	ret := 1101
	for _, ss := range s.sessions {
		if ss.dataTicket == q.Get("webwx_data_ticket") && !ss.dead {
			ret = 0
		}
	}
	data, ok := s.media[q.Get("mediaid")]
	s.mu.Unlock()
	if ret != 0 {
		writeBaseErr(w, ret, "")
		return
	}
	s.serveMedia(w, data, ok)
}

// handleVerifyUser accepts friend requests (Message.Agree): the requester
// becomes a friend, so a later webwxgetcontact lists them.
func (s *Server) handleVerifyUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BaseRequest    baseRequest
		Opcode         int
		VerifyUserList []struct{ Value, VerifyUserTicket string }
	}
	if !s.decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ret := s.checkBase(req.BaseRequest); ret != 0 {
		writeBaseErr(w, ret, "")
		return
	}
	for _, v := range req.VerifyUserList {
		key, ok := s.tickets37[v.VerifyUserTicket]
		if ref, known := s.refOf(v.Value); !ok || !known || ref != personRef(key) {
			writeBaseErr(w, 1, "fakewx: unknown friend-request ticket or user")
			return
		}
		if p := s.people[key]; !p.Friend {
			p.Friend = true
			s.touch(personRef(key), contactAdd)
		}
	}
	writeBaseErr(w, 0, "")
}
