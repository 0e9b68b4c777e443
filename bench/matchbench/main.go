// Command matchbench compares qunguan's keyword engine with the Go
// keyword-matching libraries it was measured against, on one generated
// corpus, in one run:
//
//	go -C bench/matchbench run . -mb 10 -k 10000
//
// It lives in its own module so that the peers never enter the product's
// go.mod. The same corpus drives the Go benchmarks in bench_test.go
// (go -C bench/matchbench test -bench . -count 5, for benchstat).
//
// The peers match raw bytes; the engine normalises (width, case, look-alikes,
// dropped separators) as part of the scan, so it flags a few more lines: the
// table checks each matcher against the naive ground truth of its own
// semantics on a slice of the corpus.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"
	"unsafe"
)

func main() {
	mb := flag.Float64("mb", 10, "corpus size in millions of bytes")
	k := flag.Int("k", 10000, "number of keywords")
	seed := flag.Uint64("seed", 1, "generator seed")
	check := flag.Int("check", 2000, "lines checked against the naive ground truth")
	reps := flag.Int("reps", 3, "timed passes per matcher (the median is shown)")
	only := flag.String("only", "", "run only the matchers whose name matches this regular expression")
	flag.Parse()

	words := Keywords(*k, *seed)
	lines := Corpus(*mb, words, *seed)
	raw := make([][]byte, len(lines))
	total := 0
	for i, l := range lines {
		raw[i] = []byte(l)
		total += len(l)
	}
	*check = min(*check, len(lines))
	fmt.Printf("corpus: %d lines, %d bytes (%.1f bytes/line); %d keywords; seed %d; %s, GOMAXPROCS=%d\n",
		len(lines), total, float64(total)/float64(len(lines)), len(words), *seed, runtime.Version(), runtime.GOMAXPROCS(0))

	start := time.Now()
	truthRaw, truthNorm, truthT2S := 0, 0, 0
	rawFlags := make([]bool, *check)
	normFlags := make([]bool, *check)
	t2sFlags := make([]bool, *check)
	nt := newNormalisedTruth(words, false)
	nt2s := newNormalisedTruth(words, true)
	for i, l := range lines[:*check] {
		rawFlags[i] = rawTruth(words, l)
		normFlags[i] = nt.flags(l)
		t2sFlags[i] = nt2s.flags(l)
		truthRaw += count(rawFlags[i])
		truthNorm += count(normFlags[i])
		truthT2S += count(t2sFlags[i])
	}
	fmt.Printf("naive ground truth on the first %d lines (%v): %d lines contain a keyword byte for byte, %d after normalisation, %d after normalisation with t2s\n\n",
		*check, time.Since(start).Round(time.Millisecond), truthRaw, truthNorm, truthT2S)

	type row struct {
		c        contender
		build    time.Duration
		heapMB   float64
		mbps     []float64
		lines    int
		bytes    int
		flagged  int
		mismatch int
	}
	var rows []*row
	flags := map[string]func(string, []byte) bool{}
	onlyRE := regexp.MustCompile(*only)
	for _, c := range contenders() {
		if !onlyRE.MatchString(c.name) {
			continue
		}
		before := heapInUse()
		t0 := time.Now()
		f, err := c.setup(words)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", c.name, err)
			os.Exit(1)
		}
		r := &row{c: c, build: time.Since(t0)}
		f("warm up", []byte("warm up")) // lazily built tables are part of the build, not the scan
		r.build = time.Since(t0)
		r.heapMB = float64(heapInUse()-before) / 1e6
		flags[c.name] = f
		want := rawFlags
		if c.normalises {
			want = normFlags
		}
		if c.t2s {
			want = t2sFlags
		}
		r.lines = len(lines)
		if c.sliceBytes > 0 {
			n, size := 0, 0
			for n < len(lines) && size < c.sliceBytes {
				size += len(lines[n])
				n++
			}
			r.lines = n
		}
		for i, l := range lines[:min(*check, r.lines)] {
			if f(l, raw[i]) != want[i] {
				r.mismatch++
			}
		}
		rows = append(rows, r)
	}

	// Passes alternate between matchers so that drift of the machine hits
	// them all alike. Time is the CPU time of this thread, locked to it, so
	// that other processes on a shared machine do not count.
	runtime.LockOSThread()
	for range *reps {
		for _, r := range rows {
			f := flags[r.c.name]
			flagged, size := 0, 0
			t0 := clock()
			for i, l := range lines[:r.lines] {
				if f(l, raw[i]) {
					flagged++
				}
				size += len(l)
			}
			d := clock() - t0
			r.mbps = append(r.mbps, float64(size)/d.Seconds()/1e6)
			r.flagged, r.bytes = flagged, size
		}
	}

	fastestPeer := 0.0
	for _, r := range rows {
		if !r.c.normalises {
			fastestPeer = max(fastestPeer, median(r.mbps))
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "matcher\tMB/s (median)\tmin-max\tns/msg\tns/100 B\tvs fastest peer\tbuild\theap MB\tflagged lines\tground-truth mismatches\t")
	for _, r := range rows {
		med := median(r.mbps)
		nsPerMsg := float64(r.bytes) / (med * 1e6) * 1e9 / float64(r.lines)
		fmt.Fprintf(w, "%s\t%s\t%s-%s\t%.0f\t%.0f\t%s\t%v\t%.1f\t%d of %d\t%d\t\n",
			r.c.name, mbps(med), mbps(slices.Min(r.mbps)), mbps(slices.Max(r.mbps)), nsPerMsg, 1e5/med,
			ratio(med/fastestPeer), r.build.Round(time.Millisecond), r.heapMB, r.flagged, r.lines, r.mismatch)
	}
	w.Flush()
}

// clock returns the CPU time of the calling thread
// (CLOCK_THREAD_CPUTIME_ID), or the wall clock where that is unavailable.
func clock() time.Duration {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}

// mbps and ratio keep three significant digits, so that the regexp's
// kilobytes per second do not print as zero.
func mbps(x float64) string  { return strconv.FormatFloat(x, 'g', 3, 64) }
func ratio(x float64) string { return strconv.FormatFloat(x, 'g', 3, 64) + "x" }

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
