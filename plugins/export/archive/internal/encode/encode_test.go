package encode

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/qunguan/qunguan/bot"
)

// stdJSONString is encoding/json's encoding of s with HTML escaping off.
func stdJSONString(t testing.TB, s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

var jsonSeeds = []string{
	"", "plain", `quote " backslash \ slash /`, "\x00\x01\x07\b\f\n\r\t\x1f\x7f",
	"中文😀 emoji", "\u2028\u2029", "bad \xff\xfe utf8 \xc3", "<b>&amp;</b>", "\ufeffbom", "\U0010ffff",
	"\xe2\x80\xa8x\xe2\x80\xa9", "\xed\xa0\x80 surrogate", "\xe0\x80\x80 overlong", "\xef\xbf\xbf", "\xe4\xb8", "\xe4",
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		if got, want := string(AppendJSONString(nil, s)), stdJSONString(t, s); got != want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendJSONString(nil, s)
		if want := stdJSONString(t, s); string(got) != want {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s does not decode: %v", got, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("round trip %q -> %q", s, back)
		}
	})
}

func TestJSONLineIsValidJSONWithFixedPrefix(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	m := &Message{Record: bot.Record{
		Group: "g_1", Seq: 42, Time: time.Date(2026, 3, 1, 1, 2, 3, 4000, time.UTC), Kind: bot.EventMessage,
		Sender: "u_1", SenderName: "名字\"", MsgID: "x", MsgType: bot.MsgImage, Text: "[图片]",
		FileName: "a.png", Size: 9, MediaPath: "/m/a.png", Purged: false,
	}, Media: "media/42_a.png"}
	m.Local = m.Time.In(loc)
	line := AppendJSONLine(nil, m)
	const want = `{"id":42,"type":"message","kind":"message","date":"2026-03-01T09:02:03.000004+08:00","date_unixtime":"1772326923",` +
		`"group_id":"g_1","from":"名字\"","from_id":"u_1","from_bot":false,"msg_id":"x","msg_type":"image","text":"[图片]",` +
		`"media":{"file_name":"a.png","size":9,"path":"media/42_a.png","source_path":"/m/a.png"}}` + "\n"
	if string(line) != want {
		t.Errorf("line\n got %s\nwant %s", line, want)
	}
	if !json.Valid(bytes.TrimSpace(line)) {
		t.Error("not valid JSON")
	}
}

func TestCSVFieldsReadBack(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a,b", "a,b"},
		{`say "hi"`, `say "hi"`},
		{"two\nlines", "two\nlines"},
		{" leading space", " leading space"},
		{"=1+2", "'=1+2"},
		{"+86 138", "'+86 138"},
		{"-5", "'-5"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tTAB", "'\tTAB"},
		{"中文，全角逗号", "中文，全角逗号"},
		{"bad \xff", "bad \ufffd"},
		{"", ""},
	} {
		row := AppendCSVField(nil, c.in)
		row = append(row, ",x\r\n"...)
		recs, err := csv.NewReader(bytes.NewReader(row)).ReadAll()
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if len(recs) != 1 || recs[0][0] != c.want || recs[0][1] != "x" {
			t.Errorf("AppendCSVField(%q) reads back %q, want %q", c.in, recs, c.want)
		}
	}
}

func TestTruncateCell(t *testing.T) {
	if s, cut := TruncateCell(strings.Repeat("a", MaxCellChars)); cut || len(s) != MaxCellChars {
		t.Error("a full cell was cut")
	}
	// Emoji take two UTF-16 units; the cut must not split one.
	in := strings.Repeat("😀", 20000)
	out, cut := TruncateCell(in)
	if !cut || !utf8.ValidString(out) {
		t.Fatal("not cut, or cut inside a character")
	}
	units := 0
	for _, r := range out {
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	if units > MaxCellChars {
		t.Errorf("%d units", units)
	}
	kept := strings.Count(out, "😀")
	if !strings.HasSuffix(out, "…[已截断 "+itoa(20000-kept)+" 字]") {
		t.Errorf("marker = %q", out[len(out)-30:])
	}
	// Invalid bytes count as one unit each and survive as they are.
	bad := strings.Repeat("\xff", 40000)
	out, cut = TruncateCell(bad)
	if !cut || !strings.HasPrefix(out, strings.Repeat("\xff", 32000)) {
		t.Error("invalid bytes mishandled")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func FuzzAppendCSVField(f *testing.F) {
	for _, s := range append(jsonSeeds, "=1", " x", "a,b", "line\nbreak", "\"q\"") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		row := append(AppendCSVField(nil, s), ",end\r\n"...)
		r := csv.NewReader(bytes.NewReader(row))
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", s, row, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if want != "" && strings.ContainsRune("=+-@\t\r", rune(want[0])) {
			want = "'" + want
		}
		// encoding/csv reads \r\n inside a quoted field as \n.
		want = strings.ReplaceAll(want, "\r\n", "\n")
		if len(recs) != 1 || len(recs[0]) != 2 || recs[0][0] != want || recs[0][1] != "end" {
			t.Fatalf("%q reads back as %q, want %q", s, recs, want)
		}
	})
}

func TestJSONRecordDescribesTheLine(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 3, 1, 1, 2, 3, 0, time.UTC)
	for _, m := range []Message{
		{Record: bot.Record{Group: "g", Seq: 1, Time: at, Kind: bot.EventMessage, Sender: "u", SenderName: "a", MsgType: bot.MsgText, Text: "<&>"}},
		{Record: bot.Record{Group: "g", Seq: 2, Time: at, Kind: bot.EventMemberJoined, Sender: "u", SenderName: "b"}},
		{Record: bot.Record{Group: "g", Seq: 3, Time: at, Kind: bot.EventMessage, MsgID: "m", MsgType: bot.MsgFile, FileName: "f", Size: 3, MediaPath: "/p"},
			Media: "media/3_f", MediaMissing: false},
		{Record: bot.Record{Group: "g", Seq: 4, Time: at, Kind: bot.EventMessage, MsgType: bot.MsgImage, MediaPath: "/q", Purged: true, FromBot: true},
			MediaMissing: true},
	} {
		m.Local = m.Time.In(loc)
		line := AppendJSONLine(nil, &m)
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var j JSONRecord
		if err := dec.Decode(&j); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		var again bytes.Buffer
		enc := json.NewEncoder(&again)
		enc.SetEscapeHTML(false)
		enc.Encode(&j)
		if again.String() != string(line) {
			t.Errorf("encoding/json of JSONRecord\n got %s\nwant %s", again.Bytes(), line)
		}
	}
}
