// Command exportbench measures the group export end to end against its
// ceiling, in one run:
//
//	go run ./plugins/export/archive/cmd/exportbench -n 1000000
//
// For each format (JSONL, CSV, XLSX) it runs, each in a child process of
// its own so that peak RSS (VmHWM) belongs to that run alone:
//
//   - bare: the synthetic history's rows written by the archive's own
//     encoders straight into one file, nothing else (the ceiling; for XLSX
//     excelize's StreamWriter behind the archive's workbook writer);
//   - export: archive.Write of the same history from a Source that
//     generates records on the fly, with only that format selected:
//     scan, encode, hash, sync, members, manifest (the write phase), then
//     re-read and verify the folder, build and verify the zip.
//
// With -std it also runs encoding/json, encoding/csv and excelize's
// StreamWriter with its own SaveAs over the same rows, the way the
// reference figures were measured.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/qunguan/qunguan/plugins/export/archive"
	"github.com/qunguan/qunguan/plugins/export/archive/internal/benchkit"
	"github.com/qunguan/qunguan/plugins/export/archive/internal/synth"
)

// result is what a child reports, one JSON object on stdout.
type result struct {
	Format  string  `json:"format"`
	Mode    string  `json:"mode"`
	N       int     `json:"n"`
	Seconds float64 `json:"seconds"` // the whole run
	// WriteSeconds is the export's write phase (Timings.Write); equal to
	// Seconds for bare runs.
	WriteSeconds float64 `json:"write_seconds"`
	// VerifySeconds and ZipSeconds are the export's later phases; the
	// folder is verified while the zip is built.
	VerifySeconds float64 `json:"verify_seconds"`
	ZipSeconds    float64 `json:"zip_seconds"`
	// CPUSeconds is the process's user and system time: less sensitive
	// than wall time to other work on the machine.
	CPUSeconds float64 `json:"cpu_seconds"`
	PeakRSS    int64   `json:"peak_rss"`
	Bytes      int64   `json:"bytes"`
	Reconciled bool    `json:"reconciled"`
}

func main() {
	n := flag.Int("n", 1000000, "records in the synthetic history")
	formats := flag.String("formats", "jsonl,csv,xlsx", "formats to measure")
	dir := flag.String("dir", "", "scratch folder (default: a new temporary folder, removed afterwards)")
	std := flag.Bool("std", false, "also measure encoding/json and encoding/csv on the same rows")
	child := flag.String("child", "", "internal: run one measurement, mode/format")
	flag.Parse()

	if *child != "" {
		mode, format, _ := strings.Cut(*child, "/")
		r, err := measure(mode, format, *n, *dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "exportbench:", err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	if err := run(*n, *formats, *dir, *std); err != nil {
		fmt.Fprintln(os.Stderr, "exportbench:", err)
		os.Exit(1)
	}
}

func run(n int, formats, dir string, std bool) error {
	scratch := dir
	if scratch == "" {
		d, err := os.MkdirTemp("", "exportbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		scratch = d
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("exportbench: %d records, %s, GOMAXPROCS=%d, %s, load average %s\n",
		n, runtime.Version(), runtime.GOMAXPROCS(0), time.Now().Format(time.RFC3339), loadAverage())
	var rows []result
	for _, format := range strings.Split(formats, ",") {
		modes := []string{"bare", "export"}
		if std {
			modes = []string{"std", "bare", "export"}
		}
		for _, mode := range modes {
			work, err := os.MkdirTemp(scratch, mode+"-"+format+"-")
			if err != nil {
				return err
			}
			var out bytes.Buffer
			cmd := exec.Command(self, "-child", mode+"/"+format, "-n", fmt.Sprint(n), "-dir", work)
			cmd.Stdout, cmd.Stderr = &out, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s %s: %w", mode, format, err)
			}
			var r result
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				return fmt.Errorf("%s %s: %w", mode, format, err)
			}
			rows = append(rows, r)
			os.RemoveAll(work)
		}
	}
	printTable(rows)
	fmt.Printf("load average at the end: %s\n", loadAverage())
	return nil
}

func printTable(rows []result) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "format\tmode\trecords\twrite s\twrite msgs/s\tvs bare\tverify s\tzip s\ttotal s\ttotal msgs/s\tCPU s\tpeak RSS MB\tfile MB\t")
	bare := map[string]float64{}
	for _, r := range rows {
		rate := float64(r.N) / r.WriteSeconds
		if r.Mode == "bare" {
			bare[r.Format] = rate
		}
		vs := ""
		if b := bare[r.Format]; b > 0 && r.Mode == "export" {
			vs = fmt.Sprintf("%.0f %%", 100*rate/b)
		}
		mode := r.Mode
		if r.Mode == "export" && !r.Reconciled {
			mode += " (NOT reconciled)"
		}
		phase := func(s float64) string {
			if r.Mode != "export" {
				return "-"
			}
			return fmt.Sprintf("%.2f", s)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.0f\t%s\t%s\t%s\t%.2f\t%.0f\t%.2f\t%.0f\t%.1f\t\n",
			r.Format, mode, r.N, r.WriteSeconds, rate, vs, phase(r.VerifySeconds), phase(r.ZipSeconds), r.Seconds, float64(r.N)/r.Seconds, r.CPUSeconds,
			float64(r.PeakRSS)/(1<<20), float64(r.Bytes)/(1<<20))
	}
	tw.Flush()
	fmt.Println("write = scan + encode + hash + sync + members + manifest (bare: encode + write + sync);")
	fmt.Println("verify = re-read the folder (alongside the zip build); zip = build and re-read the zip;")
	fmt.Println("total = the whole run: write, verify, zip, commit; CPU s = user+system time of the whole run.")
}

