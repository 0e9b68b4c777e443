package engine

import "unicode/utf8"

// scanResult is what the fast path learnt about a message.
type scanResult uint8

const (
	scanNone  scanResult = iota // no deny keyword occurs
	scanCheck                   // a deny keyword occurs but boundaries or allow phrases decide, or the UTF-8 is malformed
	scanSure                    // a deny keyword occurs and counts
)

// The scan is one chain of dependent table loads, bound by the latency of
// the cache level the table lives in. A message is therefore cut into
// regions scanned in lock-step: independent chains whose loads the CPU
// overlaps. Each region's lane but the first first reads up to overlap
// bytes before its region (while the first lane reads as many of its own,
// longer, region), so that it usually arrives at the region with the state
// the previous lane has there; when it does not, bridge repairs the seam.
// On the benchmark corpus 6 bytes leave 2.8 % of seams to bridge (12 bytes:
// 0.1 %, 3 bytes: 8 %); a bridge costs a few sequential steps, a byte of
// overlap a round of all lanes, so the shorter overlap wins.
const (
	lanes2Min = 24 // from this length, two lanes
	lanes4Min = 64 // from this length, four lanes
	overlap   = 6  // bytes a lane reads before its region
)

// scan runs the automaton over the original text with normalisation folded
// into the byte classes: ASCII separators stay in their state, upper case
// shares the lower-case class, and only lead bytes of runes that fold or drop
// take the decoding path. It reports what a single scan of the normalised
// text would find, so scanNone is exact.
func (m *Matcher) scan(text string) scanResult {
	if len(m.kw) == 0 {
		return scanNone
	}
	n := len(text)
	lanes := 1
	switch {
	case n >= lanes4Min:
		lanes = 4
	case n >= lanes2Min:
		lanes = 2
	default:
		_, r := m.scanRange(text, 0, n, m.d.root)
		return r
	}
	// Region k is [cut[k], cut[k+1]), every cut at a rune start. While
	// lanes 1.. warm up on the bytes before their regions, lane 0 reads the
	// first bytes of its own, so its region is longer by as many.
	var cut [5]int
	step := (n - overlap) / lanes
	for k := 1; k < lanes; k++ {
		c := max(overlap+k*step, cut[k-1])
		for c < n && !utf8.RuneStart(text[c]) {
			c++
		}
		cut[k] = c
	}
	cut[lanes] = n

	var s [4]uint32
	var i, end [4]int
	s[0], end[0] = m.d.root, min(overlap, cut[1])
	for k := 1; k < lanes; k++ {
		w := max(cut[k]-overlap, cut[k-1])
		for w < cut[k] && !utf8.RuneStart(text[w]) {
			w++
		}
		s[k], i[k], end[k] = m.d.root, w, cut[k]
	}
	if r := m.lockstep(text, &s, &i, &end); r != scanNone {
		return r
	}
	warm := s
	// The regions themselves, lane 0 going on where it stopped (inside a
	// character, or past its warm-up end after a decoded rune).
	end[0] = cut[1]
	for k := 1; k < lanes; k++ {
		i[k], end[k] = cut[k], cut[k+1]
	}
	if r := m.lockstep(text, &s, &i, &end); r != scanNone {
		return r
	}
	for k := range lanes {
		if !m.d.between(s[k]) {
			return scanCheck // a character cut off at the end of a region
		}
	}
	for k := 1; k < lanes; k++ {
		if s[k-1] != warm[k] {
			if r := m.bridge(text, cut[k], s[k-1]); r != scanNone {
				return r
			}
		}
	}
	return scanNone
}

