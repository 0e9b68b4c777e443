package archive

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// redactCases is the corpus: every way a number shows up in group chats
// that Redact must catch, and look-alikes it must leave alone.
var redactCases = []struct {
	in, want string
	n        int
}{
	// Mobile numbers.
	{"我的手机13812345678", "我的手机138****5678", 1},
	{"电话：138 1234 5678，随时联系", "电话：138 **** 5678，随时联系", 1},
	{"138-1234-5678", "138-****-5678", 1},
	{"138 - 1234 - 5678", "138 - **** - 5678", 1},
	{"（+86）138 1234 5678", "（+86）138 **** 5678", 1},
	{"+86 13812345678", "+86 138****5678", 1},
	{"8613812345678", "86138****5678", 1},
	{"１３８１２３４５６７８", "１３８＊＊＊＊５６７８", 1},
	{"１３８-1234-５６７８", "１３８-****-５６７８", 1},
	{"１３８　１２３４　５６７８", "１３８　＊＊＊＊　５６７８", 1},
	{"1 3 8 1 2 3 4 5 6 7 8", "1 3 8 * * * * 5 6 7 8", 1},
	{"联系13812345678谢谢", "联系138****5678谢谢", 1},
	{"订单2024 13812345678", "订单2024 138****5678", 1},
	{"1381234567813987654321", "138****5678139****4321", 2},
	{"13812345678、13987654321", "138****5678、139****4321", 2},
	{"13812345678 13987654321", "138****5678 139****4321", 2},
	{"https://x.example/u/19912345678", "https://x.example/u/199****5678", 1},
	{"张三（13812345678）", "张三（138****5678）", 1},
	{"tel:17012345678;", "tel:170****5678;", 1},
	// ID numbers.
	{"身份证110105199001011234。", "身份证110105********1234。", 1},
	{"11010519900101123X", "110105********123X", 1},
	{"11010519900101123x号", "110105********123x号", 1},
	{"１１０１０５１９９００１０１１２３Ｘ", "１１０１０５＊＊＊＊＊＊＊＊１２３Ｘ", 1},
	{"110105 19900101 1234", "110105 ******** 1234", 1},
	{"130105199001011234", "130105********1234", 1}, // starts like a mobile number
	{"身份证110105199001011234手机13912345678", "身份证110105********1234手机139****5678", 2},
	{"11010519900101123413912345678", "110105********1234139****5678", 2},
	// An 18-digit number that is not an ID is masked too, by policy.
	{"订单号202603011234567890", "订单号202603********7890", 1},
	// Landlines.
	{"010-12345678", "010-****5678", 1},
	{"0755-1234567", "0755-***4567", 1},
	{"(0755) 1234 5678", "(0755) **** 5678", 1},
	{"02112345678", "021****5678", 1},
	// Left alone.
	{"价格 35.5 元，共 12 人", "价格 35.5 元，共 12 人", 0},
	{"2026-03-01 09:00:00", "2026-03-01 09:00:00", 0},
	{"第12345号，验证码 834512", "第12345号，验证码 834512", 0},
	{"400-123-4567", "400-123-4567", 0},
	{"12345678901", "12345678901", 0}, // 12… is no mobile prefix
	{"1381234567", "1381234567", 0},   // ten digits
	{"0x1F", "0x1F", 0},
	{"", "", 0},
	{"纯中文没有数字", "纯中文没有数字", 0},
	{"bad utf-8 \xff 13812345678", "bad utf-8 \xff 138****5678", 1},
}

func TestRedactCorpus(t *testing.T) {
	for _, c := range redactCases {
		got, n := Redact(c.in)
		if got != c.want || n != c.n {
			t.Errorf("Redact(%q) = %q, %d; want %q, %d", c.in, got, n, c.want, c.n)
		}
	}
}

// secretDigits returns the numbers of the corpus that must vanish, as
// plain ASCII digits.
func secretDigits() []string {
	var out []string
	for _, c := range redactCases {
		if c.n == 0 {
			continue
		}
		norm := normalizeDigits(c.in)
		for _, run := range strings.FieldsFunc(norm, func(r rune) bool { return r < '0' || r > '9' }) {
			if len(run) >= 11 {
				out = append(out, run)
			}
		}
	}
	return out
}