// loadAverage is the first three fields of /proc/loadavg: other work on
// the machine skews wall-clock rates, so the table says how busy it was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation(archive.DefaultLocation)
	if err != nil {
		panic(err)
	}
	return loc
}()

func measure(mode, format string, n int, dir string) (result, error) {
	r := result{Format: format, Mode: mode, N: n}
	start := time.Now()
	switch mode {
	case "bare", "std":
		name := format
		if mode == "std" {
			name = "std-" + format
		}
		size, err := benchkit.Bare(name, filepath.Join(dir, "messages."+format), n, shanghai)
		if err != nil {
			return r, err
		}
		r.Seconds = time.Since(start).Seconds()
		r.WriteSeconds, r.Bytes = r.Seconds, size
	case "export":
		f, err := archive.ParseFormats(format)
		if err != nil {
			return r, err
		}
		src := &synth.Source{N: n}
		end := synth.Start.Add(time.Duration(n) * synth.Step)
		res, err := archive.Write(context.Background(), src, archive.Options{
			Dir: dir, Formats: f, Location: shanghai, BotVersion: "exportbench",
			Now: func() time.Time { return end.Add(time.Minute) },
		})
		if err != nil {
			return r, err
		}
		r.Seconds = time.Since(start).Seconds()
		r.WriteSeconds = res.Timings.Write.Seconds()
		r.VerifySeconds, r.ZipSeconds = res.Timings.Verify.Seconds(), res.Timings.Zip.Seconds()
		r.Reconciled = res.Reconciled
		for _, fe := range res.Manifest.Files {
			if strings.HasPrefix(fe.Path, "messages.") {
				r.Bytes += fe.Size
			}
		}
		if res.Manifest.Counts.Written.Records != int64(n) {
			return r, fmt.Errorf("exported %d records, want %d", res.Manifest.Counts.Written.Records, n)
		}
	default:
		return r, fmt.Errorf("unknown mode %q", mode)
	}
	r.PeakRSS = benchkit.PeakRSS()
	r.CPUSeconds = benchkit.CPUTime().Seconds()
	r.CPUSeconds = benchkit.CPUTime().Seconds()
	return r, nil
}
