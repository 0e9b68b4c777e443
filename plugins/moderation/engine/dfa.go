package engine

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// The automaton is an Aho-Corasick DFA over bytes of normalised keywords,
// stored as one table of uint32 state ids that are offsets into it, so a
// step is trans[state+class] with no multiplication. Rows are numbered by
// what the state reports, so one comparison tells the scanner whether to
// look closer:
//
//	[0, firstOut)          nothing ends here
//	[firstOut, firstDeny)  only allow phrases end here
//	[firstDeny, firstSure) a deny keyword ends here, but it needs a word
//	                       boundary check or could be inside an allow phrase
//	[firstSure, ...)       a deny keyword ends here unconditionally
//
// Byte classes: every byte used by some keyword has its own class; unused
// bytes share a class per kind (ASCII letter or digit, continuation byte,
// lead byte of each length, never-valid byte). Two extra columns fold
// normalisation into the table: classStay maps a state to itself (ASCII
// separators, and the space of normalised text), and classSlow maps it to
// itself with slowBit set (lead bytes of runes that must be decoded and
// folded first).
//
// With TradToSimp, traditional characters are not decoded either: each
// edge of a keyword's character has alias paths beside it, one per
// traditional character that folds to it (foldTable.alias), so the table
// reads 發 like 发 and a state still stands for a normalised string.
//
// The automaton also validates UTF-8, so the scanner needs no separate pass.
// Every state knows whether it sits between characters or how many
// continuation bytes it still expects; pseudo-roots P1..P3 stand for "the
// root, inside a character that starts no keyword". A state between
// characters has a row of the columns of every byte but the continuation
// bytes, a state inside a character one of the continuation bytes' only
// (buildDFA explains the layout), and a byte of the wrong kind for the
// state (a stray continuation byte, a character cut off) makes the step
// fall outside the table: the scanner checks for that instead of the
// bounds and sends the message to the exact path, as it does when a region
// ends inside a character. A never-valid byte between characters stays
// (normalisation drops it as a separator). Lead bytes whose sequences have
// restricted second bytes (E0, ED, F0, F4) are always decoded by the slow
// path, so what the table accepts is valid.
const (
	classOther   = iota // unused ASCII letter or digit
	classStay           // ASCII separator; the space of normalised text
	classSlow           // lead byte that must be decoded (raw text only)
	classCont           // unused continuation byte
	classLead2          // unused lead byte of a 2-byte sequence
	classLead3          // ... of a 3-byte sequence
	classLead4          // ... of a 4-byte sequence
	classInvalid        // C0, C1, F5..FF: never part of valid UTF-8
	numFixed

	slowBit = 1 << 31

	// maxKeywordLen bounds a keyword's normalised length, which keeps state
	// depths in a uint16.
	maxKeywordLen = 1024
)

// errTooLarge is returned when the automaton would need state ids above
// 2^31.
var errTooLarge = errors.New("engine: too many keywords for one automaton")

type dfa struct {
	trans []uint32
	root  uint32

	bBase  uint32 // id of the first boundary row; mid ids are below
	wb, wm uint32 // columns of a boundary row and of a mid row

	firstOut, firstDeny, firstSure uint32

	rawClass  [256]uint32 // bytes of original text
	realClass [256]uint32 // bytes of normalised text and fold replacements
	normClass [256]uint32 // realClass with the space of normalised text staying

	// outputs, per row from firstOut on: own keywords in
	// outList[outStart[i]:outStart[i+1]], then those of row outNext[i]
	// (a row index, or -1).
	outStart []uint32
	outList  []int32
	outNext  []int32

	depth []uint16 // per boundary row: normalised length of the string it stands for
}

// kwFlags says what a keyword needs when it is found.
type kwFlags struct {
	deny  bool // a deny keyword, not an allow phrase
	check bool // needs a boundary check or may be suppressed by an allow phrase
}

// utf8Kind sorts bytes for validation: 0 ASCII, 1 continuation, 2..4 lead
// of that length, 5 never valid.
func utf8Kind(b byte) int {
	switch {
	case b < 0x80:
		return 0
	case b < 0xC0:
		return 1
	case b < 0xC2:
		return 5
	case b < 0xE0:
		return 2
	case b < 0xF0:
		return 3
	case b < 0xF5:
		return 4
	}
	return 5
}

// chars calls f with each character of a normalised keyword: its offset
// and its UTF-8.
func chars(k string, f func(i int, c string)) {
	for i := 0; i < len(k); {
		size := 1
		if k[i] >= utf8.RuneSelf {
			_, size = utf8.DecodeRuneInString(k[i:])
		}
		f(i, k[i:i+size])
		i += size
	}
}

