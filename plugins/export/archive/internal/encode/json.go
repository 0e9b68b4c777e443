package encode

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// UnixTimeKey is how the "date_unixtime" member appears in every JSONL line.
// Verify finds a line's instant by this key without decoding the whole line:
// inside a JSON string a quote is always escaped, so the unescaped sequence
// can only be the member itself.
const UnixTimeKey = `"date_unixtime":"`

// AppendJSONLine appends m as one JSON object and a newline. Members come in
// a fixed order, the Telegram-export-like names first; empty optional
// members are left out, and decoding restores them as zero values.
func AppendJSONLine(dst []byte, m *Message) []byte {
	r := &m.Record
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, r.Seq, 10)
	dst = append(dst, `,"type":"`...)
	dst = append(dst, TypeName(r.Kind)...)
	dst = append(dst, `","kind":`...)
	dst = AppendJSONString(dst, r.Kind.String())
	dst = append(dst, `,"date":"`...)
	dst = m.Local.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `",`...)
	dst = append(dst, UnixTimeKey...)
	dst = strconv.AppendInt(dst, r.Time.Unix(), 10)
	dst = append(dst, `","group_id":`...)
	dst = AppendJSONString(dst, string(r.Group))
	dst = append(dst, `,"from":`...)
	dst = AppendJSONString(dst, r.SenderName)
	dst = append(dst, `,"from_id":`...)
	dst = AppendJSONString(dst, string(r.Sender))
	dst = append(dst, `,"from_bot":`...)
	dst = strconv.AppendBool(dst, r.FromBot)
	if r.MsgID != "" {
		dst = append(dst, `,"msg_id":`...)
		dst = AppendJSONString(dst, r.MsgID)
	}
	if r.MsgType != 0 {
		dst = append(dst, `,"msg_type":`...)
		dst = AppendJSONString(dst, MsgTypeName(r.MsgType))
	}
	dst = append(dst, `,"text":`...)
	dst = AppendJSONString(dst, r.Text)
	if r.FileName != "" || r.Size != 0 || r.MediaPath != "" || m.Media != "" {
		dst = append(dst, `,"media":{"file_name":`...)
		dst = AppendJSONString(dst, r.FileName)
		dst = append(dst, `,"size":`...)
		dst = strconv.AppendInt(dst, r.Size, 10)
		if m.Media != "" {
			dst = append(dst, `,"path":`...)
			dst = AppendJSONString(dst, m.Media)
		}
		if r.MediaPath != "" {
			dst = append(dst, `,"source_path":`...)
			dst = AppendJSONString(dst, r.MediaPath)
		}
		if m.MediaMissing {
			dst = append(dst, `,"missing":true`...)
		}
		dst = append(dst, '}')
	}
	if r.Purged {
		dst = append(dst, `,"purged":true`...)
	}
	return append(dst, '}', '\n')
}

// JSONRecord is the layout of a JSONL line, for decoding it (ReadMessages)
// and for encoding/json as the benchmark's reference encoder. It must
// describe exactly what AppendJSONLine writes.
type JSONRecord struct {
	ID           uint64     `json:"id"`
	Type         string     `json:"type"`
	Kind         string     `json:"kind"`
	Date         string     `json:"date"`
	DateUnixtime string     `json:"date_unixtime"`
	GroupID      string     `json:"group_id"`
	From         string     `json:"from"`
	FromID       string     `json:"from_id"`
	FromBot      bool       `json:"from_bot"`
	MsgID        string     `json:"msg_id,omitempty"`
	MsgType      string     `json:"msg_type,omitempty"`
	Text         string     `json:"text"`
	Media        *JSONMedia `json:"media,omitempty"`
	Purged       bool       `json:"purged,omitempty"`
}

// JSONMedia is the "media" member of a JSONL line.
type JSONMedia struct {
	FileName   string `json:"file_name"`
	Size       int64  `json:"size"`
	Path       string `json:"path,omitempty"`
	SourcePath string `json:"source_path,omitempty"`
	Missing    bool   `json:"missing,omitempty"`
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes that need no escaping in a JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// AppendJSONString appends s as a JSON string, byte for byte what
// encoding/json produces with HTML escaping off: quotes, backslashes and
// control characters escaped, each invalid UTF-8 byte replaced by \ufffd,
// and U+2028/U+2029 escaped so the line is also valid JavaScript.
// strconv.AppendQuote is not a substitute: it writes Go escapes such as \x00
// and \U0001f600 that JSON does not have.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		// Chat text is mostly CJK: three-byte sequences with lead bytes
		// E1-EC and EE-EF need no table lookup, only a check that the two
		// continuation bytes are 10xxxxxx (E0 and ED restrict the second
		// byte further and go the general way). E2 80 A8/A9 is
		// U+2028/U+2029, which must be escaped, so E2 80 goes the general
		// way too.
		if i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 &&
			((b >= 0xE1 && b <= 0xEC && !(b == 0xE2 && s[i+1] == 0x80)) || b == 0xEE || b == 0xEF) {
			i += 3
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
