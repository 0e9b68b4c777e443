package archive

import (
	"bufio"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export/archive/internal/encode"
)

// DefaultHTMLPageSize is how many records one HTML page shows, as in
// Telegram's export (kMessagesInFile = 1000).
const DefaultHTMLPageSize = 1000

// htmlSink renders the chat as self-contained pages messages.html,
// messages2.html, ...: inline CSS, no scripts, no external resources, every
// piece of text escaped, attachments linked relative to the page.
type htmlSink struct {
	set      *fileSet
	pageSize int
	title    string // group name, raw
	subtitle string // raw

	page    int // current page number, 1-based; 0 before the first
	onPage  int
	f       *hashFile
	bw      *bufio.Writer
	lastDay string
	buf     []byte
}

func newHTMLSink(set *fileSet, pageSize int, title, subtitle string) *htmlSink {
	if pageSize <= 0 {
		pageSize = DefaultHTMLPageSize
	}
	return &htmlSink{set: set, pageSize: pageSize, title: title, subtitle: subtitle}
}

// htmlPageName is the file of page n.
func htmlPageName(n int) string {
	if n == 1 {
		return MessagesHTML
	}
	return "messages" + strconv.Itoa(n) + ".html"
}

func (h *htmlSink) write(m *encode.Message) error {
	if h.f == nil || h.onPage == h.pageSize {
		if h.f != nil {
			if err := h.finishPage(true); err != nil {
				return err
			}
		}
		if err := h.openPage(); err != nil {
			return err
		}
	}
	h.onPage++
	b := h.buf[:0]
	if day := m.Local.Format(time.DateOnly); day != h.lastDay {
		h.lastDay = day
		b = append(b, `<div class="day">`...)
		b = append(b, day...)
		b = append(b, ' ')
		b = append(b, weekdays[m.Local.Weekday()]...)
		b = append(b, "</div>\n"...)
	}
	b = appendHTMLRecord(b, m)
	h.buf = b
	_, err := h.bw.Write(b)
	return err
}

var weekdays = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

func (h *htmlSink) openPage() error {
	h.page++
	f, err := h.set.create(htmlPageName(h.page))
	if err != nil {
		return err
	}
	h.f, h.onPage, h.lastDay = f, 0, ""
	if h.bw == nil {
		h.bw = bufio.NewWriterSize(f, 256<<10)
	} else {
		h.bw.Reset(f)
	}
	b := h.buf[:0]
	b = append(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"+
		"<meta name=\"referrer\" content=\"no-referrer\">\n<title>"...)
	b = appendHTMLEscaped(b, h.title)
	b = append(b, " · 聊天记录 · 第 "...)
	b = strconv.AppendInt(b, int64(h.page), 10)
	b = append(b, " 页</title>\n<style>"...)
	b = append(b, htmlCSS...)
	b = append(b, "</style>\n</head>\n<body>\n<header>\n<h1>"...)
	b = appendHTMLEscaped(b, h.title)
	b = append(b, "</h1>\n<p class=\"sub\">"...)
	b = appendHTMLEscaped(b, h.subtitle)
	b = append(b, " · 第 "...)
	b = strconv.AppendInt(b, int64(h.page), 10)
	b = append(b, " 页</p>\n"...)
	b = h.appendNav(b, false)
	b = append(b, "</header>\n<main>\n"...)
	h.buf = b
	_, err = h.bw.Write(b)
	return err
}

// appendNav links the neighbouring pages. The header cannot know whether a
// next page will exist (pages are written as records stream by), so only
// the footer links forward.
func (h *htmlSink) appendNav(b []byte, next bool) []byte {
	b = append(b, `<nav>`...)
	if h.page > 1 {
		b = append(b, `<a href="`...)
		b = append(b, htmlPageName(h.page-1)...)
		b = append(b, `">← 上一页</a>`...)
	}
	if next {
		b = append(b, `<a href="`...)
		b = append(b, htmlPageName(h.page+1)...)
		b = append(b, `">下一页 →</a>`...)
	}
	return append(b, "</nav>\n"...)
}

func (h *htmlSink) finishPage(next bool) error {
	b := h.buf[:0]
	if h.onPage == 0 {
		b = append(b, "<p class=\"empty\">（没有记录）</p>\n"...)
	}
	b = append(b, "</main>\n<footer>\n"...)
	b = h.appendNav(b, next)
	b = append(b, "</footer>\n</body>\n</html>\n"...)
	h.buf = b
	if _, err := h.bw.Write(b); err != nil {
		return err
	}
	if err := h.bw.Flush(); err != nil {
		return err
	}
	f := h.f
	h.f = nil
	return f.Close()
}

// close ends the last page; an archive without records still gets a page
// saying so.
func (h *htmlSink) close() error {
	if h.f == nil {
		if err := h.openPage(); err != nil {
			return err
		}
	}
	return h.finishPage(false)
}

func (h *htmlSink) abort() {
	if h.f != nil {
		h.f.abort()
		h.f = nil
	}
}

