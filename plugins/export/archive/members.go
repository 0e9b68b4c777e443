package archive

import (
	"sort"
	"strconv"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export/archive/internal/encode"
)

// memberSheet names the member sheet of messages.xlsx.
const memberSheet = "成员"

// memberColumns is the header of members.csv and of the member sheet.
// 累计消息数 is the store's lifetime count; 本档案消息数 counts the member's
// messages in this archive.
var memberColumns = []string{
	"用户ID", "昵称", "群昵称", "显示名", "在群", "首次出现", "入群时间", "退群时间", "最后发言", "累计消息数", "本档案消息数",
}

var memberWidths = []float64{16, 18, 18, 18, 6, 20, 20, 20, 20, 10, 12}

// member is one row of the member list, already redacted.
type member struct {
	bot.MemberRecord
	inArchive int64
}

// sortMembers orders members by join time, then first sighting, then id,
// so that the list is the same at every export.
func sortMembers(ms []member) {
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if !a.JoinedAt.Equal(b.JoinedAt) {
			return a.JoinedAt.Before(b.JoinedAt)
		}
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.Before(b.FirstSeen)
		}
		return a.User < b.User
	})
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

// memberCells is a member's row in memberColumns order.
func memberCells(m *member, loc *time.Location) []string {
	return []string{
		string(m.User), m.Nick, m.Card, m.DisplayName(), yesNo(m.Present),
		encode.FormatTime(m.FirstSeen, loc), encode.FormatTime(m.JoinedAt, loc),
		encode.FormatTime(m.LeftAt, loc), encode.FormatTime(m.LastSpoke, loc),
		strconv.FormatInt(m.Messages, 10), strconv.FormatInt(m.inArchive, 10),
	}
}

// memberRows are the member sheet's rows; counts stay numbers there.
func memberRows(ms []member, loc *time.Location) [][]any {
	rows := make([][]any, len(ms))
	for i := range ms {
		cells := memberCells(&ms[i], loc)
		row := make([]any, len(cells))
		for j, c := range cells {
			if c != "" {
				row[j] = c
			}
		}
		row[9], row[10] = ms[i].Messages, ms[i].inArchive
		rows[i] = row
	}
	return rows
}

// writeMembers writes members.csv and members.jsonl.
func writeMembers(set *fileSet, ms []member, loc *time.Location) error {
	b := encode.AppendCSVHeader([]byte(encode.BOM), memberColumns)
	for i := range ms {
		for j, c := range memberCells(&ms[i], loc) {
			if j > 0 {
				b = append(b, ',')
			}
			b = encode.AppendCSVField(b, c)
		}
		b = append(b, '\r', '\n')
	}
	if err := set.writeFile(MembersCSV, b); err != nil {
		return err
	}
	b = b[:0]
	for i := range ms {
		b = appendMemberJSON(b, &ms[i], loc)
	}
	return set.writeFile(MembersJSONL, b)
}

func appendMemberJSON(b []byte, m *member, loc *time.Location) []byte {
	b = append(b, `{"user_id":`...)
	b = encode.AppendJSONString(b, string(m.User))
	b = append(b, `,"nick":`...)
	b = encode.AppendJSONString(b, m.Nick)
	b = append(b, `,"card":`...)
	b = encode.AppendJSONString(b, m.Card)
	b = append(b, `,"display_name":`...)
	b = encode.AppendJSONString(b, m.DisplayName())
	b = append(b, `,"present":`...)
	b = strconv.AppendBool(b, m.Present)
	for _, t := range []struct {
		key string
		at  time.Time
	}{{"first_seen", m.FirstSeen}, {"joined_at", m.JoinedAt}, {"left_at", m.LeftAt}, {"last_spoke", m.LastSpoke}} {
		if t.at.IsZero() {
			continue
		}
		b = append(b, `,"`...)
		b = append(b, t.key...)
		b = append(b, `":"`...)
		b = t.at.In(loc).AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"messages":`...)
	b = strconv.AppendInt(b, m.Messages, 10)
	b = append(b, `,"messages_in_archive":`...)
	b = strconv.AppendInt(b, m.inArchive, 10)
	return append(b, '}', '\n')
}
