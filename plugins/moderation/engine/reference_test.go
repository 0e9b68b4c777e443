package engine

import (
	"cmp"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// This file holds naive reference implementations of the documented
// semantics. They share nothing with the engine but the generated data
// (foldRanges, foldStrings, t2sPairs): no two-level table, no automaton, no
// fast paths. Fuzz tests compare the engine against them.

// refEntry finds r in foldRanges by binary search and returns its kind and
// replacement.
func refEntry(r rune, t2s map[rune]rune) (kind uint8, repl string) {
	i := sort.Search(len(foldRanges), func(i int) bool { return foldRanges[i].hi >= r })
	kind = kindKeep
	if i < len(foldRanges) && foldRanges[i].lo <= r {
		g := foldRanges[i]
		kind = g.kind
		switch g.kind {
		case kindDelta:
			repl = string(r + g.arg)
		case kindRune:
			repl = string(g.arg)
		case kindString:
			repl = foldStrings[g.arg]
		}
	}
	if kind == kindKeep {
		repl = string(r)
	}
	if t2s != nil && repl != "" {
		rs := []rune(repl)
		for i, c := range rs {
			if s, ok := t2s[c]; ok {
				rs[i] = s
			}
		}
		repl = string(rs)
	}
	return kind, repl
}

var refT2S = decodeT2S()

// refNormalize is Normalize written as the documentation reads.
func refNormalize(s string, tradToSimp bool) (string, []int) {
	var t2s map[rune]rune
	if tradToSimp {
		t2s = refT2S
	}
	var out []byte
	var offs []int
	pendingSep := -1 // offset of the first separator since the last kept rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		kind, repl := uint8(kindSep), ""
		if r != utf8.RuneError || size > 1 {
			kind, repl = refEntry(r, t2s)
		}
		switch kind {
		case kindIgnore:
		case kindSep:
			if pendingSep < 0 {
				pendingSep = i
			}
		default:
			if pendingSep >= 0 && len(out) > 0 && isASCIIAlnum(out[len(out)-1]) && isASCIIAlnum(repl[0]) {
				out = append(out, ' ')
				offs = append(offs, pendingSep)
			}
			pendingSep = -1
			for k := 0; k < len(repl); k++ {
				out = append(out, repl[k])
				offs = append(offs, i)
			}
		}
		i += size
	}
	return string(out), append(offs, len(s))
}

// refMatch is Matcher.Match written as the documentation reads: normalise,
// then try every keyword at every position.
func refMatch(patterns []Pattern, opts Options, text string) []Hit {
	norm, offs := refNormalize(text, opts.TradToSimp)
	type occ struct {
		pat, start, end int
		allow           bool
	}
	var occs []occ
	for pi, p := range patterns {
		if p.Regex {
			for _, loc := range regexp.MustCompile(p.Text).FindAllStringIndex(norm, -1) {
				if loc[0] < loc[1] {
					occs = append(occs, occ{pi, loc[0], loc[1], p.Allow})
				}
			}
			continue
		}
		kn, _ := refNormalize(p.Text, opts.TradToSimp)
		k := strings.ReplaceAll(kn, " ", "")
		for s := 0; s < len(norm); s++ {
			if norm[s] == ' ' {
				continue
			}
			j, n := s, 0
			for n < len(k) && j < len(norm) {
				if norm[j] == ' ' {
					j++
					continue
				}
				if norm[j] != k[n] {
					break
				}
				j++
				n++
			}
			if n < len(k) {
				continue
			}
			if isASCIIAlnum(k[0]) && s > 0 && isASCIIAlnum(norm[s-1]) {
				continue
			}
			if isASCIIAlnum(k[len(k)-1]) && j < len(norm) && isASCIIAlnum(norm[j]) {
				continue
			}
			occs = append(occs, occ{pi, s, j, p.Allow})
		}
	}
	var hits []Hit
	for _, o := range occs {
		if o.allow {
			continue
		}
		inside := false
		for _, a := range occs {
			if a.allow && a.start <= o.start && o.end <= a.end {
				inside = true
			}
		}
		if inside {
			continue
		}
		last := offs[o.end-1]
		_, size := utf8.DecodeRuneInString(text[last:])
		hits = append(hits, Hit{Pattern: o.pat, Category: patterns[o.pat].Category, Start: offs[o.start], End: last + size})
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), cmp.Compare(a.Pattern, b.Pattern))
	})
	return slices.Compact(hits)
}

// runeStarts returns the offsets at which decoding text from the start
// begins a rune (invalid bytes count as one-byte runes), plus len(text).
func runeStarts(text string) map[int]bool {
	starts := map[int]bool{len(text): true}
	for i := 0; i < len(text); {
		starts[i] = true
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
	}
	return starts
}
