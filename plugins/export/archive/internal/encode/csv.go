package encode

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// BOM starts every CSV file: without it Excel reads UTF-8 as the system
// code page and shows Chinese as mojibake.
const BOM = "\ufeff"

// MessageColumns is the header of messages.csv and of every messages sheet
// of messages.xlsx. 时间 is the local wall clock for people; 时间戳 is the Unix
// second, kept so the CSV alone pins every row to an instant (as WeChat's
// own database and LC044/WeChatMsg's export do).
var MessageColumns = []string{
	"序号", "时间", "时间戳", "类型", "发送者", "发送者ID", "机器人",
	"内容", "文件名", "大小(字节)", "媒体文件", "消息ID", "已清除",
}

// ColUnixTime is the index of 时间戳 in MessageColumns.
const ColUnixTime = 2

// MissingMediaLabel marks an attachment the bot saved but that could not be
// copied into the archive.
const MissingMediaLabel = "(缺失)"

// Yes is how CSV and XLSX show a true flag; false is an empty cell.
const Yes = "是"

// AppendCSVHeader appends a CSV header row.
func AppendCSVHeader(dst []byte, cols []string) []byte {
	for i, c := range cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendCSVField(dst, c)
	}
	return append(dst, '\r', '\n')
}

// AppendCSVMessage appends m as one CSV row in MessageColumns order.
func AppendCSVMessage(dst []byte, m *Message) []byte {
	r := &m.Record
	dst = strconv.AppendUint(dst, r.Seq, 10)
	dst = append(dst, ',')
	dst = m.Local.AppendFormat(dst, DisplayTime)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, r.Time.Unix(), 10)
	dst = append(dst, ',')
	dst = AppendCSVField(dst, KindLabel(r))
	dst = append(dst, ',')
	dst = AppendCSVField(dst, r.SenderName)
	dst = append(dst, ',')
	dst = AppendCSVField(dst, string(r.Sender))
	dst = append(dst, ',')
	if r.FromBot {
		dst = append(dst, Yes...)
	}
	dst = append(dst, ',')
	dst = AppendCSVField(dst, r.Text)
	dst = append(dst, ',')
	dst = AppendCSVField(dst, r.FileName)
	dst = append(dst, ',')
	if r.Size != 0 {
		dst = strconv.AppendInt(dst, r.Size, 10)
	}
	dst = append(dst, ',')
	dst = AppendCSVField(dst, MediaCell(m))
	dst = append(dst, ',')
	dst = AppendCSVField(dst, r.MsgID)
	dst = append(dst, ',')
	if r.Purged {
		dst = append(dst, Yes...)
	}
	return append(dst, '\r', '\n')
}

// MediaCell is what the 媒体文件 column shows.
func MediaCell(m *Message) string {
	if m.Media != "" {
		return m.Media
	}
	if m.MediaMissing {
		return MissingMediaLabel
	}
	return ""
}

// AppendCSVField appends s as one RFC 4180 field. Because cells hold what
// chat members typed, a cell that Excel or LibreOffice would run as a
// formula (it starts with = + - @, a tab or a carriage return) gets a
// leading apostrophe, the OWASP advice against CSV injection; JSONL keeps
// the text unchanged. Invalid UTF-8 is replaced by U+FFFD, since the BOM
// promises UTF-8.
func AppendCSVField(dst []byte, s string) []byte {
	quote, valid := csvScan(s)
	if !valid {
		s = strings.ToValidUTF8(s, "\uFFFD")
		quote, _ = csvScan(s)
	}
	guard := false
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			guard = true
		}
	}
	if !guard && !quote {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	if guard {
		dst = append(dst, '\'')
	}
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

// csvScan reports whether s needs quoting (as encoding/csv decides:
// separators, quotes, line breaks, a leading space) and whether it is
// valid UTF-8, in one pass; the common three-byte (CJK) sequences are
// checked inline rather than decoded.
func csvScan(s string) (quote, valid bool) {
	if s != "" && s[0] == ' ' {
		quote = true
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b == ',' || b == '"' || b == '\n' || b == '\r' {
				quote = true
			}
			i++
			continue
		}
		if i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 && ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return quote, false
		}
		i += size
	}
	return quote, true
}

// FormatTime formats t for a display column, "" for the zero time.
func FormatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(DisplayTime)
}
