//go:build linux

// Command storebench measures the group export end to end from a real
// store, the path /export and the dissolve lifecycle take:
//
//	go run ./plugins/export/cmd/storebench -n 1000000
//
// It first records N messages of one group into a fresh bbolt store
// through the store's group-commit writer (the bot's own recording path,
// timed too), with 300 members and an online session. Then, for each
// format, a child process of its own (so that its peak RSS, VmHWM, is that
// run's alone) runs:
//
//   - scan: ScanRecords over the whole history, decoding every record and
//     nothing else: the store's read ceiling;
//   - export: archive.Write from archive.FromStore with only that format
//     (plus members and manifest): scan, encode, hash, sync, manifest
//     (the write phase), then re-read and verify the folder, build and
//     verify the zip.
//
// The records have the shape of plugins/export/archive's synthetic history
// (about 45 runes of Chinese with quotes, HTML-special characters and
// emoji; images, files, joins and leaves mixed in), so its cmd/exportbench
// bare-encoder figures are the ceiling to compare with.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export/archive"
	"github.com/qunguan/qunguan/store"
)

const group bot.GroupID = "g_bench00001"

var start = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// step spaces the records: a million span about 81 days.
const step = 7 * time.Second

var fragments = []string{
	"今天的会议改到下午三点，", "大家记得带上\"资料\"和笔记本。", "<b>重要</b>通知 & 提醒：",
	"收到，谢谢老师👍", "明天早上八点集合，别迟到哦😀", "这个方案我觉得还可以再改改，",
	"有没有人一起拼车去展会？", "链接在群公告里，自己看一下。", "报名表已经更新了，请核对",
	"周末活动取消，改到下周六。", "'单引号' 和 `反引号` 也要转义", "费用 AA，每人 35.5 元，",
	"群里禁止发广告，违者移出。", "照片我晚点发到群相册里📷", "作业提交截止到周五晚上十点，",
	"好的👌", "我同意楼上的意见。", "请把文件发我邮箱 test@example.com",
}

var names = func() []string {
	base := []string{"张伟", "王芳", "李娜🌸", "刘洋", "陈静", "杨磊✨", "赵敏", "黄强", "周杰", "吴霞", "小明同学", "Alice", "老王 (物业)", "🐱猫猫", "李老师"}
	out := make([]string, 300)
	for i := range out {
		out[i] = base[i%len(base)] + strconv.Itoa(i)
	}
	return out
}()

func userID(u int) bot.UserID { return bot.UserID("u_" + strconv.FormatInt(int64(1000000+u*7919), 36)) }

// record builds record i, a pure function of i.
func record(i int) bot.Record {
	h := uint32(i)*2654435761 + 12345
	u := int(h>>8) % len(names)
	r := bot.Record{Group: group, Time: start.Add(time.Duration(i) * step), Kind: bot.EventMessage, Sender: userID(u), SenderName: names[u]}
	switch {
	case i%997 == 13:
		r.Kind, r.Text = bot.EventMemberJoined, names[u]+" 加入了群聊"
		return r
	case i%1009 == 17:
		r.Kind, r.Text = bot.EventMemberLeft, names[u]+" 退出了群聊"
		return r
	}
	if i%50 == 7 {
		r.Sender, r.SenderName, r.FromBot = bot.SelfID, "群管机器人", true
	}
	r.MsgID = strconv.FormatUint(uint64(h)*1000003+uint64(i), 10)
	switch {
	case i%31 == 3:
		r.MsgType, r.Text, r.FileName, r.Size = bot.MsgImage, "[图片]", "IMG_"+strconv.Itoa(i)+".jpg", int64(100000+h%900000)
	case i%97 == 11:
		r.MsgType, r.FileName, r.Size = bot.MsgFile, "活动安排"+strconv.Itoa(i)+".pdf", int64(20000+h%2000000)
		r.Text = r.FileName
	default:
		f := len(fragments)
		r.MsgType, r.Text = bot.MsgText, fragments[int(h)%f]+fragments[int(h>>5)%f]+fragments[int(h>>11)%f]
	}
	return r
}

