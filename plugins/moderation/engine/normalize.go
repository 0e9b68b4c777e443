package engine

//go:generate go -C internal/tablegen run . -o ../../tables_gen.go

import (
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Kinds of foldRanges entry, shared with internal/tablegen.
const (
	kindKeep   = 0 // kept unchanged (never stored: the gaps between entries)
	kindIgnore = 1 // dropped, does not separate words
	kindSep    = 2 // dropped, separates words
	kindDelta  = 3 // replaced by the single rune r+arg
	kindRune   = 4 // replaced by the single rune arg
	kindString = 5 // replaced by foldStrings[arg]
)

// foldRange is one run of runes with the same treatment in the generated
// table.
type foldRange struct {
	lo, hi rune
	kind   uint8
	arg    int32
}

// Values of a foldTable entry. Values from entRepl on index repl.
const (
	entKeep   = 0
	entIgnore = 1
	entSep    = 2
	entRepl   = 3
)

const blockBits = 7

// foldTable is the expanded form of foldRanges (and, for the t2s variant,
// t2sPairs): a two-level lookup from rune to entry, plus the set of UTF-8
// lead bytes that start at least one rune which is not kept unchanged. The
// matcher's fast path decodes only runes with such a lead byte.
type foldTable struct {
	index  []uint16 // block number of each 128-rune block
	blocks []uint16 // entries, 128 per block; block 0 keeps everything
	repl   []string // replacement of entry entRepl+i
	slow   [256]bool

	// alias lists, for the t2s table, the traditional characters that the
	// automaton reads directly instead of decoding them: for a simplified
	// character (its UTF-8), the characters that fold to it alone and whose
	// lead byte is not slow. A keyword's automaton accepts them wherever it
	// accepts the simplified one, so the fast path never decodes the
	// ideograph blocks.
	alias map[string][]string
}

var (
	plainOnce, t2sOnce sync.Once
	plainTable         *foldTable
	t2sTable           *foldTable
)

// tableFor returns the shared fold table, building it on first use so that
// importing the package costs nothing.
func tableFor(t2s bool) *foldTable {
	if t2s {
		t2sOnce.Do(func() { t2sTable = buildTable(decodeT2S()) })
		return t2sTable
	}
	plainOnce.Do(func() { plainTable = buildTable(nil) })
	return plainTable
}

func decodeT2S() map[rune]rune {
	m := make(map[rune]rune, len(t2sPairs)/6)
	for s := t2sPairs; s != ""; {
		t, n := utf8.DecodeRuneInString(s)
		simp, k := utf8.DecodeRuneInString(s[n:])
		m[t] = simp
		s = s[n+k:]
	}
	return m
}

func buildTable(t2s map[rune]rune) *foldTable {
	t := &foldTable{
		index:  make([]uint16, (unicode.MaxRune+1)>>blockBits),
		blocks: make([]uint16, 1<<blockBits),
	}
	replIndex := map[string]uint16{}
	owned := []bool{false} // per block: written by set, not the shared block 0
	set := func(r rune, e uint16) {
		bi := t.index[r>>blockBits]
		if !owned[bi] {
			nb := uint16(len(t.blocks) >> blockBits)
			t.blocks = append(t.blocks, t.blocks[int(bi)<<blockBits:int(bi+1)<<blockBits]...)
			t.index[r>>blockBits] = nb
			owned = append(owned, true)
			bi = nb
		}
		t.blocks[int(bi)<<blockBits|int(r&(1<<blockBits-1))] = e
	}
	replEntry := func(s string) uint16 {
		if t2s != nil {
			rs := []rune(s)
			for i, c := range rs {
				if simp, ok := t2s[c]; ok {
					rs[i] = simp
				}
			}
			s = string(rs)
		}
		if e, ok := replIndex[s]; ok {
			return e
		}
		e := uint16(entRepl + len(t.repl))
		t.repl = append(t.repl, s)
		replIndex[s] = e
		return e
	}
	for _, g := range foldRanges {
		for r := g.lo; r <= g.hi; r++ {
			var e uint16
			switch g.kind {
			case kindIgnore:
				e = entIgnore
			case kindSep:
				e = entSep
			case kindDelta:
				e = replEntry(string(r + g.arg))
			case kindRune:
				e = replEntry(string(g.arg))
			case kindString:
				e = replEntry(foldStrings[g.arg])
			}
			set(r, e)
		}
	}
	// A traditional character that is otherwise kept and whose simplified
	// form is no shorter in UTF-8 can be an alias: the automaton reads it
	// like its simplified form (an alias path must not be longer than the
	// path it stands for, see buildDFA).
	aliasOf := map[rune]rune{}
	for trad, simp := range t2s {
		if t.lookup(trad) == entKeep {
			set(trad, replEntry(string(simp)))
			if utf8.RuneLen(trad) <= utf8.RuneLen(simp) {
				aliasOf[trad] = simp
			}
		}
	}
	t.dedupBlocks()
	for bi, b := range t.index {
		if b == 0 {
			continue
		}
		for r := rune(bi) << blockBits; r < rune(bi+1)<<blockBits; r++ {
			if _, ok := aliasOf[r]; !ok && t.lookup(r) != entKeep && (r < 0xD800 || r > 0xDFFF) {
				var buf [utf8.UTFMax]byte
				utf8.EncodeRune(buf[:], r)
				t.slow[buf[0]] = true
			}
		}
	}
	// Aliases under a lead byte that is slow anyway are decoded and folded
	// like any other rune there.
	t.alias = map[string][]string{}
	for trad, simp := range aliasOf {
		if tb := string(trad); !t.slow[tb[0]] {
			t.alias[string(simp)] = append(t.alias[string(simp)], tb)
		}
	}
	for _, a := range t.alias {
		slices.Sort(a)
	}
	return t
}

// dedupBlocks shares identical blocks (all-separator emoji blocks, say), so
// the table stays small in memory.
func (t *foldTable) dedupBlocks() {
	seen := map[[1 << blockBits]uint16]uint16{}
	var out []uint16
	remap := make([]uint16, len(t.blocks)>>blockBits)
	for bi := range remap {
		var key [1 << blockBits]uint16
		copy(key[:], t.blocks[bi<<blockBits:])
		nb, ok := seen[key]
		if !ok {
			nb = uint16(len(out) >> blockBits)
			out = append(out, key[:]...)
			seen[key] = nb
		}
		remap[bi] = nb
	}
	for i, b := range t.index {
		t.index[i] = remap[b]
	}
	t.blocks = out
}

func (t *foldTable) lookup(r rune) uint16 {
	return t.blocks[int(t.index[r>>blockBits])<<blockBits|int(r&(1<<blockBits-1))]
}

func isASCIIAlnum(b byte) bool {
	return b-'a' < 26 || b-'0' < 10
}

// normWriter accumulates normalised text. sepAt is the offset of the first
// separator dropped since the last ASCII letter or digit was written, or
// -1; a space is written for it only if the next thing written is an ASCII
// letter or digit too.
type normWriter struct {
	dst       []byte
	offs      []int
	wantOffs  bool
	sepAt     int
	lastAlnum bool
}

// alnum writes an ASCII letter or digit that came from offset at.
func (w *normWriter) alnum(b byte, at int) {
	if w.lastAlnum && w.sepAt >= 0 {
		w.dst = append(w.dst, ' ')
		if w.wantOffs {
			w.offs = append(w.offs, w.sepAt)
		}
	}
	w.dst = append(w.dst, b)
	if w.wantOffs {
		w.offs = append(w.offs, at)
	}
	w.lastAlnum, w.sepAt = true, -1
}

// other writes the bytes of one or more non-ASCII runes (or a replacement
// that may mix in ASCII) that came from offset at.
func (w *normWriter) other(b string, at int) {
	for k := 0; k < len(b); k++ {
		if isASCIIAlnum(b[k]) {
			w.alnum(b[k], at)
			continue
		}
		if utf8.RuneStart(b[k]) {
			w.lastAlnum, w.sepAt = false, -1
		}
		w.dst = append(w.dst, b[k])
		if w.wantOffs {
			w.offs = append(w.offs, at)
		}
	}
}

// sep records a dropped separator at offset at.
func (w *normWriter) sep(at int) {
	if w.lastAlnum && w.sepAt < 0 {
		w.sepAt = at
	}
}

// appendNorm appends the normalised form of s to dst and, if wantOffs, for
// every byte appended the offset in s of the rune it came from to offs. It
// is the one definition of normalisation in this package: keywords, the
// exact path of the matcher and Normalize all go through it.
func (t *foldTable) appendNorm(dst []byte, offs []int, s string, wantOffs bool) ([]byte, []int) {
	w := normWriter{dst: dst, offs: offs, wantOffs: wantOffs, sepAt: -1}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case isASCIIAlnum(b):
				w.alnum(b, i)
			case b-'A' < 26:
				w.alnum(b+'a'-'A', i)
			default:
				w.sep(i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		e := entSep // invalid UTF-8 separates, like U+FFFD would
		if r != utf8.RuneError || size > 1 {
			e = int(t.lookup(r))
		}
		switch e {
		case entKeep:
			// A kept non-ASCII rune: no letters to fold, no space to write.
			w.dst = append(w.dst, s[i:i+size]...)
			if w.wantOffs {
				for range size {
					w.offs = append(w.offs, i)
				}
			}
			w.lastAlnum, w.sepAt = false, -1
		case entIgnore:
		case entSep:
			w.sep(i)
		default:
			w.other(t.repl[e-entRepl], i)
		}
		i += size
	}
	return w.dst, w.offs
}

// Normalize returns the normalised form of s, as the matcher sees it with
// default Options, and for every byte of it the byte offset in s of the rune
// it came from. The offsets slice has one more element than the normalised
// text: offs[len(norm)] is len(s). See the package documentation for the
// rules.
func Normalize(s string) (string, []int) {
	return tableFor(false).normalize(s)
}

func (t *foldTable) normalize(s string) (string, []int) {
	norm, offs := t.appendNorm(make([]byte, 0, len(s)), make([]int, 0, len(s)+1), s, true)
	return string(norm), append(offs, len(s))
}

// endOf returns the offset in s just after the rune that starts at start.
func endOf(s string, start int) int {
	_, size := utf8.DecodeRuneInString(s[start:])
	return start + size
}
