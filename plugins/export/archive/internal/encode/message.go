// Package encode turns archive messages into JSONL lines, CSV rows and XLSX
// rows. It is shared by the archive writer and by the exportbench command,
// whose bare-encoder ceiling must write exactly the rows the archive writes.
package encode

import (
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Message is one record as the archive renders it: the store's record
// (already redacted when redaction is on) plus what the writer derived from
// it once, so that every format shows the same values.
type Message struct {
	bot.Record
	// Local is Record.Time in the archive's location.
	Local time.Time
	// Media is the archive-relative path ("media/…") of the copied
	// attachment, or "" when none was copied.
	Media string
	// MediaMissing reports that Record.MediaPath named a file that could
	// not be copied (gone, unreadable or not a regular file).
	MediaMissing bool
}

// DisplayTime is the layout of the human-readable time column of CSV, XLSX
// and HTML. It is the local wall clock; JSONL carries the exact instant.
const DisplayTime = "2006-01-02 15:04:05"

// IsService reports whether the record is a service entry (a join, a leave,
// a rename, ...) rather than a message, in Telegram export terms.
func IsService(k bot.EventKind) bool { return k != bot.EventMessage }

// TypeName is the JSONL "type" of a record: "message" or "service".
func TypeName(k bot.EventKind) string {
	if IsService(k) {
		return "service"
	}
	return "message"
}

// MsgTypeName is the name of a message content type, "" for none.
func MsgTypeName(t bot.MsgType) string {
	if t == 0 {
		return ""
	}
	return t.String()
}

// KindLabel is the Chinese label of a record for the 类型 column of CSV and
// XLSX: the content type for messages, the event for service entries.
func KindLabel(r *bot.Record) string {
	switch r.Kind {
	case bot.EventMessage:
		switch r.MsgType {
		case bot.MsgText:
			return "文本"
		case bot.MsgImage:
			return "图片"
		case bot.MsgFile:
			return "文件"
		case bot.MsgOther:
			return "其他"
		}
		return "消息"
	case bot.EventMemberJoined:
		return "入群"
	case bot.EventMemberLeft:
		return "退群"
	case bot.EventGroupRenamed:
		return "改群名"
	case bot.EventBotAdded:
		return "机器人入群"
	case bot.EventBotRemoved:
		return "机器人被移出"
	case bot.EventGroupGone:
		return "群已解散"
	}
	return r.Kind.String()
}

// ParseKind is the inverse of bot.EventKind.String for the kinds a group
// timeline holds; ok is false for an unknown name.
func ParseKind(s string) (bot.EventKind, bool) {
	for k := bot.EventMessage; k <= bot.EventLogout; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// ParseMsgType is the inverse of MsgTypeName.
func ParseMsgType(s string) (bot.MsgType, bool) {
	if s == "" {
		return 0, true
	}
	for t := bot.MsgText; t <= bot.MsgOther; t++ {
		if t.String() == s {
			return t, true
		}
	}
	return 0, false
}