// buildDFA builds the automaton for keywords (normalised, spaces removed).
// slowLead marks the lead bytes that the fast path must decode. alias lists,
// per character, the other spellings that normalise to it and that the
// automaton reads directly (traditional characters with TradToSimp): the
// trie gets a path of their bytes beside each edge of the character, ending
// in the same node, so the automaton is a DAG whose states still stand for
// normalised strings.
func buildDFA(keywords []string, flags []kwFlags, slowLead *[256]bool, alias map[string][]string) (*dfa, error) {
	d := &dfa{}
	var used [256]bool
	aliasBytes := 0 // upper bound of the nodes alias paths add
	for _, k := range keywords {
		for i := 0; i < len(k); i++ {
			used[k[i]] = true
		}
		if alias != nil {
			chars(k, func(_ int, c string) {
				for _, a := range alias[c] {
					aliasBytes += len(a)
					for j := 0; j < len(a); j++ {
						used[a[j]] = true
					}
				}
			})
		}
	}
	ncls := uint32(numFixed)
	isCont := make([]bool, numFixed, 256)
	isCont[classCont] = true
	leadLen := make([]int, numFixed, 256) // per class: sequence length of a lead class, else 0
	leadLen[classLead2], leadLen[classLead3], leadLen[classLead4] = 2, 3, 4
	for b := range 256 {
		c := byte(b)
		if used[b] {
			d.realClass[b] = ncls
			isCont = append(isCont, utf8Kind(c) == 1)
			ll := utf8Kind(c)
			if ll < 2 || ll > 4 {
				ll = 0
			}
			leadLen = append(leadLen, ll)
			ncls++
			continue
		}
		switch utf8Kind(c) {
		case 0:
			d.realClass[b] = classOther
		case 1:
			d.realClass[b] = classCont
		case 2:
			d.realClass[b] = classLead2
		case 3:
			d.realClass[b] = classLead3
		case 4:
			d.realClass[b] = classLead4
		default:
			d.realClass[b] = classInvalid
		}
	}
	d.normClass = d.realClass
	d.normClass[' '] = classStay
	for b := range 256 {
		c := byte(b)
		switch {
		case c-'a' < 26 || c-'0' < 10:
			d.rawClass[b] = d.realClass[b]
		case c-'A' < 26:
			d.rawClass[b] = d.realClass[c+'a'-'A']
		case c < 0x80:
			d.rawClass[b] = classStay
		case slowLead[b] || c == 0xE0 || c == 0xED || c == 0xF0 || c == 0xF4:
			d.rawClass[b] = classSlow
		default:
			d.rawClass[b] = d.realClass[b]
		}
	}

	// The trie, dense from the start: gt[node*stride+class], 0 = none (no
	// edge leads back to the root, node 0). Nodes 1..3 are the
	// pseudo-roots P1..P3, node 4 the bad state, the target of the steps of
	// the wrong kind, which the final layout leaves out (so no state leads
	// to it there).
	const (
		nodeBad   = 4
		firstTrie = 5
	)
	total := firstTrie + aliasBytes
	for _, k := range keywords {
		total += len(k)
	}
	if uint64(total)*uint64(ncls) >= slowBit {
		return nil, errTooLarge
	}
	gt := make([]uint32, firstTrie*ncls, 2*firstTrie*ncls)
	depth := make([]uint16, firstTrie)
	need := make([]uint8, firstTrie) // continuation bytes still expected
	need[1], need[2], need[3] = 1, 2, 3
	own := make([][]int32, firstTrie)
	nodes := uint32(firstTrie)
	// child follows byte b from node n, adding a node if there is none.
	child := func(n uint32, b byte) uint32 {
		c := d.realClass[b]
		next := gt[n*ncls+c]
		if next == 0 {
			next = nodes
			nodes++
			gt = append(gt, make([]uint32, ncls)...)
			depth = append(depth, depth[n]+1)
			switch kind := utf8Kind(b); kind {
			case 0:
				need = append(need, 0)
			case 1:
				need = append(need, need[n]-1)
			default:
				need = append(need, uint8(kind-1))
			}
			own = append(own, nil)
			gt[n*ncls+c] = next
		}
		return next
	}
	for ki, k := range keywords {
		n := uint32(0)
		for i := 0; i < len(k); i++ {
			n = child(n, k[i])
		}
		own[n] = append(own[n], int32(ki))
	}
	// Alias paths: beside each edge of a character c from node n to node x,
	// the bytes of every alias of c lead from n to x too. An alias is never
	// longer than c, so every node is still deeper than the nodes it is
	// reached from, and a node reached by either path stands for the same
	// normalised string: its failure link, computed from either, is the
	// same.
	collide := false
	if alias != nil {
		for _, k := range keywords {
			n := uint32(0)
			chars(k, func(i int, c string) {
				x := n
				for j := 0; j < len(c); j++ {
					x = child(x, c[j])
				}
				for _, a := range alias[c] {
					p := n
					for j := 0; j < len(a)-1; j++ {
						p = child(p, a[j])
					}
					e := p*ncls + d.realClass[a[len(a)-1]]
					switch gt[e] {
					case 0:
						gt[e] = x
					case x:
					default:
						collide = true // cannot happen: keywords are normalised, aliases are not
					}
				}
				n = x
			})
		}
	}
	if collide {
		return nil, errors.New("engine: internal error: an alias path collides with a keyword path")
	}

	// Fixed rows: the root, the pseudo-roots and the bad state.
	for c := range ncls {
		gt[nodeBad*ncls+c] = nodeBad
		for k := uint32(1); k <= 3; k++ {
			switch {
			case isCont[c]:
				gt[k*ncls+c] = k - 1
			default:
				gt[k*ncls+c] = nodeBad
			}
		}
		if gt[c] == 0 {
			switch {
			case leadLen[c] > 0:
				gt[c] = uint32(leadLen[c] - 1)
			case c == classSlow:
				gt[c] = slowBit
			}
		}
	}

	// Breadth-first: failure links, complete transitions and what each node
	// reports (its own keywords and, through outLink, those of the nearest
	// failure ancestor that reports anything).
	fail := make([]uint32, nodes)
	outLink := make([]int32, nodes) // nearest proper suffix node with output, or -1
	hasOut := make([]bool, nodes)
	hasDeny := make([]bool, nodes)
	hasSure := make([]bool, nodes)
	for n := range outLink[:firstTrie] {
		outLink[n] = -1
	}
	// Nodes in order of depth: breadth-first for a trie, and for the DAG
	// of alias paths an order in which a node comes after every node it is
	// reached from and every node its failure link can lead to.
	queue := make([]uint32, 0, nodes)
	for n := uint32(firstTrie); n < nodes; n++ {
		queue = append(queue, n)
	}
	slices.SortStableFunc(queue, func(a, b uint32) int { return cmp.Compare(depth[a], depth[b]) })
	failSet := make([]bool, nodes)
	for c := uint32(numFixed); c < ncls; c++ {
		if ch := gt[c]; ch >= firstTrie {
			fail[ch] = uint32(need[ch]) // the root, or the pseudo-root inside a character
			failSet[ch] = true
		}
	}
	for _, n := range queue {
		f := fail[n]
		if hasOut[f] {
			outLink[n] = int32(f)
		} else {
			outLink[n] = outLink[f]
		}
		hasOut[n] = len(own[n]) > 0 || hasOut[f]
		hasDeny[n] = hasDeny[f]
		hasSure[n] = hasSure[f]
		for _, ki := range own[n] {
			if flags[ki].deny {
				hasDeny[n] = true
				if !flags[ki].check {
					hasSure[n] = true
				}
			}
		}
		row := n * ncls
		frow := f * ncls
		for c := range ncls {
			ch := gt[row+c]
			switch {
			case ch >= firstTrie && c >= numFixed:
				if !failSet[ch] {
					fail[ch] = gt[frow+c]
					failSet[ch] = true
				}
			case need[n] > 0 && !isCont[c]:
				gt[row+c] = nodeBad
			case need[n] == 0 && (isCont[c] || c == classStay || c == classInvalid):
				gt[row+c] = n
			case need[n] == 0 && c == classSlow:
				gt[row+c] = n | slowBit
			default:
				gt[row+c] = gt[frow+c]
			}
		}
	}

	// Two kinds of rows: a state between characters (need 0: the root,
	// the bad state, a node after a whole character) reads only bytes that
	// are not continuation bytes in valid UTF-8, a state inside a character
	// only continuation bytes. So a row holds only the columns of its kind:
	// boundary rows the other classes, mid rows the continuation classes,
	// which makes the table about half as big as one with every column in
	// every row. The mid rows come first, then the boundary rows by rank:
	// nothing, allow-only, deny needing a check (and the bad state), sure
	// deny.
	//
	// State ids are offsets into trans, those of boundary rows plus K =
	// len(trans), and the class of a byte that is not a continuation byte
	// is its column minus K (modulo 2^32). A step from state s on byte b is
	// trans[s+class[b]]: for a state and a byte of the same kind the sum is
	// the offset of the entry, for different kinds (malformed UTF-8: a
	// stray continuation byte, a cut-off character) it is K or more, out of
	// the table, which the scanner checks instead of the bounds. Boundary
	// ids are all above mid ids, so one comparison still tells the rank.
	rank := func(n uint32) int {
		switch {
		case n == nodeBad:
			return 2
		case hasSure[n]:
			return 3
		case hasDeny[n]:
			return 2
		case hasOut[n]:
			return 1
		}
		return 0
	}
	col := make([]uint32, ncls)
	var wm, wb uint32
	unusedCont := false
	for b := 0x80; b < 0xC0; b++ {
		unusedCont = unusedCont || !used[b]
	}
	for c := range ncls {
		switch {
		case !isCont[c]:
			col[c] = wb
			wb++
		case c != classCont || unusedCont:
			col[c] = wm
			wm++
		}
	}
	order := append([]uint32{0, 1, 2, 3, nodeBad}, queue...)
	var nMid uint32
	var counts [4]uint32
	for n := range nodes {
		if need[n] > 0 {
			nMid++
		} else {
			counts[rank(n)]++
		}
	}
	var starts [4]uint32
	for r := 1; r < 4; r++ {
		starts[r] = starts[r-1] + counts[r-1]
	}
	nB := starts[3] + counts[3]
	lm := uint64(nMid) * uint64(wm)
	size := lm + uint64(nB)*uint64(wb)
	if 2*size >= slowBit {
		return nil, errTooLarge
	}
	k := uint32(size)
	d.bBase = k + uint32(lm)
	d.wb, d.wm = wb, wm
	// Within a kind and rank, rows follow breadth-first order: the shallow
	// states, which almost every byte of text visits, share cache lines
	// and stay in cache, while the deep ones that a scan rarely reaches sit
	// apart.
	id := make([]uint32, nodes)   // state id of each node
	bRow := make([]uint32, nodes) // boundary row number of each boundary node
	next := starts
	midNext := uint32(0)
	for _, n := range order {
		if need[n] > 0 {
			id[n] = midNext * wm
			midNext++
			continue
		}
		r := rank(n)
		bRow[n] = next[r]
		id[n] = d.bBase + next[r]*wb
		next[r]++
	}
	d.firstOut = d.bBase + starts[1]*wb
	d.firstDeny = d.bBase + starts[2]*wb
	d.firstSure = d.bBase + starts[3]*wb
	d.root = id[0]

	d.trans = make([]uint32, size)
	d.depth = make([]uint16, nB)
	for n := range nodes {
		off := id[n]
		if need[n] == 0 {
			off -= k
			d.depth[bRow[n]] = depth[n]
		}
		old := n * ncls
		for c := range ncls {
			if isCont[c] != (need[n] > 0) || (c == classCont && !unusedCont) {
				continue
			}
			t := gt[old+c]
			d.trans[off+col[c]] = id[t&^slowBit] | t&slowBit
		}
	}
	for _, cls := range []*[256]uint32{&d.rawClass, &d.realClass, &d.normClass} {
		for b, c := range cls {
			if isCont[c] {
				cls[b] = col[c]
			} else {
				cls[b] = col[c] - k
			}
		}
	}

	firstOutRow := starts[1]
	nOut := nB - firstOutRow
	d.outStart = make([]uint32, nOut+1)
	d.outNext = make([]int32, nOut)
	byRow := make([]uint32, nOut) // node of each output row
	for n := range nodes {
		if need[n] == 0 && bRow[n] >= firstOutRow {
			byRow[bRow[n]-firstOutRow] = n
		}
	}
	for i, n := range byRow {
		d.outStart[i] = uint32(len(d.outList))
		d.outList = append(d.outList, own[n]...)
		d.outNext[i] = -1
		if l := outLink[n]; l >= 0 {
			d.outNext[i] = int32(bRow[l] - firstOutRow)
		}
	}
	d.outStart[nOut] = uint32(len(d.outList))
	return d, nil
}

// outIndex returns the output row of a state from firstOut on.
func (d *dfa) outIndex(s uint32) int32 { return int32((s - d.firstOut) / d.wb) }

// depthOf returns the normalised length of the string a boundary state
// stands for.
func (d *dfa) depthOf(s uint32) int { return int(d.depth[(s-d.bBase)/d.wb]) }

// between reports whether s is a state between characters (not inside one).
func (d *dfa) between(s uint32) bool { return s >= d.bBase }

func (d *dfa) String() string {
	return fmt.Sprintf("dfa{boundary rows: %d of %d columns, mid rows: %d of %d, table: %d bytes}",
		len(d.depth), d.wb, (d.bBase-uint32(len(d.trans)))/max(d.wm, 1), d.wm, 4*len(d.trans))
}
