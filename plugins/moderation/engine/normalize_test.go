package engine

import (
	"slices"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		name, in, want string
		t2s            bool
	}{
		{"space and dash between CJK", "加 微-信", "加微信", false},
		{"zero-width space", "加\u200b微信", "加微信", false},
		{"zero-width joiner and BOM", "加\u200d微\ufeff信", "加微信", false},
		{"full-width letters", "ｆｕｃｋ", "fuck", false},
		{"full-width upper case", "ＶＩＡＧＲＡ", "viagra", false},
		{"math bold", "𝐯𝐢𝐚𝐠𝐫𝐚", "viagra", false},
		{"math script and fraktur", "𝓿𝓲𝓪 𝔤𝔯𝔞", "via gra", false},
		{"emoji between characters", "赌😀博", "赌博", false},
		{"emoji with variation selector and ZWJ", "赌❤️👨‍👩‍👧博", "赌博", false},
		{"keycap digits", "1️⃣2️⃣3️⃣", "123", false},
		{"punctuation of both widths", "代，开。发！票?", "代开发票", false},
		{"Hangul filler used as an invisible space", "加\u3164微信", "加微信", false},
		{"spaces between ASCII words stay as one", "fuck   you", "fuck you", false},
		{"spaced letters", "v i a g r a", "v i a g r a", false},
		{"separators between ASCII become one space", "v.i-a_g r/a", "v i a g r a", false},
		{"ignorable does not separate", "vi\u200bagra", "viagra", false},
		{"no space between ASCII and CJK", "加 vx 号", "加vx号", false},
		{"Roman numeral look-alike", "Ⅴ信", "v信", false},
		{"circled letters", "ⓥⓧ", "vx", false},
		{"circled and dingbat digits", "①❷➂⓸⓪", "12340", false},
		{"parenthesised number", "⑽", "10", false},
		{"Cyrillic look-alikes", "саsіnо", "casino", false},
		{"Cyrillic capitals", "ВАНК", "bahk", false},
		{"Greek nu for v", "νx", "vx", false},
		{"small capitals", "ᴠx", "vx", false},
		{"pinyin tone marks", "jiā wēi xìn", "jia wei xin", false},
		{"Latin diacritics", "Crème Brûlée", "creme brulee", false},
		{"sharp s", "Straße", "strasse", false},
		{"Arabic-Indic digits", "١٢٣", "123", false},
		{"superscripts", "x²", "x2", false},
		{"CJK compatibility ideograph", "\uf900", "豈", false},
		{"Kangxi radical", "⼈", "人", false},
		{"half-width katakana", "ｱｲｳ", "アイウ", false},
		{"enclosed ideograph", "㈱", "株", false},
		{"invalid UTF-8 separates", "赌\xff博", "赌博", false},
		{"traditional stays without the option", "發票", "發票", false},
		{"traditional to simplified", "這裡有賭博網站", "这里有赌博网站", true},
		{"traditional with spaces", "代開 發票", "代开发票", true},
		{"simplified unchanged by the option", "代开发票", "代开发票", true},
		{"empty", "", "", false},
		{"only separators", "!!! ... ？？", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, offs := tableFor(c.t2s).normalize(c.in)
			if got != c.want {
				t.Fatalf("normalize(%q) = %q, want %q", c.in, got, c.want)
			}
			checkNormalized(t, c.in, got, offs)
			if want, wantOffs := refNormalize(c.in, c.t2s); got != want || !slices.Equal(offs, wantOffs) {
				t.Fatalf("reference disagrees: %q %v vs %q %v", got, offs, want, wantOffs)
			}
		})
	}
}

func TestNormalizeOffsets(t *testing.T) {
	in := "加 微-信 ＦＵ ck"
	got, offs := Normalize(in)
	if got != "加微信fu ck" {
		t.Fatalf("got %q", got)
	}
	// Every byte of a normalised rune maps to the start of its source rune;
	// the space maps to the first separator it stands for.
	want := []int{0, 0, 0, 4, 4, 4, 8, 8, 8, 12, 15, 18, 19, 20, 21}
	if !slices.Equal(offs, want) {
		t.Fatalf("offsets %v, want %v", offs, want)
	}
}

// TestFastLeadBytes pins which UTF-8 lead bytes the scanner may take
// without decoding: the CJK ideographs and Hangul syllables must stay on
// the fast path, or Chinese text gets much slower.
func TestFastLeadBytes(t *testing.T) {
	plain := tableFor(false)
	for b := 0xE4; b <= 0xE9; b++ {
		if plain.slow[b] {
			t.Errorf("lead byte %#x is slow without t2s", b)
		}
	}
	for _, b := range []int{0xEB, 0xEC} {
		if plain.slow[b] {
			t.Errorf("lead byte %#x is slow", b)
		}
	}
	for _, b := range []int{0xC3, 0xE2, 0xE3, 0xEF, 0xF0} {
		if !plain.slow[b] {
			t.Errorf("lead byte %#x should be slow (it starts runes that fold or drop)", b)
		}
	}
}

func TestGeneratedTablesUnicodeVersion(t *testing.T) {
	if unicodeVersion == "" || len(foldRanges) == 0 || len(t2sPairs) == 0 {
		t.Fatal("generated tables are empty; run go generate")
	}
}
