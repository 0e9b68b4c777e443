package engine

import (
	"cmp"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Pattern is one entry of a word list.
type Pattern struct {
	// Text is a keyword, normalised like the text it is matched against,
	// or, if Regex is set, an RE2 expression (Go regexp syntax) matched
	// against the normalised text.
	Text string
	// Regex makes Text a regular expression.
	Regex bool
	// Category is copied into every Hit of the pattern; the moderation
	// plugin attaches its action to it.
	Category string
	// Allow makes the pattern an allow-list phrase: it never produces a
	// Hit itself, and suppresses every Hit that lies inside one of its
	// occurrences.
	Allow bool
}

// Options change how text and keywords are normalised.
type Options struct {
	// TradToSimp maps traditional Chinese characters to simplified ones,
	// one character at a time (OpenCC's TSCharacters table), after the
	// other folding.
	TradToSimp bool
}

// Hit is one occurrence of a deny pattern, or one detection of a detector.
type Hit struct {
	// Pattern is the index of the pattern in the slice given to Compile,
	// or one of the Detected* constants for the detectors.
	Pattern int
	// Category is the pattern's Category, or the detector's category.
	Category string
	// Start and End are byte offsets in the original text, at rune
	// boundaries: text[Start:End] is the evidence.
	Start, End int
}

// Matcher finds the patterns of one word list in messages. It is immutable
// and safe for concurrent use; reloading a word list means compiling a new
// Matcher and swapping it in (atomic.Pointer).
type Matcher struct {
	opts     Options
	patterns []Pattern
	fold     *foldTable
	d        *dfa
	kw       []keyword // DFA keyword id -> pattern
	regexes  []regexPattern
}

// keyword is a plain pattern as the automaton knows it.
type keyword struct {
	pat   int32
	nlen  int32 // normalised length in bytes, without spaces
	left  bool  // starts with an ASCII letter or digit: needs a word boundary before
	right bool  // ends with one: needs a word boundary after
	allow bool
}

type regexPattern struct {
	pat   int32
	re    *regexp.Regexp
	allow bool
}

// Compile builds a Matcher for patterns. A regular expression that does not
// parse, or that has a literal which can never occur in normalised text, is
// an error naming the pattern; so is a keyword that normalises to nothing.
func Compile(patterns []Pattern, opts Options) (*Matcher, error) {
	m := &Matcher{
		opts:     opts,
		patterns: slices.Clone(patterns),
		fold:     tableFor(opts.TradToSimp),
	}
	var texts []string
	hasAllowRegex := false
	for i, p := range patterns {
		if p.Regex {
			re, err := m.compileRegex(p.Text)
			if err != nil {
				return nil, fmt.Errorf("engine: pattern %d (%q): %w", i, p.Text, err)
			}
			m.regexes = append(m.regexes, regexPattern{pat: int32(i), re: re, allow: p.Allow})
			hasAllowRegex = hasAllowRegex || p.Allow
			continue
		}
		n := m.keywordForm(p.Text)
		switch {
		case n == "":
			return nil, fmt.Errorf("engine: pattern %d (%q): nothing is left after normalisation", i, p.Text)
		case len(n) > maxKeywordLen:
			return nil, fmt.Errorf("engine: pattern %d (%q): longer than %d bytes after normalisation", i, p.Text, maxKeywordLen)
		}
		texts = append(texts, n)
		m.kw = append(m.kw, keyword{
			pat:   int32(i),
			nlen:  int32(len(n)),
			left:  isASCIIAlnum(n[0]),
			right: isASCIIAlnum(n[len(n)-1]),
			allow: p.Allow,
		})
	}
	flags := make([]kwFlags, len(m.kw))
	suppressible := m.suppressible(texts, hasAllowRegex)
	for i, k := range m.kw {
		flags[i] = kwFlags{deny: !k.allow, check: k.left || k.right || suppressible[i]}
	}
	d, err := buildDFA(texts, flags, &m.fold.slow, m.fold.alias)
	if err != nil {
		return nil, err
	}
	m.d = d
	return m, nil
}

// keywordForm is a keyword as the automaton stores it: normalised, with the
// word-separating spaces removed (spaces inside a keyword never matter).
func (m *Matcher) keywordForm(s string) string {
	n, _ := m.fold.appendNorm(nil, nil, s, false)
	return strings.ReplaceAll(string(n), " ", "")
}

// suppressible reports, per keyword, whether some allow phrase could contain
// one of its occurrences; only those need the exact path to be ruled out.
func (m *Matcher) suppressible(texts []string, hasAllowRegex bool) []bool {
	out := make([]bool, len(texts))
	byText := map[string][]int{}
	for i, k := range m.kw {
		if !k.allow {
			if hasAllowRegex {
				out[i] = true
			}
			byText[texts[i]] = append(byText[texts[i]], i)
		}
	}
	for i, k := range m.kw {
		if !k.allow {
			continue
		}
		a := texts[i]
		for s := 0; s < len(a); s++ {
			if !utf8.RuneStart(a[s]) {
				continue
			}
			for e := s + 1; e <= len(a); e++ {
				for _, j := range byText[a[s:e]] {
					out[j] = true
				}
			}
		}
	}
	return out
}

// compileRegex compiles an expression and rejects literals that normalised
// text never contains (upper case, punctuation), which would make the
// expression silently never match.
func (m *Matcher) compileRegex(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	var bad rune = -1
	var walk func(*syntax.Regexp)
	walk = func(r *syntax.Regexp) {
		if r.Op == syntax.OpLiteral {
			for _, c := range r.Rune {
				if r.Flags&syntax.FoldCase != 0 {
					c = unicode.ToLower(c)
				}
				if bad < 0 && !m.occursNormalised(c) {
					bad = c
				}
			}
		}
		for _, s := range r.Sub {
			walk(s)
		}
	}
	walk(tree)
	if bad >= 0 {
		return nil, fmt.Errorf("literal %q never occurs in normalised text (lower-case, without punctuation; see SEMANTICS.md)", bad)
	}
	return re, nil
}

func (m *Matcher) occursNormalised(c rune) bool {
	if c < utf8.RuneSelf {
		return c == ' ' || isASCIIAlnum(byte(c))
	}
	return m.fold.lookup(c) == entKeep
}

// Pattern returns the i-th pattern given to Compile.
func (m *Matcher) Pattern(i int) Pattern { return m.patterns[i] }

// Len returns the number of patterns given to Compile.
func (m *Matcher) Len() int { return len(m.patterns) }

// Options returns the options the Matcher was compiled with.
func (m *Matcher) Options() Options { return m.opts }

// Normalize is the package-level Normalize with the Matcher's Options.
func (m *Matcher) Normalize(s string) (string, []int) { return m.fold.normalize(s) }

// Any reports whether text has at least one Hit. It is the fast path: most
// messages are answered by one scan of the automaton without building the
// normalised text.
func (m *Matcher) Any(text string) bool {
	r := m.scan(text)
	if r == scanSure {
		return true
	}
	if r == scanNone && len(m.regexes) == 0 {
		return false
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	return len(m.exact(text, sc)) > 0
}

// Match appends every Hit of text to dst and returns it. Hits are ordered by
// Start, then End, then Pattern, and there is one Hit per pattern and span.
func (m *Matcher) Match(text string, dst []Hit) []Hit {
	if len(m.regexes) == 0 && m.scan(text) == scanNone {
		return dst
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	return append(dst, m.exact(text, sc)...)
}

// scratch holds the buffers of the exact path, reused through a pool.
type scratch struct {
	norm []byte
	offs []int
	occ  []occurrence
	hits []Hit
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// occurrence is a match in normalised text, [start, end).
type occurrence struct {
	pat        int32
	start, end int
	allow      bool
}

// exact normalises text with offsets, finds every occurrence of every
// pattern in it, applies word boundaries and allow phrases and maps the
// spans back to text. The result lives in sc.
func (m *Matcher) exact(text string, sc *scratch) []Hit {
	norm, offs := m.fold.appendNorm(sc.norm[:0], sc.offs[:0], text, true)
	sc.norm, sc.offs = norm, offs
	occ := sc.occ[:0]
	d := m.d
	if len(m.kw) > 0 {
		s := d.root
		for i := 0; i < len(norm); i++ {
			s = d.trans[s+d.normClass[norm[i]]]
			if s < d.firstOut {
				continue
			}
			end := i + 1
			for o := d.outIndex(s); o >= 0; o = d.outNext[o] {
				for _, ki := range d.outList[d.outStart[o]:d.outStart[o+1]] {
					k := &m.kw[ki]
					start := end
					for n := k.nlen; n > 0; {
						start--
						if norm[start] != ' ' {
							n--
						}
					}
					if k.left && start > 0 && isASCIIAlnum(norm[start-1]) {
						continue
					}
					if k.right && end < len(norm) && isASCIIAlnum(norm[end]) {
						continue
					}
					occ = append(occ, occurrence{pat: k.pat, start: start, end: end, allow: k.allow})
				}
			}
		}
	}
	for _, r := range m.regexes {
		for _, loc := range r.re.FindAllIndex(norm, -1) {
			if loc[0] < loc[1] {
				occ = append(occ, occurrence{pat: r.pat, start: loc[0], end: loc[1], allow: r.allow})
			}
		}
	}
	sc.occ = occ
	hits := sc.hits[:0]
	for _, o := range occ {
		if o.allow || suppressed(o, occ) {
			continue
		}
		hits = append(hits, Hit{
			Pattern:  int(o.pat),
			Category: m.patterns[o.pat].Category,
			Start:    offs[o.start],
			End:      endOf(text, offs[o.end-1]),
		})
	}
	hits = sortHits(hits)
	sc.hits = hits
	return hits
}

// suppressed reports whether a deny occurrence lies inside an allow one.
func suppressed(o occurrence, occ []occurrence) bool {
	for _, a := range occ {
		if a.allow && a.start <= o.start && o.end <= a.end {
			return true
		}
	}
	return false
}

// sortHits orders hits by Start, End, Pattern and drops duplicates (a
// pattern found twice in text that one original rune produced).
func sortHits(hits []Hit) []Hit {
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), cmp.Compare(a.Pattern, b.Pattern))
	})
	return slices.CompactFunc(hits, func(a, b Hit) bool {
		return a.Start == b.Start && a.End == b.End && a.Pattern == b.Pattern
	})
}
