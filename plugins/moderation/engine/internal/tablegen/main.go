// Command tablegen writes tables_gen.go for package engine: the per-rune
// normalisation table and the traditional-to-simplified character pairs.
//
// It runs at development time only (go generate in package engine). It lives
// in its own module so that golang.org/x/text (NFKC) and the OpenCC data never
// become dependencies of the product: the generated file is plain Go data.
//
// The fold of a rune is computed as documented in engine's SEMANTICS.md:
// ignorable runes are dropped without a trace; otherwise the rune is
// NFKC-decomposed and every resulting rune goes through the look-alike
// tables, Latin diacritic stripping, lower-casing and digit folding; runes
// that are neither letters nor numbers after that are dropped as separators.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/longbridgeapp/opencc"
	"golang.org/x/text/unicode/norm"
)

// openccModule is the module whose copy of OpenCC's dictionary is read. It is
// pinned here and in go.mod so that regenerating gives the same table.
const openccModule = "github.com/longbridgeapp/opencc"

// Kinds of table entry; they must match the constants in package engine.
const (
	kindKeep   = 0 // kept unchanged (not written: the gaps between entries)
	kindIgnore = 1 // dropped, does not separate words
	kindSep    = 2 // dropped, separates words
	kindDelta  = 3 // replaced by the single rune r+Arg
	kindRune   = 4 // replaced by the single rune Arg
	kindString = 5 // replaced by foldStrings[Arg]
)

// upperLookalikes maps capital letters of other scripts to the Latin letter
// they are drawn like. It is applied before lower-casing, because the lower
// case of many of them (Cyrillic в, н, т) no longer looks Latin.
var upperLookalikes = map[rune]string{
	// Cyrillic.
	'А': "a", 'В': "b", 'Е': "e", 'К': "k", 'М': "m", 'Н': "h", 'О': "o", 'Р': "p",
	'С': "c", 'Т': "t", 'У': "y", 'Х': "x", 'Ѕ': "s", 'І': "i", 'Ј': "j", 'Ԛ': "q",
	'Ԝ': "w", 'Ү': "y",
	// Greek.
	'Α': "a", 'Β': "b", 'Ε': "e", 'Ζ': "z", 'Η': "h", 'Ι': "i", 'Κ': "k", 'Μ': "m",
	'Ν': "n", 'Ο': "o", 'Ρ': "p", 'Τ': "t", 'Υ': "y", 'Χ': "x",
}

// lowerLookalikes maps small letters of other scripts (and Latin letters
// without a decomposition) to the ASCII letters they are drawn like. It is
// applied after lower-casing.
var lowerLookalikes = map[rune]string{
	// Cyrillic.
	'а': "a", 'е': "e", 'о': "o", 'р': "p", 'с': "c", 'у': "y", 'х': "x", 'ѕ': "s",
	'і': "i", 'ј': "j", 'һ': "h", 'ԁ': "d", 'ԛ': "q", 'ԝ': "w", 'ү': "y",
	// Greek.
	'α': "a", 'ι': "i", 'κ': "k", 'ν': "v", 'ο': "o", 'ρ': "p", 'υ': "u", 'χ': "x",
	// Latin letters that have no canonical decomposition.
	'ı': "i", 'ȷ': "j", 'ø': "o", 'ł': "l", 'đ': "d", 'ħ': "h", 'ŧ': "t", 'ƀ': "b",
	'ɨ': "i", 'ß': "ss", 'æ': "ae", 'œ': "oe", 'ɑ': "a", 'ɡ': "g", 'ɩ': "i",
	// Latin small capitals, used as "ᴠx".
	'ᴀ': "a", 'ʙ': "b", 'ᴄ': "c", 'ᴅ': "d", 'ᴇ': "e", 'ꜰ': "f", 'ɢ': "g", 'ʜ': "h",
	'ɪ': "i", 'ᴊ': "j", 'ᴋ': "k", 'ʟ': "l", 'ᴍ': "m", 'ɴ': "n", 'ᴏ': "o", 'ᴘ': "p",
	'ʀ': "r", 'ꜱ': "s", 'ᴛ': "t", 'ᴜ': "u", 'ᴠ': "v", 'ᴡ': "w", 'ʏ': "y", 'ᴢ': "z",
}

