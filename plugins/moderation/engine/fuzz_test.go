package engine

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are texts that exercise the evasions, both lock-step halves and
// the bridge between them.
var fuzzSeeds = []string{
	"",
	"加 微-信",
	"加\u200b微信",
	"ｆｕｃｋ you",
	"𝐯𝐢𝐚𝐠𝐫𝐚",
	"赌😀博",
	"這裡有賭博網站，代開發票",
	"v i a g r a and v.i.a.g.r.a",
	"Ⅴ信 ⓥⓧ ᴠx ❶❸❽ ＶＸ：ａｂｃ＿１２３",
	"外包代开发小程序，代开发票找我",
	"前面是很长的一段普通聊天内容用来把关键词推到消息的中间位置赌博后面还有一些内容",
	"ascii words before the middle of the message fu ck after it and more words",
	"\xff\xfe赌\x80博\xe5",
	"Essex sex sussex SEX",
	"\u3164\u115f赌\ufe0f博\u20e3",
	"乾幹干 䀉𥁢鶠𬸘 髮\xe7\x99發票\xbc開發",
}

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, t2s := range []bool{false, true} {
			ft := tableFor(t2s)
			norm, offs := ft.normalize(s)
			wantNorm, wantOffs := refNormalize(s, t2s)
			if norm != wantNorm || !slices.Equal(offs, wantOffs) {
				t.Fatalf("t2s=%v Normalize(%q)\n got %q %v\nwant %q %v", t2s, s, norm, offs, wantNorm, wantOffs)
			}
			checkNormalized(t, s, norm, offs)
			if again, _ := ft.normalize(norm); again != norm {
				t.Fatalf("t2s=%v not idempotent: %q -> %q -> %q", t2s, s, norm, again)
			}
		}
	})
}

// checkNormalized checks the invariants of a normalised text and its
// offsets against the original.
func checkNormalized(t *testing.T, s, norm string, offs []int) {
	t.Helper()
	if !utf8.ValidString(norm) {
		t.Fatalf("normalised %q is not valid UTF-8", norm)
	}
	if len(offs) != len(norm)+1 || offs[len(norm)] != len(s) {
		t.Fatalf("offsets %v do not fit %q", offs, norm)
	}
	starts := runeStarts(s)
	for i, o := range offs {
		if !starts[o] || (i > 0 && o < offs[i-1]) {
			t.Fatalf("offset %d of %q (%d) is not a rune start or goes back: %v", i, s, o, offs)
		}
	}
	if strings.Contains(norm, "  ") || strings.HasPrefix(norm, " ") || strings.HasSuffix(norm, " ") {
		t.Fatalf("stray space in %q", norm)
	}
}

// fuzzPatterns is a fixed word list that random text can hit: short CJK and
// ASCII keywords, an allow phrase, a regular expression.
var fuzzPatterns = []Pattern{
	{Text: "赌博", Category: "gamble"},
	{Text: "代开", Category: "invoice"},
	{Text: "代开发", Allow: true},
	{Text: "代开发票", Category: "invoice"},
	{Text: "发票"},
	{Text: "加微信", Category: "contact"},
	{Text: "v信"},
	{Text: "vx"},
	{Text: "ab"},
	{Text: "a"},
	{Text: "1"},
	{Text: "fu ck"},
	{Text: "sex"},
	{Text: "sussex", Allow: true},
	{Text: "x"},
	{Text: "é"},
	{Text: "з"},
	{Text: `\d{5,}`, Regex: true, Category: "number"},
	{Text: `(?i)a b`, Regex: true},
	{Text: `123`, Regex: true, Allow: true},
}

func FuzzMatch(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, "赌\n!博", uint16(i), uint16(3*i+2))
	}
	f.Fuzz(func(t *testing.T, text, words string, cut1, cut2 uint16) {
		patterns := slices.Clone(fuzzPatterns)
		// Keywords from the fuzzer, "!" marking allow phrases, and one cut
		// out of the text itself so that hits are common.
		lines := strings.Split(words, "\n")
		if len(text) > 0 {
			a, b := int(cut1)%len(text), int(cut2)%len(text)
			if a > b {
				a, b = b, a
			}
			lines = append(lines, text[a:b+1])
		}
		for i, w := range lines {
			if i >= 8 {
				break
			}
			p := Pattern{Text: w, Category: "fuzz"}
			if rest, ok := strings.CutPrefix(w, "!"); ok {
				p = Pattern{Text: rest, Allow: true}
			}
			if n, _ := refNormalize(p.Text, false); strings.TrimSpace(n) == "" || len(n) > 64 {
				continue
			}
			if n, _ := refNormalize(p.Text, true); strings.TrimSpace(n) == "" {
				continue
			}
			patterns = append(patterns, p)
		}
		for _, opts := range []Options{{}, {TradToSimp: true}} {
			m, err := Compile(patterns, opts)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got := m.Match(text, nil)
			want := refMatch(patterns, opts, text)
			if !slices.Equal(got, want) {
				t.Fatalf("opts %+v, text %q, patterns %q\n got %v\nwant %v", opts, text, lines, got, want)
			}
			if any := m.Any(text); any != (len(want) > 0) {
				t.Fatalf("opts %+v: Any(%q) = %v, want %v", opts, text, any, len(want) > 0)
			}
			starts := runeStarts(text)
			for _, h := range got {
				if !starts[h.Start] || !starts[h.End] || h.Start >= h.End {
					t.Fatalf("hit %v of %q is not on rune boundaries", h, text)
				}
			}
			// Without regexes the fast path alone must agree.
			if kwOnly := keywordsOnly(patterns); len(kwOnly) > 0 {
				mk, err := Compile(kwOnly, opts)
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				if any, want := mk.Any(text), len(refMatch(kwOnly, opts, text)) > 0; any != want {
					t.Fatalf("opts %+v: keywords-only Any(%q) = %v, want %v", opts, text, any, want)
				}
			}
		}
	})
}

func keywordsOnly(ps []Pattern) []Pattern {
	var out []Pattern
	for _, p := range ps {
		if !p.Regex {
			out = append(out, p)
		}
	}
	return out
}
