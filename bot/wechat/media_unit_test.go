package wechat

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMediaFileName(t *testing.T) {
	long := strings.Repeat("很长的名字", 30) + ".docx"
	for _, c := range []struct{ id, name, want string }{
		{"123", "纪要.pdf", "123_纪要.pdf"},
		{"123", "../../etc/passwd", "123__.._etc_passwd"}, // one name: ".." inside it is harmless
		{"123", ".hidden", "123_hidden"},
		{"123", "..", "123_file"},
		{"123", "", "123_file"},
		{"123", "a\x00b\nc\u202e.txt", "123_a_b_c_.txt"},
		{"123", `con:"x"|y?.txt `, "123_con__x__y_.txt"},
		{"12/3", "x.jpg", "12_3_x.jpg"},
		{"", "x.jpg", "0_x.jpg"},
		{"123", "bad\xffutf8.txt", "123_bad_utf8.txt"},
	} {
		if got := mediaFileName(c.id, c.name); got != c.want {
			t.Errorf("mediaFileName(%q, %q) = %q, want %q", c.id, c.name, got, c.want)
		}
	}
	got := mediaFileName("4600000000000000001", long)
	if len(got) > maxMediaName || !utf8.ValidString(got) || !strings.HasSuffix(got, ".docx") || !strings.HasPrefix(got, "4600000000000000001_很长") {
		t.Errorf("long name became %q (%d bytes)", got, len(got))
	}
}

func TestMediaExt(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n")
	for _, c := range []struct {
		ctype string
		head  []byte
		want  string
	}{
		{"image/jpeg", nil, ".jpg"},
		{"image/png; charset=binary", nil, ".png"},
		{"application/octet-stream", png, ".png"},
		{"", []byte("GIF89a"), ".gif"},
		{"", []byte("??"), ".bin"},
	} {
		if got := mediaExt(c.ctype, c.head, ".bin"); got != c.want {
			t.Errorf("mediaExt(%q) = %q, want %q", c.ctype, got, c.want)
		}
	}
}