// extraFolds covers look-alike digits and letters that NFKC leaves alone:
// dingbat and double-circled digits and the negative circled and squared
// Latin letters of the enclosed alphanumeric supplement.
func extraFolds() map[rune]string {
	m := map[rune]string{}
	num := func(n int) string { return fmt.Sprint(n) }
	for i := range 10 {
		m[0x2776+rune(i)] = num(i + 1)  // ❶..❿
		m[0x2780+rune(i)] = num(i + 1)  // ➀..➉
		m[0x278A+rune(i)] = num(i + 1)  // ➊..➓
		m[0x24F5+rune(i)] = num(i + 1)  // ⓵..⓾
		m[0x24EB+rune(i)] = num(i + 11) // ⓫..⓴
	}
	m[0x24FF] = "0" // ⓿
	for i := range 26 {
		m[0x1F150+rune(i)] = string(rune('a' + i)) // 🅐..🅩
		m[0x1F170+rune(i)] = string(rune('a' + i)) // 🅰..🆉
	}
	return m
}

func isIgnorable(c rune) bool {
	return unicode.In(c, unicode.Cf, unicode.Mn, unicode.Mc, unicode.Me,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// isKept reports whether c, already folded, is content: letters, numbers,
// private-use and unassigned code points. Everything else separates.
func isKept(c rune) bool {
	if unicode.IsLetter(c) || unicode.IsNumber(c) || unicode.Is(unicode.Co, c) {
		return true
	}
	return !unicode.In(c, unicode.M, unicode.P, unicode.S, unicode.Z, unicode.C)
}

// latinBase returns the ASCII base letter of a Latin letter with
// diacritics, or c itself.
func latinBase(c rune) rune {
	if c < 0x80 || !unicode.Is(unicode.Latin, c) {
		return c
	}
	d := []rune(norm.NFD.String(string(c)))
	if len(d) > 0 && d[0] < 0x80 && unicode.IsLetter(d[0]) {
		return d[0]
	}
	return c
}

// foldOne folds one rune of an NFKC decomposition; it returns nil when the
// rune is dropped.
func foldOne(c rune) []rune {
	if isIgnorable(c) {
		return nil
	}
	if s, ok := upperLookalikes[c]; ok {
		return []rune(s)
	}
	c = unicode.ToLower(latinBase(c))
	if s, ok := lowerLookalikes[c]; ok {
		return []rune(s)
	}
	if c > '9' && unicode.Is(unicode.Nd, c) {
		return []rune{'0' + digitValue(c)}
	}
	if !isKept(c) {
		return nil
	}
	return []rune{c}
}

// digitValue relies on every Nd range being made of whole runs of ten digits
// starting at zero, which holds for all of Unicode 15.
func digitValue(c rune) rune {
	for _, r := range unicode.Nd.R16 {
		if rune(r.Lo) <= c && c <= rune(r.Hi) {
			return (c - rune(r.Lo)) % 10
		}
	}
	for _, r := range unicode.Nd.R32 {
		if rune(r.Lo) <= c && c <= rune(r.Hi) {
			return (c - rune(r.Lo)) % 10
		}
	}
	panic(fmt.Sprintf("%U is not a decimal digit", c))
}

// fold computes the table entry of r: its kind and, for replaced runes, the
// replacement.
func fold(r rune, extra map[rune]string) (int, []rune) {
	if r >= 0xD800 && r <= 0xDFFF {
		return kindSep, nil // surrogates never decode; they are invalid UTF-8
	}
	if isIgnorable(r) {
		return kindIgnore, nil
	}
	if r >= 0x4DC0 && r <= 0x4DFF {
		// The Yijing hexagram symbols share the UTF-8 lead byte 0xE4 with
		// the common ideographs U+4E00..U+4FFF; keeping them like letters
		// keeps that lead byte on the matcher's fast path.
		return kindKeep, nil
	}
	var out []rune
	if s, ok := extra[r]; ok {
		out = []rune(s)
	} else {
		for _, c := range norm.NFKC.String(string(r)) {
			out = append(out, foldOne(c)...)
		}
	}
	switch {
	case len(out) == 0:
		return kindSep, nil
	case len(out) == 1 && out[0] == r:
		return kindKeep, nil
	case len(out) == 1:
		return kindDelta, out
	default:
		return kindString, out
	}
}

type entry struct {
	kind int
	out  []rune
}

type rng struct {
	lo, hi rune
	kind   int
	arg    int
}

func main() {
	outPath := flag.String("o", "tables_gen.go", "output file")
	flag.Parse()

	extra := extraFolds()
	table := make([]entry, unicode.MaxRune+1)
	for r := range rune(unicode.MaxRune + 1) {
		k, out := fold(r, extra)
		table[r] = entry{k, out}
	}
	// Folding must be idempotent: everything a rune turns into is kept
	// unchanged, so that normalising normalised text changes nothing.
	for r, e := range table {
		for _, c := range e.out {
			if table[c].kind != kindKeep {
				log.Fatalf("fold of %U %q gives %U %q, which is not a fixed point", r, rune(r), c, c)
			}
		}
	}

	t2s, err := readT2S(table)
	if err != nil {
		log.Fatal(err)
	}
	if err := crossCheck(t2s); err != nil {
		log.Fatal(err)
	}

	var ranges []rng
	var strs []string
	strIndex := map[string]int{}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		e := table[r]
		if e.kind == kindKeep {
			continue
		}
		kind, arg := e.kind, 0
		switch e.kind {
		case kindDelta:
			// A run of runes folding to one target (À..Å to a) is stored as
			// kindRune, a run keeping its distance (A..Z to a..z) as kindDelta.
			arg = int(e.out[0] - r)
			if n := len(ranges); n > 0 && ranges[n-1].hi == r-1 && ranges[n-1].kind == kindRune && ranges[n-1].arg == int(e.out[0]) {
				kind, arg = kindRune, int(e.out[0])
			} else if next := table[r+1]; next.kind == kindDelta && next.out[0] == e.out[0] {
				kind, arg = kindRune, int(e.out[0])
			}
		case kindString:
			s := string(e.out)
			i, ok := strIndex[s]
			if !ok {
				i = len(strs)
				strs = append(strs, s)
				strIndex[s] = i
			}
			arg = i
		}
		if n := len(ranges); n > 0 && ranges[n-1].hi == r-1 && ranges[n-1].kind == kind && ranges[n-1].arg == arg {
			ranges[n-1].hi = r
			continue
		}
		ranges = append(ranges, rng{r, r, kind, arg})
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `// Code generated by internal/tablegen; DO NOT EDIT.

// The fold table is computed from Unicode %s (Go's unicode package and
// golang.org/x/text/unicode/norm) as described in SEMANTICS.md.
//
// t2sPairs is derived from dictionary/TSCharacters.txt of OpenCC (Open Chinese
// Convert, https://github.com/BYVoid/OpenCC), as shipped in the Go module
// %s %s. OpenCC and that module are licensed under the Apache License,
// Version 2.0; a copy is in LICENSE.OpenCC beside this file. The derivation
// keeps one simplified character per traditional one (OpenCC's first
// candidate), drops identity pairs and resolves chains.

package engine

// Short names keep the table below readable.
const (
	kI = kindIgnore
	kS = kindSep
	kD = kindDelta
	kR = kindRune
	kT = kindString
)

// unicodeVersion is the Unicode version the tables were generated from.
const unicodeVersion = %q

`, unicode.Version, openccModule, openccVersion(), unicode.Version)
	fmt.Fprintf(&b, "// foldRanges lists every rune that is not kept unchanged, in ascending\n")
	fmt.Fprintf(&b, "// runs of one kind (%d entries).\n", len(ranges))
	b.WriteString("var foldRanges = [...]foldRange{\n")
	kindName := map[int]string{kindIgnore: "kI", kindSep: "kS", kindDelta: "kD", kindRune: "kR", kindString: "kT"}
	for i, g := range ranges {
		if i%4 == 0 {
			b.WriteString("\t")
		}
		fmt.Fprintf(&b, "{0x%X, 0x%X, %s, %d},", g.lo, g.hi, kindName[g.kind], g.arg)
		if i%4 == 3 || i == len(ranges)-1 {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
	}
	b.WriteString("}\n\n")
	b.WriteString("// foldStrings holds the replacements of kindString entries.\n")
	b.WriteString("var foldStrings = [...]string{\n")
	for _, s := range strs {
		fmt.Fprintf(&b, "\t%q,\n", s)
	}
	b.WriteString("}\n\n")
	fmt.Fprintf(&b, "// t2sPairs holds %d traditional characters, each followed by its\n", len(t2s))
	b.WriteString("// simplified form, sorted by the traditional character.\n")
	b.WriteString("const t2sPairs = \"\" +\n")
	var line strings.Builder
	for i, p := range t2s {
		line.WriteRune(p[0])
		line.WriteRune(p[1])
		if (i+1)%20 == 0 || i == len(t2s)-1 {
			sep := " +\n"
			if i == len(t2s)-1 {
				sep = "\n"
			}
			fmt.Fprintf(&b, "\t%q%s", line.String(), sep)
			line.Reset()
		}
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatalf("format: %v", err)
	}
	if err := os.WriteFile(*outPath, src, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s: %d fold ranges, %d fold strings, %d t2s pairs", *outPath, len(ranges), len(strs), len(t2s))
}

func moduleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", openccModule).Output()
	if err != nil {
		return "", fmt.Errorf("locate %s: %w", openccModule, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func openccVersion() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", openccModule).Output()
	if err != nil {
		log.Fatalf("version of %s: %v", openccModule, err)
	}
	return strings.TrimSpace(string(out))
}

// readT2S reads OpenCC's TSCharacters.txt and returns the pairs
// (traditional, simplified) that change a character, with chains resolved
// so that the mapping is idempotent.
func readT2S(table []entry) ([][2]rune, error) {
	dir, err := moduleDir()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, "dictionary", "TSCharacters.txt"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[rune]rune{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, vals, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		kr, vr := []rune(key), []rune(strings.Fields(vals)[0])
		if len(kr) != 1 || len(vr) != 1 {
			return nil, fmt.Errorf("TSCharacters: unexpected entry %q", sc.Text())
		}
		if kr[0] != vr[0] {
			m[kr[0]] = vr[0]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var pairs [][2]rune
	for t, s := range m {
		for range 4 {
			if next, ok := m[s]; ok && next != s {
				s = next
			}
		}
		if _, ok := m[s]; ok {
			return nil, fmt.Errorf("t2s chain from %q does not settle", t)
		}
		if table[s].kind != kindKeep {
			return nil, fmt.Errorf("t2s target %q of %q is not kept unchanged by folding", s, t)
		}
		if table[t].kind != kindKeep {
			// The folded form is what t2s sees; a traditional character that
			// folds to something else never reaches the t2s table.
			continue
		}
		pairs = append(pairs, [2]rune{t, s})
	}
	slices.SortFunc(pairs, func(a, b [2]rune) int { return int(a[0] - b[0]) })
	return pairs, nil
}

// crossCheck converts every traditional character with OpenCC itself and
// counts disagreements. OpenCC's t2s applies its phrase dictionary first, so
// a few single characters differ; the check guards against misreading the
// file, not against those.
func crossCheck(pairs [][2]rune) error {
	cc, err := opencc.New("t2s")
	if err != nil {
		return err
	}
	differ := 0
	for _, p := range pairs {
		got, err := cc.Convert(string(p[0]))
		if err != nil {
			return err
		}
		if got != string(p[1]) {
			differ++
		}
	}
	log.Printf("cross-check with opencc t2s: %d of %d single characters differ", differ, len(pairs))
	if differ*20 > len(pairs) {
		return fmt.Errorf("more than 5%% of the pairs disagree with opencc; the dictionary was misread")
	}
	return nil
}
