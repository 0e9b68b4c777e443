//go:build linux

package store

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

// rssFileKB reads RssFile (file-backed resident pages) of this process.
func rssFileKB(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err == nil {
				return n
			}
		}
	}
	t.Skip("no RssFile line")
	return 0
}

// TestScanKeepsMappedPagesOut checks that a scan over a history much
// larger than the release interval does not keep the file's pages in the
// process's resident memory: exports must not grow with history size.
func TestScanKeepsMappedPagesOut(t *testing.T) {
	db, c := newTestDB(t)
	g := bot.GroupID("g_big")
	text := strings.Repeat("群聊记录导出测试", 400) // 9.6 KB per record
	const n = 6000                          // about 58 MB of records
	for i := 0; i < n; i += 500 {
		rs := make([]bot.Record, 0, 500)
		for j := i; j < i+500; j++ {
			rs = append(rs, msg(g, "u_1", c.Now().Add(time.Duration(j)*time.Second), text))
		}
		appendAll(t, db, rs...)
	}
	// Start from a released map, then scan everything.
	_ = db.view(func(tx *bolt.Tx) error { releaseMapped(tx); return nil })
	before := rssFileKB(t)
	seen := 0
	peak := before
	err := db.ScanRecords(context.Background(), g, time.Time{}, time.Time{}, func(r bot.Record) error {
		seen++
		if seen%500 == 0 {
			if v := rssFileKB(t); v > peak {
				peak = v
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Fatalf("scanned %d records, want %d", seen, n)
	}
	// Without releases the scan would add about 58 MB; with them, at most
	// one release interval plus a chunk stays resident.
	if grown := (peak - before) / 1024; grown > 2*releaseEvery>>20 {
		t.Errorf("file-backed RSS grew by %d MB during the scan", grown)
	}
}
