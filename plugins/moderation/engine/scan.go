package engine

import "unicode/utf8"

// scanResult is what the fast path learnt about a message.
type scanResult uint8

const (
	scanNone  scanResult = iota // no deny keyword occurs
	scanCheck                   // a deny keyword occurs, but boundaries or allow phrases decide
	scanSure                    // a deny keyword occurs and counts
)

// lockStepMin is the message length from which the two halves of a message
// are scanned in lock-step. The scan is a chain of dependent table loads;
// two independent chains let the CPU overlap their cache misses.
const lockStepMin = 32

// scan runs the automaton over the original text with normalisation folded
// into the byte classes: ASCII separators stay in their state, upper case
// shares the lower-case class, and only lead bytes of runes that fold or drop
// take the decoding path. It reports the states a single scan of the
// normalised text would reach, so scanNone is exact.
func (m *Matcher) scan(text string) scanResult {
	if len(m.kw) == 0 {
		return scanNone
	}
	if !utf8.ValidString(text) {
		// The fast path relies on well-formed sequences; the exact path
		// treats each invalid byte as a separator.
		return scanCheck
	}
	d := m.d
	if len(text) < lockStepMin {
		_, r := m.scanRange(text, 0, len(text), d.root)
		return r
	}
	mid := len(text) / 2
	for !utf8.RuneStart(text[mid]) {
		mid++
	}

	trans := d.trans
	cls := &d.rawClass
	hot := d.firstDeny
	a, b := d.root, d.root
	i, j := 0, mid
	n := len(text)
	for i < mid && j < n {
		a = trans[a+cls[text[i]]]
		b = trans[b+cls[text[j]]]
		i++
		j++
		if a >= hot {
			if a < slowBit {
				return d.result(a)
			}
			var r scanResult
			if a, i, r = m.slowRune(text, i-1, a&^slowBit); r != scanNone {
				return r
			}
		}
		if b >= hot {
			if b < slowBit {
				return d.result(b)
			}
			var r scanResult
			if b, j, r = m.slowRune(text, j-1, b&^slowBit); r != scanNone {
				return r
			}
		}
	}
	var r scanResult
	if a, r = m.scanRange(text, i, mid, a); r != scanNone {
		return r
	}
	if _, r = m.scanRange(text, j, n, b); r != scanNone {
		return r
	}
	return m.bridge(text, mid, a)
}

// result classifies a deny state.
func (d *dfa) result(s uint32) scanResult {
	if s >= d.firstSure {
		return scanSure
	}
	return scanCheck
}

// scanRange runs the automaton over text[i:end] from state s.
func (m *Matcher) scanRange(text string, i, end int, s uint32) (uint32, scanResult) {
	d := m.d
	trans := d.trans
	cls := &d.rawClass
	hot := d.firstDeny
	for i < end {
		s = trans[s+cls[text[i]]]
		i++
		if s >= hot {
			if s < slowBit {
				return s, d.result(s)
			}
			var r scanResult
			if s, i, r = m.slowRune(text, i-1, s&^slowBit); r != scanNone {
				return s, r
			}
		}
	}
	return s, scanNone
}

// slowRune feeds the rune starting at text[i] to state s: decoded, looked up
// in the fold table, and fed as its replacement bytes (or not at all when it
// is dropped). It returns the new state and the offset after the rune.
func (m *Matcher) slowRune(text string, i int, s uint32) (uint32, int, scanResult) {
	r, size := utf8.DecodeRuneInString(text[i:])
	e := m.fold.lookup(r)
	switch e {
	case entIgnore, entSep:
		return s, i + size, scanNone
	case entKeep:
		s, res := m.feed(s, text[i:i+size])
		return s, i + size, res
	}
	s, res := m.feed(s, m.fold.repl[e-entRepl])
	return s, i + size, res
}

// feed runs normalised bytes through the automaton.
func (m *Matcher) feed(s uint32, b string) (uint32, scanResult) {
	d := m.d
	for k := 0; k < len(b); k++ {
		s = d.trans[s+d.realClass[b[k]]]
		if s >= d.firstDeny {
			return s, d.result(s)
		}
	}
	return s, scanNone
}

// bridge finds the occurrences that straddle the middle of a message. The
// second half was scanned from the root, so it missed keywords that started
// in the first half. The first half's state s at mid carries exactly those
// partial matches; bridge continues it until the state stands for no more
// normalised bytes than it has read past mid, at which point it is the state
// the second half had there, and everything after was already scanned.
func (m *Matcher) bridge(text string, mid int, s uint32) scanResult {
	d := m.d
	read := 0
	for i := mid; i < len(text) && int(d.depth[d.rowOf(s)]) > read; {
		c := text[i]
		if c < utf8.RuneSelf {
			if cls := d.rawClass[c]; cls != classStay {
				s = d.trans[s+cls]
				read++
				if s >= d.firstDeny {
					return d.result(s)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		var rep string
		switch e := m.fold.lookup(r); e {
		case entIgnore, entSep:
		case entKeep:
			rep = text[i : i+size]
		default:
			rep = m.fold.repl[e-entRepl]
		}
		var res scanResult
		if s, res = m.feed(s, rep); res != scanNone {
			return res
		}
		read += len(rep)
		i += size
	}
	return scanNone
}