type result struct {
	Format       string  `json:"format"`
	Mode         string  `json:"mode"`
	N            int     `json:"n"`
	Seconds      float64 `json:"seconds"`
	WriteSeconds float64 `json:"write_seconds"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	PeakRSS      int64   `json:"peak_rss"`
	// PeakAnon is the highest RssAnon seen: private memory, without the
	// store's memory-mapped file pages, which VmHWM counts too.
	PeakAnon   int64 `json:"peak_anon"`
	Bytes      int64 `json:"bytes"`
	Reconciled bool  `json:"reconciled"`
}

func main() {
	n := flag.Int("n", 1000000, "records in the group's history")
	formats := flag.String("formats", "jsonl,csv,xlsx", "formats to measure")
	dir := flag.String("dir", "", "scratch folder (default: a new temporary folder, removed afterwards)")
	child := flag.String("child", "", "internal: run one measurement, mode/format")
	flag.Parse()
	if *child != "" {
		mode, format, _ := strings.Cut(*child, "/")
		r, err := measure(mode, format, *n, *dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "storebench:", err)
			os.Exit(1)
		}
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	if err := run(*n, *formats, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func run(n int, formats, dir string) error {
	scratch := dir
	if scratch == "" {
		d, err := os.MkdirTemp("", "storebench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		scratch = d
	}
	fmt.Printf("storebench: %d records, %s, GOMAXPROCS=%d, %s, load average %s\n", n, runtime.Version(), runtime.GOMAXPROCS(0), time.Now().Format(time.RFC3339), loadAverage())
	took, size, err := load(filepath.Join(scratch, "data"), n)
	if err != nil {
		return err
	}
	fmt.Printf("recorded %d records through the group-commit writer in %.1f s (%.0f records/s); store %.0f MB\n\n",
		n, took.Seconds(), float64(n)/took.Seconds(), float64(size)/(1<<20))
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var rows []result
	for _, format := range strings.Split(formats, ",") {
		for _, mode := range []string{"scan", "export"} {
			if mode == "scan" && format != strings.Split(formats, ",")[0] {
				continue // the scan does not depend on the format
			}
			var out bytes.Buffer
			cmd := exec.Command(self, "-child", mode+"/"+format, "-n", strconv.Itoa(n), "-dir", scratch)
			cmd.Stdout, cmd.Stderr = &out, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s %s: %w", mode, format, err)
			}
			var r result
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				return fmt.Errorf("%s %s: %w", mode, format, err)
			}
			rows = append(rows, r)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "format\tmode\trecords\twrite s\twrite msgs/s\ttotal s\ttotal msgs/s\tCPU s\tpeak RSS MB\tpeak anon MB\tzip MB\treconciled\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.0f\t%.2f\t%.0f\t%.2f\t%.0f\t%.0f\t%.1f\t%v\t\n", r.Format, r.Mode, r.N, r.WriteSeconds, float64(r.N)/r.WriteSeconds,
			r.Seconds, float64(r.N)/r.Seconds, r.CPUSeconds, float64(r.PeakRSS)/(1<<20), float64(r.PeakAnon)/(1<<20), float64(r.Bytes)/(1<<20), r.Reconciled)
	}
	tw.Flush()
	fmt.Println("scan = ScanRecords decoding every record (the format column is irrelevant);")
	fmt.Println("write = scan + encode + hash + sync + members + manifest; total = write, verify the folder, build and verify the zip.")
	fmt.Println("peak RSS = VmHWM, which counts the store's memory-mapped pages read (shared page cache, not private memory);")
	fmt.Println("peak anon = the highest RssAnon sampled every 5 ms: the process's own memory.")
	fmt.Printf("load average at the end: %s\n", loadAverage())
	return nil
}

// load records n messages into a new store at dir.
func load(dir string, n int) (time.Duration, int64, error) {
	ctx := context.Background()
	// Large batches: the load is setup, not what is measured.
	db, err := store.Open(dir, store.Options{Logger: quiet(), Now: func() time.Time { return start }, BatchSize: 8192, BatchDelay: 200 * time.Millisecond})
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	if _, err := db.OpenSession(ctx, start.Add(-time.Hour)); err != nil {
		return 0, 0, err
	}
	end := start.Add(time.Duration(n) * step)
	if err := db.PutGroup(ctx, bot.GroupRecord{ID: group, Name: "周末活动群", FirstSeen: start, LastSeen: end, BotPresent: true, MemberCount: len(names)}); err != nil {
		return 0, 0, err
	}
	ms := make([]bot.MemberRecord, len(names))
	for i := range ms {
		ms[i] = bot.MemberRecord{Group: group, User: userID(i), Nick: names[i], Present: true, FirstSeen: start, JoinedAt: start}
	}
	if err := db.PutMembers(ctx, ms); err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	var last <-chan error
	for i := 0; i < n; i++ {
		last = db.AppendRecord(record(i))
	}
	if err := db.Sync(ctx); err != nil {
		return 0, 0, err
	}
	if last != nil {
		if err := <-last; err != nil {
			return 0, 0, err
		}
	}
	took := time.Since(t0)
	if err := db.Heartbeat(ctx, end.Add(time.Hour)); err != nil {
		return 0, 0, err
	}
	fi, err := os.Stat(db.Path())
	if err != nil {
		return 0, 0, err
	}
	return took, fi.Size(), nil
}

func measure(mode, format string, n int, dir string) (result, error) {
	r := result{Format: format, Mode: mode, N: n}
	ctx := context.Background()
	db, err := store.Open(filepath.Join(dir, "data"), store.Options{Logger: quiet()})
	if err != nil {
		return r, err
	}
	defer db.Close()
	stop := sampleAnon(&r.PeakAnon)
	defer stop()
	t0 := time.Now()
	switch mode {
	case "scan":
		seen := 0
		err := db.ScanRecords(ctx, group, time.Time{}, time.Time{}, func(rec bot.Record) error {
			seen += len(rec.Text) & 1
			return nil
		})
		if err != nil {
			return r, err
		}
		r.Seconds = time.Since(t0).Seconds()
		r.WriteSeconds = r.Seconds
	case "export":
		f, err := archive.ParseFormats(format)
		if err != nil {
			return r, err
		}
		out, err := os.MkdirTemp(dir, "export-"+format+"-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(out)
		loc, err := time.LoadLocation(archive.DefaultLocation)
		if err != nil {
			return r, err
		}
		end := start.Add(time.Duration(n) * step).Add(time.Hour)
		res, err := archive.Write(ctx, archive.FromStore(db, group), archive.Options{Dir: out, Formats: f, Location: loc,
			BotVersion: "storebench", Now: func() time.Time { return end }})
		if err != nil {
			return r, err
		}
		r.Seconds = time.Since(t0).Seconds()
		r.WriteSeconds = res.Timings.Write.Seconds()
		r.Reconciled = res.Reconciled
		if fi, err := os.Stat(res.Zip); err == nil {
			r.Bytes = fi.Size()
		}
	default:
		return r, fmt.Errorf("unknown mode %q", mode)
	}
	stop()
	r.PeakRSS = procStatus("VmHWM:")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.CPUSeconds = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	return r, nil
}

// sampleAnon records the highest RssAnon into *peak until stopped.
func sampleAnon(peak *int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v := procStatus("RssAnon:"); v > *peak {
				*peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	stopped := false
	return func() {
		if !stopped {
			stopped = true
			close(done)
			<-finished
		}
	}
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// procStatus reads a field of /proc/self/status (Linux) in bytes.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
