package archive

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/qunguan/qunguan/plugins/export/archive/internal/benchkit"
	"github.com/qunguan/qunguan/plugins/export/archive/internal/synth"
)

// benchRecords is the history size of one benchmark operation: large
// enough that per-archive costs (members, manifest, fsync of the folder)
// are small beside per-record ones. cmd/exportbench runs the full
// million-record comparison with peak RSS.
var benchRecords = map[string]int{"jsonl": 200000, "csv": 200000, "xlsx": 50000}

// BenchmarkExport measures Write from a generated history with one format
// selected, beside the bare encoder loop over the same rows (the ceiling).
// msgs/s is per record; write-msgs/s counts the write phase only, without
// the verification and zip that follow it.
func BenchmarkExport(b *testing.B) {
	for _, format := range []string{"jsonl", "csv", "xlsx"} {
		n := benchRecords[format]
		b.Run(format+"/bare", func(b *testing.B) {
			var size int64
			for i := 0; b.Loop(); i++ {
				path := filepath.Join(b.TempDir(), "messages-"+strconv.Itoa(i)+"."+format)
				s, err := benchkit.Bare(format, path, n, shanghai)
				if err != nil {
					b.Fatal(err)
				}
				size = s
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.SetBytes(size)
		})
		b.Run(format+"/export", func(b *testing.B) {
			f, err := ParseFormats(format)
			if err != nil {
				b.Fatal(err)
			}
			src := &synth.Source{N: n}
			end := synth.Start.Add(time.Duration(n) * synth.Step)
			var write time.Duration
			for b.Loop() {
				res, err := Write(context.Background(), src, Options{
					Dir: b.TempDir(), Formats: f, Location: shanghai,
					Now: func() time.Time { return end.Add(time.Minute) },
				})
				if err != nil {
					b.Fatal(err)
				}
				write += res.Timings.Write
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(n)*float64(b.N)/write.Seconds(), "write-msgs/s")
		})
	}
}