// normalizeDigits maps full-width digits to ASCII and drops separators
// between digits, so a number survives the comparison however written.
func normalizeDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			b.WriteRune('0' + r - '０')
		case r == 'Ｘ' || r == 'x':
			b.WriteRune('X')
		case isSeparator(r) || r == '+':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestRedactionRemovesEveryNumberFromTheArchive(t *testing.T) {
	src := &memSource{group: bot.GroupRecord{ID: testGroup, Name: "业主群 13700000001"}}
	want := 1 // the group name
	mediaDir := t.TempDir()
	for i, c := range redactCases {
		r := bot.Record{Group: testGroup, Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Minute),
			Kind: bot.EventMessage, Sender: "u_a", SenderName: "阿明", MsgType: bot.MsgText, Text: c.in}
		want += c.n
		src.records = append(src.records, r)
	}
	// Numbers in names and file names, each counted once.
	p := filepath.Join(mediaDir, "证件 13600000002.jpg")
	if err := os.WriteFile(p, []byte("jpeg"), 0o600); err != nil {
		t.Fatal(err)
	}
	src.records = append(src.records,
		bot.Record{Group: testGroup, Seq: 900, Time: t0.Add(2 * time.Hour), Kind: bot.EventMessage, Sender: "u_b",
			SenderName: "卖房 13500000003", MsgType: bot.MsgImage, Text: "[图片]", FileName: "证件 13600000002.jpg", MediaPath: p},
		bot.Record{Group: testGroup, Seq: 901, Time: t0.Add(3 * time.Hour), Kind: bot.EventMessage, Sender: "u_c",
			SenderName: "阿花", MsgType: bot.MsgFile, Text: "[文件]", FileName: "名单 13300000005.xlsx",
			MediaPath: filepath.Join(mediaDir, "gone 13300000005.xlsx")},
	)
	// Image: sender name, file name (in FileName and in MediaPath's base).
	// Missing file: file name and source path (also in the manifest).
	want += 3 + 2
	src.members = []bot.MemberRecord{
		{Group: testGroup, User: "u_b", Nick: "卖房 13500000003", Card: "王 13400000004", Present: true},
	}
	want += 2
	opts := testOptions(t.TempDir())
	opts.Redact = true
	res, err := Write(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Manifest.Redaction.Count; !res.Manifest.Redaction.Enabled || got != int64(want) {
		t.Errorf("redaction = %+v, want %d masks", res.Manifest.Redaction, want)
	}
	secrets := append(secretDigits(), "13700000001", "13600000002", "13500000003", "13300000005", "13400000004")
	contents := archiveContents(t, res)
	for name, body := range contents {
		norm := normalizeDigits(body)
		for _, s := range secrets {
			if strings.Contains(norm, s) {
				t.Errorf("%s still holds %s", name, s)
			}
		}
	}
	if len(contents) < 10 {
		t.Errorf("checked only %d files", len(contents))
	}
	if !strings.Contains(contents[MessagesJSONL], "138****5678") {
		t.Error("masked numbers keep their shape")
	}
}

// archiveContents returns every file of the archive folder and every
// entry of the XLSX workbook inside it, by name.
func archiveContents(t *testing.T, res *Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(res.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(res.Dir, p)
		out[rel] = string(readFile(t, p))
		// The file names themselves must be clean too.
		out["name of "+rel] = rel
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(filepath.Join(res.Dir, MessagesXLSX))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out["xlsx:"+f.Name] = string(b)
	}
	return out
}

func FuzzRedact(f *testing.F) {
	for _, c := range redactCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, n := Redact(s)
		if n == 0 && out != s {
			t.Fatalf("no mask but changed: %q -> %q", s, out)
		}
		// Only digits are masked: removing stars and digits from both leaves
		// the same text.
		strip := func(x string) string {
			return strings.Map(func(r rune) rune {
				if (r >= '0' && r <= '9') || (r >= '０' && r <= '９') || r == '*' || r == '＊' {
					return -1
				}
				return r
			}, x)
		}
		if strip(out) != strip(s) {
			t.Fatalf("Redact changed more than digits: %q -> %q", s, out)
		}
		again, _ := Redact(out)
		if again != out && n > 0 && !strings.ContainsAny(out, "0123456789０１２３４５６７８９") {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, again)
		}
	})
}
