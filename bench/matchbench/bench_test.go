package main

import (
	"flag"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The benchmarks share one corpus, generated once per test binary:
//
//	go -C bench/matchbench test -bench . -count 5 | tee new.txt
//	~/go/bin/benchstat new.txt
//
// Each op scans the whole corpus (the regexp only its first 64 KiB), one
// line at a time as the bot checks one message at a time; MB/s comes from
// SetBytes and ns/msg is reported beside it, and cpu-ns/msg and cpu-MB/s
// from the CPU time of the benchmark's locked thread, as in the table of
// main.go.
var (
	benchMB = flag.Float64("mb", 10, "corpus size in millions of bytes")
	benchK  = flag.Int("k", 10000, "number of keywords")
)

type benchCorpus struct {
	words []string
	lines []string
	raw   [][]byte
}

var (
	corpusOnce sync.Once
	corpus     benchCorpus
)

func loadCorpus() *benchCorpus {
	corpusOnce.Do(func() {
		corpus.words = Keywords(*benchK, 1)
		corpus.lines = Corpus(*benchMB, corpus.words, 1)
		for _, l := range corpus.lines {
			corpus.raw = append(corpus.raw, []byte(l))
		}
	})
	return &corpus
}

func BenchmarkMatchers(b *testing.B) {
	c := loadCorpus()
	for _, ct := range contenders() {
		b.Run(ct.name, func(b *testing.B) {
			f, err := ct.setup(c.words)
			if err != nil {
				b.Fatal(err)
			}
			f("warm up", []byte("warm up"))
			lines := c.lines
			if ct.sliceBytes > 0 {
				n, size := 0, 0
				for n < len(lines) && size < ct.sliceBytes {
					size += len(lines[n])
					n++
				}
				lines = lines[:n]
			}
			size := 0
			for _, l := range lines {
				size += len(l)
			}
			b.SetBytes(int64(size))
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var cpu time.Duration
			flagged := 0
			for b.Loop() {
				t0 := clock()
				for i, l := range lines {
					if f(l, c.raw[i]) {
						flagged++
					}
				}
				cpu += clock() - t0
			}
			msgs := float64(b.N) * float64(len(lines))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
			// The thread's CPU time leaves out other processes' time slices
			// on a shared machine; compare these across contenders.
			b.ReportMetric(float64(cpu.Nanoseconds())/msgs, "cpu-ns/msg")
			b.ReportMetric(float64(size)*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
			_ = flagged
		})
	}
}
