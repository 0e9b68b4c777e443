package fakewx

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
)

// wireUser is a contact as webwxinit, webwxgetcontact, webwxbatchgetcontact
// and webwxsync send it. Fields openwechat ignores (ChatRoomOwner,
// MemberStatus) are sent because the real server sends them and a client
// may read the raw body.
type wireUser struct {
	Uin              int64
	UserName         string
	NickName         string
	HeadImgUrl       string
	ContactFlag      int
	MemberCount      int
	MemberList       []wireUser
	RemarkName       string
	HideInputBarFlag int
	Sex              int
	Signature        string
	VerifyFlag       int
	OwnerUin         int
	PYInitial        string
	PYQuanPin        string
	RemarkPYInitial  string
	RemarkPYQuanPin  string
	StarFriend       int
	AppAccountFlag   int
	Statues          int
	AttrStatus       int64
	Province         string
	City             string
	Alias            string
	SnsFlag          int
	UniFriend        int
	DisplayName      string
	ChatRoomId       int
	KeyWord          string
	EncryChatRoomId  string
	IsOwner          int
	ChatRoomOwner    string `json:",omitempty"`
	MemberStatus     int
}

func (s *Server) headImg(ref, endpoint string) string {
	return fmt.Sprintf("/cgi-bin/mmwebwx-bin/%s?seq=%d&username=%s&skey=", endpoint, s.avatarSeq(ref), s.nameOf(ref))
}

func (s *Server) selfEntry() wireUser {
	p := s.people[SelfKey]
	ref := personRef(SelfKey)
	return wireUser{
		Uin:        p.Uin,
		UserName:   s.nameOf(ref),
		NickName:   p.NickName,
		HeadImgUrl: s.headImg(ref, "webwxgeticon"),
		Sex:        p.Sex,
		Signature:  p.Signature,
		Province:   p.Province,
		City:       p.City,
		SnsFlag:    17,
		MemberList: []wireUser{},
	}
}

func (s *Server) fileHelperEntry() wireUser {
	return wireUser{UserName: FileHelperKey, NickName: "文件传输助手", PYInitial: "WJCSZS", PYQuanPin: "wenjianchuanshuzhushou",
		HeadImgUrl: s.headImg(fileHelperRef, "webwxgeticon"), MemberList: []wireUser{}}
}

// personEntry is a friend or, for non-friends, the thin entry the server
// gives for a stranger. Uin is 0 for everyone but the bot.
func (s *Server) personEntry(key string) wireUser {
	if key == SelfKey {
		return s.selfEntry()
	}
	p := s.people[key]
	ref := personRef(key)
	u := wireUser{
		UserName:   s.nameOf(ref),
		NickName:   p.NickName,
		HeadImgUrl: s.headImg(ref, "webwxgeticon"),
		Sex:        p.Sex,
		Signature:  p.Signature,
		AttrStatus: p.AttrStatus,
		Province:   p.Province,
		City:       p.City,
		MemberList: []wireUser{},
	}
	if p.Friend {
		u.ContactFlag = 3
		u.RemarkName = p.RemarkName
		u.SnsFlag = 1
	}
	return u
}

func (s *Server) mpEntry(nick string) wireUser {
	ref := mpRef(nick)
	return wireUser{UserName: s.nameOf(ref), NickName: nick, HeadImgUrl: s.headImg(ref, "webwxgeticon"),
		ContactFlag: 3, VerifyFlag: 24, MemberList: []wireUser{}}
}

// groupEntry is a group. withMembers adds the MemberList, as
// webwxbatchgetcontact does; webwxgetcontact and webwxinit leave it empty.
// A group the bot is no longer in comes back with no members.
func (s *Server) groupEntry(g *group, withMembers bool) wireUser {
	ref := groupRef(g.key)
	u := wireUser{
		UserName:        s.nameOf(ref),
		NickName:        g.topic,
		HeadImgUrl:      s.headImg(ref, "webwxgetheadimg"),
		EncryChatRoomId: encryID(s.nameOf(ref)),
		MemberList:      []wireUser{},
	}
	if g.saved {
		u.ContactFlag = 3
	}
	if !g.botIn() {
		return u
	}
	u.MemberCount = len(g.members)
	if g.owner == SelfKey {
		u.IsOwner = 1
	}
	if g.owner != "" {
		u.ChatRoomOwner = s.nameOf(personRef(g.owner))
	}
	if withMembers {
		for _, m := range g.members {
			p := s.people[m.person]
			u.MemberList = append(u.MemberList, wireUser{
				UserName:    s.nameOf(personRef(m.person)),
				NickName:    p.NickName,
				DisplayName: m.card,
				AttrStatus:  p.AttrStatus,
				MemberList:  []wireUser{},
			})
		}
	}
	return u
}

