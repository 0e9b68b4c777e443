package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// These benchmarks measure the engine alone; bench/matchbench compares it
// with other libraries on a larger corpus of the same shape.

var (
	benchOnce     sync.Once
	benchWords    []string
	benchLines    []string
	benchLinesLen int
)

// benchData makes 10,000 keywords (70 % Chinese of 2-6 characters from a
// pool of 3,000, 30 % ASCII words of 4-10 letters) and 1 MB of ~100-byte
// chat lines, 1 % of them with a keyword planted.
func benchData() ([]string, []string) {
	benchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(7, 7))
		pool := make([]rune, 3000)
		for i := range pool {
			pool[i] = rune(0x4E00 + rng.IntN(0x9FA5-0x4E00))
		}
		cjk := func(lo, hi int) string {
			var sb strings.Builder
			for range lo + rng.IntN(hi-lo+1) {
				sb.WriteRune(pool[rng.IntN(len(pool))])
			}
			return sb.String()
		}
		ascii := func(lo, hi int) string {
			b := make([]byte, lo+rng.IntN(hi-lo+1))
			for i := range b {
				b[i] = byte('a' + rng.IntN(26))
			}
			return string(b)
		}
		for range 10000 {
			if rng.IntN(10) < 7 {
				benchWords = append(benchWords, cjk(2, 6))
			} else {
				benchWords = append(benchWords, ascii(4, 10))
			}
		}
		punct := []string{"，", "。", "！", "？", "、", " ", ", ", "😀", "👍"}
		for benchLinesLen < 1e6 {
			var sb strings.Builder
			plant := rng.IntN(100) == 0
			for sb.Len() < 100 {
				if plant && rng.IntN(4) == 0 {
					sb.WriteString(benchWords[rng.IntN(len(benchWords))])
					plant = false
				}
				switch x := rng.IntN(10); {
				case x < 6:
					sb.WriteString(cjk(2, 8))
				case x < 8:
					sb.WriteString(" " + ascii(2, 8) + " ")
				default:
					sb.WriteString(punct[rng.IntN(len(punct))])
				}
			}
			benchLines = append(benchLines, sb.String())
			benchLinesLen += sb.Len()
		}
	})
	return benchWords, benchLines
}

func benchPatterns(words []string) []Pattern {
	ps := make([]Pattern, len(words))
	for i, w := range words {
		ps[i] = Pattern{Text: w}
	}
	return ps
}

func BenchmarkAny(b *testing.B) {
	words, lines := benchData()
	for _, n := range []int{10, 1000, 10000} {
		for _, opts := range []Options{{}, {TradToSimp: true}} {
			b.Run(fmt.Sprintf("keywords=%d/t2s=%v", n, opts.TradToSimp), func(b *testing.B) {
				m, err := Compile(benchPatterns(words[:n]), opts)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(benchLinesLen))
				for b.Loop() {
					for _, l := range lines {
						m.Any(l)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/msg")
			})
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	words, lines := benchData()
	m, err := Compile(benchPatterns(words), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(benchLinesLen))
	var hits []Hit
	for b.Loop() {
		for _, l := range lines {
			hits = m.Match(l, hits[:0])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/msg")
}

func BenchmarkNormalize(b *testing.B) {
	_, lines := benchData()
	b.SetBytes(int64(benchLinesLen))
	for b.Loop() {
		for _, l := range lines {
			Normalize(l)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/msg")
}

func BenchmarkCompile(b *testing.B) {
	words, _ := benchData()
	ps := benchPatterns(words)
	for b.Loop() {
		if _, err := Compile(ps, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileTradToSimp(b *testing.B) {
	words, _ := benchData()
	ps := benchPatterns(words)
	tableFor(true) // built once per process, not per Compile
	for b.Loop() {
		if _, err := Compile(ps, Options{TradToSimp: true}); err != nil {
			b.Fatal(err)
		}
	}
}
