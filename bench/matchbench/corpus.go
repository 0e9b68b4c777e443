package main

import (
	"math/rand/v2"
	"strings"

	"github.com/qunguan/qunguan/plugins/moderation/engine"
)

// The corpus imitates group chat: lines of about 100 bytes mixing runs of
// Chinese characters, English words, Chinese and ASCII punctuation, digits
// and emoji; one line in a hundred has a keyword planted in it. Keywords are
// about 70 % Chinese strings of 2-6 characters drawn from the same pool of
// 3,000 characters as the text, 30 % lower-case ASCII words of 4-10
// letters. Everything comes from one seeded generator, so every run and
// every matcher sees the same bytes.

const poolSize = 3000

var (
	cjkPunct   = []string{"，", "。", "！", "？", "、", "：", "“", "”", "（", "）", "…"}
	asciiPunct = []string{" ", " ", " ", ", ", ". ", "! ", "? ", " - ", ": "}
	emoji      = []string{"😀", "👍", "🎉", "🙏", "😂", "❤️", "🔥", "😊"}
)

// cjkPool draws poolSize distinct characters from the CJK Unified
// Ideographs block.
func cjkPool(rng *rand.Rand) []rune {
	seen := map[rune]bool{}
	pool := make([]rune, 0, poolSize)
	for len(pool) < poolSize {
		r := rune(0x4E00 + rng.IntN(0x9FA5-0x4E00+1))
		if !seen[r] {
			seen[r] = true
			pool = append(pool, r)
		}
	}
	return pool
}

func asciiWord(rng *rand.Rand, lo, hi int) string {
	n := lo + rng.IntN(hi-lo+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

func cjkRun(rng *rand.Rand, pool []rune, lo, hi int) string {
	n := lo + rng.IntN(hi-lo+1)
	var sb strings.Builder
	for range n {
		sb.WriteRune(pool[rng.IntN(len(pool))])
	}
	return sb.String()
}

// Keywords returns k distinct keywords.
func Keywords(k int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	pool := cjkPool(rng)
	seen := map[string]bool{}
	out := make([]string, 0, k)
	for len(out) < k {
		var w string
		if rng.IntN(100) < 70 {
			w = cjkRun(rng, pool, 2, 6)
		} else {
			w = asciiWord(rng, 4, 10)
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// Corpus returns lines of chat totalling at least mb million bytes, one in a
// hundred with one of keywords planted.
func Corpus(mb float64, keywords []string, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 1)) // the same pool as Keywords
	pool := cjkPool(rng)
	rng = rand.New(rand.NewPCG(seed, 2))
	var lines []string
	total := 0
	for float64(total) < mb*1e6 {
		target := 80 + rng.IntN(41)
		var sb strings.Builder
		plant := rng.IntN(100) == 0
		for sb.Len() < target {
			if plant && sb.Len() > rng.IntN(target) {
				sb.WriteString(keywords[rng.IntN(len(keywords))])
				plant = false
			}
			switch x := rng.IntN(100); {
			case x < 55:
				sb.WriteString(cjkRun(rng, pool, 2, 8))
			case x < 70:
				if sb.Len() > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(asciiWord(rng, 2, 8))
				sb.WriteByte(' ')
			case x < 85:
				sb.WriteString(cjkPunct[rng.IntN(len(cjkPunct))])
			case x < 92:
				sb.WriteString(asciiPunct[rng.IntN(len(asciiPunct))])
			case x < 96:
				sb.WriteString(emoji[rng.IntN(len(emoji))])
			default:
				sb.WriteString(strings.Repeat("0123456789"[rng.IntN(10):][:1], 1+rng.IntN(3)))
			}
		}
		if plant {
			sb.WriteString(keywords[rng.IntN(len(keywords))])
		}
		lines = append(lines, sb.String())
		total += sb.Len()
	}
	return lines
}

// rawTruth reports whether line contains a keyword byte for byte, the
// semantics of the peers.
func rawTruth(keywords []string, line string) bool {
	for _, k := range keywords {
		if strings.Contains(line, k) {
			return true
		}
	}
	return false
}

// normalisedTruth is a naive version of the engine's documented semantics
// (engine's SEMANTICS.md): keywords and line normalised alike, spaces of the
// line skipped inside a keyword, word boundaries at ASCII edges.
type normalisedTruth struct {
	norm     func(string) (string, []int)
	keywords []string // normalised, spaces removed
}

func newNormalisedTruth(keywords []string, t2s bool) *normalisedTruth {
	// An empty Matcher is the way to normalise with non-default Options.
	m, err := engine.Compile(nil, engine.Options{TradToSimp: t2s})
	if err != nil {
		panic(err)
	}
	t := &normalisedTruth{norm: m.Normalize}
	for _, k := range keywords {
		n, _ := t.norm(k)
		t.keywords = append(t.keywords, strings.ReplaceAll(n, " ", ""))
	}
	return t
}

func isAlnum(b byte) bool { return b-'a' < 26 || b-'0' < 10 }

func (t *normalisedTruth) flags(line string) bool {
	norm, _ := t.norm(line)
	joined := strings.ReplaceAll(norm, " ", "")
	for _, k := range t.keywords {
		if strings.Contains(joined, k) && occursWithBoundaries(norm, k) {
			return true
		}
	}
	return false
}

func occursWithBoundaries(norm, k string) bool {
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
		if isAlnum(k[0]) && s > 0 && isAlnum(norm[s-1]) {
			continue
		}
		if isAlnum(k[len(k)-1]) && j < len(norm) && isAlnum(norm[j]) {
			continue
		}
		return true
	}
	return false
}