// appendHTMLRecord renders one record: a bubble for a message, a centred
// line for a join, a leave or another service record.
func appendHTMLRecord(b []byte, m *encode.Message) []byte {
	r := &m.Record
	if encode.IsService(r.Kind) {
		b = append(b, `<div class="sys" id="m`...)
		b = strconv.AppendUint(b, r.Seq, 10)
		b = append(b, `"><time datetime="`...)
		b = m.Local.AppendFormat(b, time.RFC3339)
		b = append(b, `">`...)
		b = m.Local.AppendFormat(b, "15:04:05")
		b = append(b, `</time> `...)
		b = appendHTMLEscaped(b, serviceText(r))
		return append(b, "</div>\n"...)
	}
	b = append(b, `<div class="msg`...)
	if r.FromBot {
		b = append(b, ` bot`...)
	}
	b = append(b, `" id="m`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `"><div class="meta"><span class="from">`...)
	name := r.SenderName
	switch {
	case name == "" && r.FromBot:
		name = "机器人" // recorded before the bot's name was kept
	case name == "":
		name = string(r.Sender)
	}
	b = appendHTMLEscaped(b, name)
	b = append(b, `</span> <time datetime="`...)
	b = m.Local.AppendFormat(b, time.RFC3339)
	b = append(b, `">`...)
	b = m.Local.AppendFormat(b, "15:04:05")
	b = append(b, `</time></div><div class="bubble">`...)
	b = appendHTMLContent(b, m)
	return append(b, "</div></div>\n"...)
}

func appendHTMLContent(b []byte, m *encode.Message) []byte {
	r := &m.Record
	if r.Purged {
		return append(b, `<span class="note">（内容已按保留期限清除）</span>`...)
	}
	label := r.FileName
	if label == "" {
		label = r.Text
	}
	switch {
	case m.Media != "" && r.MsgType == bot.MsgImage:
		href := mediaHref(m.Media)
		b = append(b, `<a href="`...)
		b = appendHTMLEscaped(b, href)
		b = append(b, `"><img src="`...)
		b = appendHTMLEscaped(b, href)
		b = append(b, `" alt="`...)
		b = appendHTMLEscaped(b, label)
		return append(b, `" loading="lazy"></a>`...)
	case m.Media != "":
		b = append(b, `<a class="file" href="`...)
		b = appendHTMLEscaped(b, mediaHref(m.Media))
		b = append(b, `">📎 `...)
		b = appendHTMLEscaped(b, label)
		b = append(b, `</a>`...)
		return appendSize(b, r.Size)
	case m.MediaMissing:
		b = append(b, `<span class="note">`...)
		b = appendHTMLEscaped(b, label)
		b = append(b, `（文件缺失，未能存入档案）</span>`...)
		return b
	case r.MsgType == bot.MsgImage || r.MsgType == bot.MsgFile:
		b = appendHTMLEscaped(b, label)
		b = appendSize(b, r.Size)
		return append(b, ` <span class="note">（机器人未保存此文件）</span>`...)
	}
	return appendHTMLEscaped(b, r.Text)
}

func appendSize(b []byte, n int64) []byte {
	if n <= 0 {
		return b
	}
	b = append(b, ` <span class="size">`...)
	switch {
	case n >= 1<<20:
		b = strconv.AppendFloat(b, float64(n)/(1<<20), 'f', 1, 64)
		b = append(b, " MB"...)
	case n >= 1<<10:
		b = strconv.AppendFloat(b, float64(n)/(1<<10), 'f', 1, 64)
		b = append(b, " KB"...)
	default:
		b = strconv.AppendInt(b, n, 10)
		b = append(b, " B"...)
	}
	return append(b, `</span>`...)
}

// mediaHref is the relative URL of an archive path, each segment escaped.
func mediaHref(rel string) string {
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// serviceText is the line shown for a service record: the recorded text
// (the platform's own wording), else a description of the event.
func serviceText(r *bot.Record) string {
	if r.Text != "" {
		return r.Text
	}
	name := r.SenderName
	if name == "" {
		name = string(r.Sender)
	}
	switch r.Kind {
	case bot.EventMemberJoined:
		return name + " 加入了群聊"
	case bot.EventMemberLeft:
		return name + " 离开了群聊"
	case bot.EventGroupRenamed:
		return "群名已修改"
	case bot.EventBotAdded:
		return "机器人加入了群聊"
	case bot.EventBotRemoved:
		return "机器人被移出群聊"
	case bot.EventGroupGone:
		return "群聊已解散"
	}
	return r.Kind.String()
}

// appendHTMLEscaped escapes text for element content and quoted attribute
// values. Invalid UTF-8 becomes U+FFFD, so the page stays valid UTF-8.
func appendHTMLEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case 0:
			esc = "\uFFFD"
		default:
			if c < utf8.RuneSelf {
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				esc = "\uFFFD"
				break
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		i++
		start = i
	}
	return append(b, s[start:]...)
}

// htmlCSS styles the pages like a chat: names and times above bubbles, the
// bot's own messages on the right, service lines centred.
const htmlCSS = `
body{margin:0;background:#ededed;font:15px/1.5 -apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#111}
header,footer{background:#f7f7f7;border-bottom:1px solid #ddd;padding:12px 16px}
footer{border-top:1px solid #ddd;border-bottom:0}
h1{font-size:18px;margin:0}
.sub{color:#888;font-size:12px;margin:4px 0}
nav a{margin-right:16px;color:#576b95;text-decoration:none}
main{max-width:820px;margin:0 auto;padding:8px 12px}
.day{text-align:center;color:#999;font-size:12px;margin:16px 0 8px}
.sys{text-align:center;color:#888;font-size:12px;margin:6px 0}
.sys time{margin-right:4px}
.msg{margin:8px 0;display:flex;flex-direction:column;align-items:flex-start}
.msg.bot{align-items:flex-end}
.meta{font-size:12px;color:#888;margin:0 4px 2px}
.meta time{margin-left:6px}
.bubble{background:#fff;border-radius:6px;padding:8px 10px;max-width:80%;white-space:pre-wrap;overflow-wrap:anywhere}
.msg.bot .bubble{background:#95ec69}
.bubble img{max-width:100%;max-height:360px;display:block}
.note,.size{color:#999;font-size:12px}
.empty{text-align:center;color:#999}
`