// contactKind says what a contact change did, which decides the synccheck
// selector: 4 for a modification, 6 for an addition or removal.
type contactKind int

const (
	contactMod contactKind = iota
	contactAdd
	contactDel
)

type contactChange struct {
	ref  string
	kind contactKind
}

// encryID derives a group's EncryChatRoomId from its session name, so it is
// stable within a session and changes with it, like the real one.
func encryID(userName string) string {
	sum := md5.Sum([]byte(userName))
	return "@" + hex.EncodeToString(sum[:])
}

func (s *Server) contactVer() int64 { return int64(len(s.contacts)) }

// touch records a contact change for webwxsync's ModContactList and
// DelContactList. openwechat ignores both lists, but the synccheck selector
// it reports to SyncCheckCallback is a hint a client may use.
func (s *Server) touch(ref string, kind contactKind) {
	s.contacts = append(s.contacts, contactChange{ref: ref, kind: kind})
	s.bump()
}

// contactEntry renders a changed contact for webwxsync. gone is true for
// groups the bot can no longer see, which go to DelContactList.
func (s *Server) contactEntry(ref string) (u wireUser, gone bool) {
	kind, key := splitRef(ref)
	if kind == "group" {
		g := s.groups[key]
		return s.groupEntry(g, true), !g.botIn()
	}
	return s.personEntry(key), false
}

// handleGetContact lists friends, saved groups and official accounts. With
// ContactPageSize it pages by Seq as the real server does for large lists.
func (s *Server) handleGetContact(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	if ret := s.checkSkey(q.Get("skey")); ret != 0 {
		s.mu.Unlock()
		writeBaseErr(w, ret, "")
		return
	}
	var all []wireUser
	for _, k := range s.personOrder {
		if s.people[k].Friend {
			all = append(all, s.personEntry(k))
		}
	}
	for _, k := range s.groupOrder {
		if g := s.groups[k]; g.saved && g.botIn() {
			all = append(all, s.groupEntry(g, false))
		}
	}
	for _, nick := range s.mps {
		all = append(all, s.mpEntry(nick))
	}
	s.mu.Unlock()

	start, _ := strconv.Atoi(q.Get("seq"))
	start = min(max(start, 0), len(all))
	end, next := len(all), 0
	if n := s.opts.ContactPageSize; n > 0 && start+n < len(all) {
		end, next = start+n, start+n
	}
	page := all[start:end]
	if page == nil {
		page = []wireUser{}
	}
	writeJSON(w, struct {
		BaseResponse baseResponse
		MemberCount  int
		MemberList   []wireUser
		Seq          int
	}{okResponse, len(page), page, next})
}

// handleBatchGetContact answers in the order and number requested, because
// openwechat writes the results back by index. Names the session does not
// know (from an earlier login, or made up) come back with only UserName.
func (s *Server) handleBatchGetContact(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BaseRequest baseRequest
		List        []struct{ UserName, EncryChatRoomId string }
	}
	if !s.decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	if ret := s.checkBase(req.BaseRequest); ret != 0 {
		s.mu.Unlock()
		writeBaseErr(w, ret, "")
		return
	}
	list := make([]wireUser, 0, len(req.List))
	for _, item := range req.List {
		ref, ok := s.refOf(item.UserName)
		if !ok {
			list = append(list, wireUser{UserName: item.UserName, MemberList: []wireUser{}})
			continue
		}
		switch kind, key := splitRef(ref); kind {
		case "group":
			list = append(list, s.groupEntry(s.groups[key], true))
		case "person":
			list = append(list, s.personEntry(key))
		case "mp":
			list = append(list, s.mpEntry(key))
		default:
			list = append(list, s.fileHelperEntry())
		}
	}
	s.mu.Unlock()
	writeJSON(w, struct {
		BaseResponse baseResponse
		Count        int
		ContactList  []wireUser
	}{okResponse, len(list), list})
}

// iconPNG is the picture served for every avatar and QR code.
var iconPNG = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range 16 {
		img.Set(i%4, i/4, color.RGBA{R: 7, G: 193, B: 96, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

func (s *Server) handleIcon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(iconPNG)))
	_, _ = w.Write(iconPNG)
}
