package fakewx

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"image"
	_ "image/gif" // SendImage reads the size of GIF pictures
	_ "image/jpeg"
	_ "image/png"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// The Send* methods queue a message for the bot; it arrives at the client's
// next synccheck/webwxsync, with the names of the session that fetches it.
// Each returns the MsgId. Group and person arguments are keys; an unknown
// key panics, but a person need not be a member of the group, so tests can
// script messages from people who have just left.

// SendGroupText queues a text from person in group, with the real group
// content format "@member:<br/>text".
func (s *Server) SendGroupText(groupKey, person, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustGroup(groupKey)
	s.mustPerson(person)
	return s.enqueue(&queued{typ: 1, from: groupRef(groupKey), to: personRef(SelfKey), sender: personRef(person), content: escapeText(text)})
}

// SendDM queues a direct message from person to the bot.
func (s *Server) SendDM(person, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPerson(person)
	return s.enqueue(&queued{typ: 1, from: personRef(person), to: personRef(SelfKey), content: escapeText(text)})
}

// SendSelfGroupText queues a text the bot account sent to group from its
// phone: FromUserName is the bot and Content has no sender prefix.
func (s *Server) SendSelfGroupText(groupKey, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustGroup(groupKey)
	return s.enqueue(&queued{typ: 1, from: personRef(SelfKey), to: groupRef(groupKey), content: escapeText(text)})
}

// SendSelfDM queues a text the bot account sent to person from its phone.
func (s *Server) SendSelfDM(person, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPerson(person)
	return s.enqueue(&queued{typ: 1, from: personRef(SelfKey), to: personRef(person), content: escapeText(text)})
}

// SendFileHelper queues a text the bot account sent to its File Transfer
// helper (FromUserName the bot, ToUserName "filehelper"): the usual way
// for an operator to talk to the bot from the bot's own phone.
func (s *Server) SendFileHelper(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enqueue(&queued{typ: 1, from: personRef(SelfKey), to: fileHelperRef, content: escapeText(text)})
}

// SendSystem queues a system message (MsgType 10000) in group with content
// as is; build content with the Sys* templates. It does not change the
// world: pair it with AddMember, RemoveMember or RenameGroup.
func (s *Server) SendSystem(groupKey, content string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustGroup(groupKey)
	return s.enqueue(&queued{typ: 10000, from: groupRef(groupKey), to: personRef(SelfKey), content: content})
}

// SendImage queues a picture (MsgType 3) from person in group, or a DM
// picture when groupKey is "". webwxgetmsgimg serves data for its MsgId, so
// Message.GetPicture and SaveFile return the same bytes.
func (s *Server) SendImage(groupKey, person string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPerson(person)
	q := s.imageMsg(data)
	s.address(q, groupKey, person)
	id := s.enqueue(q)
	s.media[id] = bytes.Clone(data)
	return id
}

// SendFile queues a file attachment (MsgType 49, AppMsgType 6) from person
// in group, or a DM file when groupKey is "". webwxgetmedia serves data for
// its MediaId.
func (s *Server) SendFile(groupKey, person, name string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPerson(person)
	mediaID := "@crypt_" + randHex(8) + "_" + randHex(32)
	q := s.fileMsg(name, mediaID, int64(len(data)))
	s.address(q, groupKey, person)
	s.media[mediaID] = bytes.Clone(data)
	return s.enqueue(q)
}

// address sets a scripted message's sender: the group with a member prefix,
// or the person for a DM.
func (s *Server) address(q *queued, groupKey, person string) {
	q.to = personRef(SelfKey)
	if groupKey == "" {
		q.from = personRef(person)
		return
	}
	s.mustGroup(groupKey)
	q.from = groupRef(groupKey)
	q.sender = personRef(person)
}

// imageMsg builds a picture message. Content is the escaped <msg><img>
// XML the real server sends; the size comes from the image header.
func (s *Server) imageMsg(data []byte) *queued {
	sum := md5.Sum(data)
	q := &queued{typ: 3}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		q.imgW, q.imgH = cfg.Width, cfg.Height
	}
	q.content = escapeText(fmt.Sprintf(`<?xml version="1.0"?>
<msg>
	<img aeskey="%s" encryver="1" length="%d" md5="%s" hevc_mid_size="0" />
</msg>
`, randHex(16), len(data), hex.EncodeToString(sum[:])))
	return q
}

// fileMsg builds an attachment message whose Content is the appmsg XML
// that Message.MediaData parses.
func (s *Server) fileMsg(name, mediaID string, size int64) *queued {
	ext := strings.TrimPrefix(path.Ext(name), ".")
	var b strings.Builder
	b.WriteString(`<msg><appmsg appid="" sdkver="0"><title>`)
	_ = xml.EscapeText(&b, []byte(name))
	fmt.Fprintf(&b, `</title><des></des><action></action><type>6</type><content></content><url></url><lowurl></lowurl><appattach><totallen>%d</totallen><attachid>%s</attachid><fileext>`, size, mediaID)
	_ = xml.EscapeText(&b, []byte(ext))
	b.WriteString(`</fileext></appattach><extinfo></extinfo></appmsg><appinfo><version></version><appname></appname></appinfo></msg>`)
	return &queued{
		typ:       49,
		appType:   6,
		content:   escapeText(b.String()),
		fileName:  name,
		fileSize:  strconv.FormatInt(size, 10),
		mediaID:   mediaID,
		encryName: url.QueryEscape(name),
	}
}

// SendFriendRequest queues a friend request (MsgType 37 from "fmessage")
// from a stranger with nickname nick, who becomes a person with key nick
// if there is none. The client accepts it with Message.Agree, which makes
// the person a friend.
func (s *Server) SendFriendRequest(nick, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.people[nick]
	if !ok {
		p = s.addPerson(Person{Key: nick, NickName: nick})
	}
	ticket := "v4_" + randHex(24) + "@stranger"
	s.tickets37[ticket] = p.Key
	var attrs strings.Builder
	attr := func(name, value string) {
		attrs.WriteString(" " + name + `="`)
		_ = xml.EscapeText(&attrs, []byte(value))
		attrs.WriteString(`"`)
	}
	attr("fromusername", "wxid_"+randHex(7))
	attr("encryptusername", "v3_"+randHex(24)+"@stranger")
	attr("fromnickname", p.NickName)
	attr("content", text)
	attr("fullpy", "")
	attr("shortpy", "")
	attr("imagestatus", "3")
	attr("scene", "30")
	attr("country", "CN")
	attr("province", p.Province)
	attr("city", p.City)
	attr("sign", p.Signature)
	attr("percard", "1")
	attr("sex", strconv.Itoa(p.Sex))
	attr("alias", "")
	attr("weibo", "")
	attr("albumflag", "0")
	attr("albumstyle", "0")
	attr("albumbgimgid", "")
	attr("snsflag", "1")
	attr("snsbgimgid", "")
	attr("snsbgobjectid", "0")
	attr("mhash", "")
	attr("mfullhash", "")
	attr("bigheadimgurl", "")
	attr("smallheadimgurl", "")
	attr("ticket", ticket)
	attr("opcode", "2")
	attr("googlecontact", "")
	attr("qrticket", "")
	attr("chatroomusername", "")
	attr("sourceusername", "")
	attr("sourcenickname", "")
	content := "<msg" + attrs.String() + "><brandlist count=\"0\" ver=\"0\"></brandlist></msg>"
	return s.enqueue(&queued{
		typ:       37,
		from:      fmessageRef,
		to:        personRef(SelfKey),
		content:   escapeText(content),
		recommend: &recommendSpec{person: p.Key, text: text, ticket: ticket},
	})
}