// lockstep advances up to four lanes, lane k over text[i[k]:end[k]] from
// state s[k], one byte each per round. It stops early when a lane reaches a
// deny state. A step whose sum falls outside the table (malformed UTF-8,
// see dfa.go) ends the scan with scanCheck.
func (m *Matcher) lockstep(text string, s *[4]uint32, i, end *[4]int) scanResult {
	d := m.d
	trans := d.trans
	cls := &d.rawClass
	hot := d.firstDeny
	s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
	i0, i1, i2, i3 := i[0], i[1], i[2], i[3]
	e0, e1, e2, e3 := end[0], end[1], end[2], end[3]
	var r scanResult
	for {
		if n := min(e0-i0, e1-i1, e2-i2, e3-i3); n > 0 {
			// Every lane has bytes left: rounds over slices of one length
			// need no per-lane checks (nor bounds checks) but one for a
			// state to look at, which ends them.
			t0 := text[i0 : i0+n]
			t1, t2, t3 := text[i1:i1+n], text[i2:i2+n], text[i3:i3+n]
			t1, t2, t3 = t1[:len(t0)], t2[:len(t0)], t3[:len(t0)]
			j := 0
			for j < len(t0) {
				x0 := s0 + cls[t0[j]]
				x1 := s1 + cls[t1[j]]
				x2 := s2 + cls[t2[j]]
				x3 := s3 + cls[t3[j]]
				if int(x0) >= len(trans) || int(x1) >= len(trans) || int(x2) >= len(trans) || int(x3) >= len(trans) {
					return scanCheck // malformed UTF-8
				}
				s0, s1, s2, s3 = trans[x0], trans[x1], trans[x2], trans[x3]
				j++
				if max(s0, s1, s2, s3) >= hot {
					break
				}
			}
			i0, i1, i2, i3 = i0+j, i1+j, i2+j, i3+j
		} else {
			// A lane has finished (or sits idle): a round of the others.
			more := false
			if i0 < e0 {
				x := s0 + cls[text[i0]]
				if int(x) >= len(trans) {
					return scanCheck // malformed UTF-8
				}
				s0 = trans[x]
				i0++
				more = true
			}
			if i1 < e1 {
				x := s1 + cls[text[i1]]
				if int(x) >= len(trans) {
					return scanCheck // malformed UTF-8
				}
				s1 = trans[x]
				i1++
				more = true
			}
			if i2 < e2 {
				x := s2 + cls[text[i2]]
				if int(x) >= len(trans) {
					return scanCheck // malformed UTF-8
				}
				s2 = trans[x]
				i2++
				more = true
			}
			if i3 < e3 {
				x := s3 + cls[text[i3]]
				if int(x) >= len(trans) {
					return scanCheck // malformed UTF-8
				}
				s3 = trans[x]
				i3++
				more = true
			}
			if !more {
				break
			}
		}
		if s0 >= hot {
			if s0 < slowBit {
				return d.result(s0)
			}
			if s0, i0, r = m.slowRune(text, i0-1, s0&^slowBit); r != scanNone {
				return r
			}
		}
		if s1 >= hot {
			if s1 < slowBit {
				return d.result(s1)
			}
			if s1, i1, r = m.slowRune(text, i1-1, s1&^slowBit); r != scanNone {
				return r
			}
		}
		if s2 >= hot {
			if s2 < slowBit {
				return d.result(s2)
			}
			if s2, i2, r = m.slowRune(text, i2-1, s2&^slowBit); r != scanNone {
				return r
			}
		}
		if s3 >= hot {
			if s3 < slowBit {
				return d.result(s3)
			}
			if s3, i3, r = m.slowRune(text, i3-1, s3&^slowBit); r != scanNone {
				return r
			}
		}
	}
	s[0], s[1], s[2], s[3] = s0, s1, s2, s3
	i[0], i[1], i[2], i[3] = i0, i1, i2, i3
	return scanNone
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
		x := s + cls[text[i]]
		if int(x) >= len(trans) {
			return s, scanCheck // malformed UTF-8
		}
		s = trans[x]
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
	if !d.between(s) {
		return s, scanCheck // a character cut off at the end
	}
	return s, scanNone
}

// slowRune feeds the rune starting at text[i] to state s: decoded, looked up
// in the fold table, and fed as its replacement bytes (or not at all when it
// is dropped). It returns the new state and the offset after the rune.
func (m *Matcher) slowRune(text string, i int, s uint32) (uint32, int, scanResult) {
	var r rune
	var size int
	// Three-byte sequences (CJK punctuation, kana, full-width forms) are
	// decoded inline. E0 and ED have restricted second bytes and go through
	// the general decoder.
	if b := text[i]; b > 0xE0 && b < 0xF0 && b != 0xED && i+2 < len(text) &&
		text[i+1]&0xC0 == 0x80 && text[i+2]&0xC0 == 0x80 {
		r, size = rune(b&0x0F)<<12|rune(text[i+1]&0x3F)<<6|rune(text[i+2]&0x3F), 3
	} else {
		r, size = utf8.DecodeRuneInString(text[i:])
	}
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

// bridge repairs a seam between two regions when the later lane's warm-up
// was too short to reach the state the earlier lane had at the seam (a long
// partial match, or many separators). It continues the earlier lane's state
// s from mid until the state stands for no more normalised bytes than it has
// read past mid: from there on it equals the later lane's state, which
// scanned the rest.
func (m *Matcher) bridge(text string, mid int, s uint32) scanResult {
	d := m.d
	read := 0
	for i := mid; i < len(text) && d.depthOf(s) > read; {
		c := text[i]
		if c < utf8.RuneSelf {
			if cls := d.rawClass[c]; cls != d.rawClass[' '] {
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
