package store

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// Run all of them in one go, so the figures share one machine state:
//
//	go test -run '^$' -bench . -benchtime 3s ./store
//
// The writer benchmarks report msgs/s (the comparison the design rests
// on: group commit against one Update per message) and p99-µs, the 99th
// percentile from AppendRecord to the record being durable.

// benchProducers is how many goroutines append at once, like a busy bot's
// event handlers.
const benchProducers = 16

func benchDB(b *testing.B) *DB {
	b.Helper()
	db, err := Open(b.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// benchRecord is a realistic message: 50 groups, 500 people, 20 to 120
// bytes of Chinese text.
func benchRecord(i int) bot.Record {
	return bot.Record{
		Group:      bot.GroupID(fmt.Sprintf("g_bench%03d", i%50)),
		Time:       t0.Add(time.Duration(i) * time.Millisecond),
		Kind:       bot.EventMessage,
		Sender:     bot.UserID(fmt.Sprintf("u_bench%04d", i%500)),
		SenderName: fmt.Sprintf("群友%d", i%500),
		MsgID:      fmt.Sprintf("%019d", 4_000_000_000_000_000+i),
		MsgType:    bot.MsgText,
		Text:       benchTexts[i%len(benchTexts)],
	}
}

var benchTexts = []string{
	"早上好",
	"今天的活动几点开始？我这边可能晚到十分钟",
	"收到，谢谢群主！",
	"有没有人周六一起去？可以拼车，我从城东出发，车上还有三个位置",
	"照片已经上传到群相册了，大家自己下载，原图比较大，注意流量",
	"👍👍👍",
}

// runProducers appends n records from benchProducers goroutines through
// appendOne and returns the per-record latencies.
func runProducers(n int, appendOne func(r bot.Record) error) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for p := range benchProducers {
		wg.Go(func() {
			for i := p; i < n; i += benchProducers {
				start := time.Now()
				if err := appendOne(benchRecord(i)); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				lat[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	return lat, firstErr
}

func reportWriter(b *testing.B, n int, elapsed time.Duration, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkRecordWriter measures the group-commit writer with default
// options (256 records or 20ms per commit).
//
// saturated: producers hand records to AppendRecord without waiting (a
// collector per producer waits for each result and times it from the call
// to durability). This is the throughput figure to set against
// BenchmarkUpdatePerMessage; its p99 is queueing behind full batches.
//
// closed-loop: each producer waits for its record to be durable before
// sending the next, so a batch never fills and every commit waits for
// BatchDelay. It shows what a caller pays for blocking on every record
// (Sync is the way to commit at once).
func BenchmarkRecordWriter(b *testing.B) {
	b.Run("saturated", func(b *testing.B) {
		db := benchDB(b)
		defer db.Close()
		lat := make([]time.Duration, b.N)
		type pending struct {
			i     int
			start time.Time
			ch    <-chan error
		}
		b.ResetTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for p := range benchProducers {
			queue := make(chan pending, 4096)
			wg.Go(func() {
				for i := p; i < b.N; i += benchProducers {
					t := time.Now()
					queue <- pending{i, t, db.AppendRecord(benchRecord(i))}
				}
				close(queue)
			})
			wg.Go(func() {
				for q := range queue {
					if err := <-q.ch; err != nil {
						b.Error(err)
					}
					lat[q.i] = time.Since(q.start)
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		reportWriter(b, b.N, elapsed, lat)
	})
	b.Run("closed-loop", func(b *testing.B) {
		db := benchDB(b)
		defer db.Close()
		b.ResetTimer()
		start := time.Now()
		lat, err := runProducers(b.N, func(r bot.Record) error { return <-db.AppendRecord(r) })
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		reportWriter(b, b.N, elapsed, lat)
	})
}

// BenchmarkUpdatePerMessage is the naive alternative on the same encoding
// and the same per-record work (index, member, group): one db.Update per
// message, each waiting for its own fsyncs.
func BenchmarkUpdatePerMessage(b *testing.B) {
	db := benchDB(b)
	defer db.Close()
	var arenas sync.Pool
	b.ResetTimer()
	start := time.Now()
	lat, err := runProducers(b.N, func(r bot.Record) error {
		arena, _ := arenas.Get().(*[]byte)
		if arena == nil {
			arena = new([]byte)
		}
		defer arenas.Put(arena)
		return db.commitRecords([]writeReq{{rec: r}}, arena)
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	reportWriter(b, b.N, elapsed, lat)
}

// scanBenchRecords is how many records one group holds for the scan
// benchmark: an export of a busy group.
const scanBenchRecords = 300_000

// BenchmarkScanRecords measures export reads: a whole group through
// ScanRecords, decoding every record, in chunks of short transactions.
// One op is one full scan; records/s is the figure to compare with the
// 300,000 records/s export target.
func BenchmarkScanRecords(b *testing.B) {
	db := benchDB(b)
	defer db.Close()
	var arena []byte
	batch := make([]writeReq, 0, 10_000)
	for i := range scanBenchRecords {
		r := benchRecord(i)
		r.Group = "g_export"
		batch = append(batch, writeReq{rec: r})
		if len(batch) == cap(batch) {
			if err := db.commitRecords(batch, &arena); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	var bytes int64
	for range b.N {
		n := 0
		err := db.ScanRecords(ctx, "g_export", time.Time{}, time.Time{}, func(r bot.Record) error {
			n++
			bytes += int64(len(r.Text))
			return nil
		})
		if err != nil || n != scanBenchRecords {
			b.Fatalf("scanned %d records: %v", n, err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*scanBenchRecords)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(bytes)/elapsed.Seconds()/1e6, "text-MB/s")
}
