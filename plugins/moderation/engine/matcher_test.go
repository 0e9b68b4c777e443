package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// spamList is a small word list in the shape the moderation plugin will use.
var spamList = []Pattern{
	{Text: "加微信", Category: "contact"},                  // 0
	{Text: "V信", Category: "contact"},                   // 1
	{Text: "赌博", Category: "gambling"},                  // 2
	{Text: "代开", Category: "invoice"},                   // 3
	{Text: "代开发", Allow: true},                          // 4: outsourced development is fine
	{Text: "代开发票", Category: "invoice"},                 // 5
	{Text: "fuck", Category: "abuse"},                   // 6
	{Text: "sex", Category: "adult"},                    // 7
	{Text: "viagra", Category: "spam"},                  // 8
	{Text: `加.{0,2}群`, Regex: true, Category: "invite"}, // 9
	{Text: "加入本群", Allow: true},                         // 10
	{Text: "發票", Category: "invoice"},                   // 11: traditional; simplified with TradToSimp
}

func TestMatchSemantics(t *testing.T) {
	cases := []struct {
		text string
		t2s  bool
		want []string // "pattern:evidence"
	}{
		{"请加 微-信 聊", false, []string{"0:加 微-信"}},
		{"请加\u200b微信", false, []string{"0:加\u200b微信"}},
		{"加我Ｖ信", false, []string{"1:Ｖ信"}},
		{"加我Ⅴ信", false, []string{"1:Ⅴ信"}},
		{"abcv信", false, nil}, // v must start a word
		{"这里有赌😀博", false, []string{"2:赌😀博"}},
		{"外包代开发小程序", false, nil},              // 代开 inside the allow phrase 代开发
		{"代开发票找我", false, []string{"5:代开发票"}}, // 代开 suppressed, 代开发票 is not inside 代开发
		{"代开，发票", false, []string{"5:代开，发票"}}, // 代开发 allows 代开 here too
		{"代开增值税", false, []string{"3:代开"}},    // no allow phrase around
		{"ＦＵＣＫ you", false, []string{"6:ＦＵＣＫ"}},
		{"f u c k", false, []string{"6:f u c k"}},
		{"fucking", false, nil},
		{"motherfucker", false, nil},
		{"Essex and sussex", false, nil},
		{"no SEX here", false, []string{"7:SEX"}},
		{"𝐯𝐢𝐚𝐠𝐫𝐚!", false, []string{"8:𝐯𝐢𝐚𝐠𝐫𝐚"}},
		{"快加我们群", false, []string{"9:加我们群"}},
		{"快加我们的群", false, nil}, // more than two characters between 加 and 群
		{"欢迎加入本群", false, nil}, // the regex hit 加入本群 lies inside the allow phrase
		{"開發票", false, []string{"11:發票"}},
		{"开发票", false, nil},
		{"开发票", true, []string{"11:发票"}}, // the keyword 發票 is normalised to 发票 too
		{"代開發票", true, []string{"5:代開發票", "11:發票"}},
	}
	for _, c := range cases {
		m, err := Compile(spamList, Options{TradToSimp: c.t2s})
		if err != nil {
			t.Fatal(err)
		}
		hits := m.Match(c.text, nil)
		var got []string
		for _, h := range hits {
			got = append(got, fmt.Sprintf("%d:%s", h.Pattern, c.text[h.Start:h.End]))
			if h.Category != spamList[h.Pattern].Category {
				t.Errorf("%q: hit %v has category %q", c.text, h, h.Category)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Match(%q, t2s=%v) = %q, want %q", c.text, c.t2s, got, c.want)
		}
		if m.Any(c.text) != (len(c.want) > 0) {
			t.Errorf("Any(%q, t2s=%v) = %v", c.text, c.t2s, !(len(c.want) > 0))
		}
		if want := refMatch(spamList, Options{TradToSimp: c.t2s}, c.text); !slices.Equal(hits, want) {
			t.Errorf("reference disagrees on %q: %v vs %v", c.text, hits, want)
		}
	}
}

func TestMatchOrderAndOverlap(t *testing.T) {
	m, err := Compile([]Pattern{{Text: "ab"}, {Text: "abc"}, {Text: "b c d"}, {Text: "赌博"}, {Text: "博彩"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// "ab" inside "abc" and "b c d" after "a" fail their word boundaries.
	text := "ab abc b c d 赌博彩 abcd"
	got := m.Match(text, nil)
	want := []Hit{
		{Pattern: 0, Start: 0, End: 2},
		{Pattern: 1, Start: 3, End: 6},
		{Pattern: 2, Start: 7, End: 12},
		{Pattern: 3, Start: 13, End: 19},
		{Pattern: 4, Start: 16, End: 22},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// dst is appended to.
	prev := []Hit{{Pattern: 99}}
	if got := m.Match(text, prev); len(got) != 6 || got[0].Pattern != 99 {
		t.Fatalf("Match did not append: %v", got)
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		p    Pattern
		want string
	}{
		{Pattern{Text: "a(b", Regex: true}, `pattern 1 ("a(b")`},
		{Pattern{Text: "Viagra", Regex: true}, `literal 'V' never occurs`},
		{Pattern{Text: `a\.b`, Regex: true}, `literal '.' never occurs`},
		{Pattern{Text: "!!!"}, `nothing is left after normalisation`},
		{Pattern{Text: ""}, `nothing is left`},
		{Pattern{Text: strings.Repeat("赌", 400)}, `longer than 1024 bytes`},
	}
	for _, c := range cases {
		_, err := Compile([]Pattern{{Text: "ok"}, c.p}, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%+v) error = %v, want it to contain %q", c.p, err, c.want)
		}
	}
	// Case-insensitive regexes may use capitals.
	if _, err := Compile([]Pattern{{Text: "(?i)Viagra", Regex: true}}, Options{}); err != nil {
		t.Errorf("(?i)Viagra: %v", err)
	}
}

func TestEmptyMatcher(t *testing.T) {
	m, err := Compile(nil, Options{TradToSimp: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.Any("赌博") || len(m.Match("赌博", nil)) != 0 || m.Len() != 0 {
		t.Fatal("an empty matcher matched")
	}
	if n, _ := m.Normalize("發票"); n != "发票" {
		t.Fatalf("Normalize with TradToSimp = %q", n)
	}
	if !m.Options().TradToSimp {
		t.Fatal("Options lost")
	}
}

// TestLongMessages checks messages long enough for the four lanes, with
// keywords planted at and around the seams between them, against the
// reference.
func TestLongMessages(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"赌博", "代开发票", "加微信", "fuck", "sex", "今天", "天气", "不错", "我们", "hello", "world",
		" ", "，", "。", "😀", "\u200b", "Ｖ", "信", "v", "x", "．", "—", "开", "代"}
	for _, t2s := range []bool{false, true} {
		m, err := Compile(spamList, Options{TradToSimp: t2s})
		if err != nil {
			t.Fatal(err)
		}
		for range 3000 {
			var sb strings.Builder
			for sb.Len() < 40+rng.IntN(200) {
				sb.WriteString(pieces[rng.IntN(len(pieces))])
			}
			text := sb.String()
			got := m.Match(text, nil)
			want := refMatch(spamList, Options{TradToSimp: t2s}, text)
			if !slices.Equal(got, want) {
				t.Fatalf("t2s=%v %q:\n got %v\nwant %v", t2s, text, got, want)
			}
			if m.Any(text) != (len(want) > 0) {
				t.Fatalf("t2s=%v Any(%q) wrong", t2s, text)
			}
		}
	}
}

// TestSeamBridge puts a long keyword across the middle of a message with
// separators between its characters, so that the lower lane's warm-up
// cannot reach the state the upper lane has at the seam.
func TestSeamBridge(t *testing.T) {
	long := "一二三四五六七八九十"
	m, err := Compile([]Pattern{{Text: long}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for pad := 0; pad < 80; pad++ {
		spaced := strings.Join(strings.Split(long, ""), "  ")
		text := strings.Repeat("a", pad) + "的" + spaced + "的" + strings.Repeat("b", 80-pad)
		if !m.Any(text) {
			t.Fatalf("pad %d: missed %q", pad, text)
		}
		if got := m.Match(text, nil); len(got) != 1 {
			t.Fatalf("pad %d: %v", pad, got)
		}
	}
}

func TestMalformedUTF8(t *testing.T) {
	for _, opts := range []Options{{}, {TradToSimp: true}} {
		m, err := Compile(spamList, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{
			"赌\xff博", "赌\x80博", "\xe5赌博", "赌博\xe5", "赌\xe5\x8f博", "\xed\xa0\x80赌博", "\xc0\x80赌博",
			"賭\x80博", "賭\xe8\xb3博", "\xbc發票", "發票\xe7\x99",
			strings.Repeat("今天天气不错", 10) + "\xe5 \x8f\x91" + strings.Repeat("今天天气不错", 10),
			strings.Repeat("今天天气不错", 10) + "\xe5" + strings.Repeat("今天天气不错", 10) + "赌博",
			strings.Repeat("今天天气不错", 10) + "\x8f" + strings.Repeat("今天天气不错", 10) + "\xe5",
		} {
			got, want := m.Match(text, nil), refMatch(spamList, opts, text)
			if !slices.Equal(got, want) || m.Any(text) != (len(want) > 0) {
				t.Errorf("%+v %q: got %v, want %v", opts, text, got, want)
			}
		}
	}
}

// TestConcurrentUseAndSwap runs matchers from many goroutines while a
// writer swaps them, as the moderation plugin does on reload; run with
// -race.
func TestConcurrentUseAndSwap(t *testing.T) {
	first, err := Compile(spamList, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[Matcher]
	current.Store(first)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var hits []Hit
			for i := range 300 {
				m := current.Load()
				text := fmt.Sprintf("第%d条：代开发票找我，加 微-信 %d", i, g)
				hits = m.Match(text, hits[:0])
				if len(hits) < 2 || !m.Any(text) {
					t.Errorf("%q: %v", text, hits)
					return
				}
			}
		}()
	}
	for range 5 {
		next, err := Compile(spamList, Options{TradToSimp: true})
		if err != nil {
			t.Fatal(err)
		}
		current.Store(next)
	}
	wg.Wait()
}

// TestTradToSimpAliases checks the automaton's alias paths: with
// TradToSimp, traditional characters are read as the simplified ones they
// fold to without being decoded, including those whose simplified form is
// longer in UTF-8 (䀉 → 𥁢, 鶠 → 𬸘), next to cut-off characters and at the
// seams of the lanes.
func TestTradToSimpAliases(t *testing.T) {
	patterns := []Pattern{
		{Text: "发票"}, {Text: "賭博"}, {Text: "开发", Allow: true}, {Text: "𥁢鶠"}, {Text: "干"},
		{Text: "a發"}, {Text: "髮x"}, {Text: "博彩網"},
	}
	pieces := []string{"發", "髮", "发", "票", "賭", "赌", "博", "開", "开", "䀉", "𥁢", "鶠", "𬸘", "乾", "幹", "干",
		"彩", "網", "网", "a", "x", " ", "，", "\u200b", "\xe7\x99", "\xe9\xab", "\xbc", "\xff", "\xc0", "今天", "天气"}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, opts := range []Options{{}, {TradToSimp: true}} {
		m, err := Compile(patterns, opts)
		if err != nil {
			t.Fatal(err)
		}
		for range 5000 {
			var sb strings.Builder
			for n := rng.IntN(120); sb.Len() < n; {
				sb.WriteString(pieces[rng.IntN(len(pieces))])
			}
			text := sb.String()
			got, want := m.Match(text, nil), refMatch(patterns, opts, text)
			if !slices.Equal(got, want) {
				t.Fatalf("%+v %q:\n got %v\nwant %v", opts, text, got, want)
			}
			if m.Any(text) != (len(want) > 0) {
				t.Fatalf("%+v Any(%q) wrong", opts, text)
			}
		}
	}
	// The fast path decodes no more lead bytes with TradToSimp than without.
	if plain, t2s := tableFor(false), tableFor(true); plain.slow != t2s.slow {
		t.Errorf("TradToSimp makes more lead bytes slow")
	}
}
