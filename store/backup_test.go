package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

func TestBackupRotationAndListing(t *testing.T) {
	c := newClock()
	opts := testOptions(t, c)
	opts.BackupKeep = 3
	dir := t.TempDir()
	db := openTest(t, dir, opts)
	ctx := context.Background()
	populate(t, db, c, 30)

	// Six daily backups and two pre-dissolve ones, a minute apart.
	var daily, pre []string
	for range 6 {
		c.Advance(24 * time.Hour)
		p, err := db.Backup(ctx, "daily")
		if err != nil {
			t.Fatal(err)
		}
		daily = append(daily, p)
		c.Advance(time.Minute)
		if len(daily)%3 == 0 {
			p, err := db.Backup(ctx, "pre-dissolve")
			if err != nil {
				t.Fatal(err)
			}
			pre = append(pre, p)
		}
	}
	if _, err := db.Backup(ctx, "Bad Reason"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad reason: %v", err)
	}

	bs, err := ListBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bs {
		got = append(got, filepath.Base(b.Path))
		if b.Err != nil || b.Size == 0 {
			t.Errorf("backup %s: err %v, size %d", b.Path, b.Err, b.Size)
		}
		if wantName := backupPrefix + b.Time.Format(backupTimeFormat) + "-" + b.Reason + backupSuffix; filepath.Base(b.Path) != wantName {
			t.Errorf("backup %s parsed as %v %q", b.Path, b.Time, b.Reason)
		}
	}
	// The newest three daily backups are kept, and both pre-dissolve ones;
	// newest first.
	var want []string
	for _, p := range []string{pre[1], daily[5], daily[4], daily[3], pre[0]} {
		want = append(want, filepath.Base(p))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backups:\n got %v\nwant %v", got, want)
	}
	for _, p := range daily[:3] {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("rotated backup %s still there: %v", p, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, backupDir)); len(entries) != len(want) {
		t.Errorf("backups dir holds %d files (temporary files left?), want %d", len(entries), len(want))
	}

	// A damaged newest backup is listed as such and never offered.
	if err := os.Truncate(bs[0].Path, 100); err != nil {
		t.Fatal(err)
	}
	bs, _ = ListBackups(dir)
	if !errors.Is(bs[0].Err, ErrDamaged) || bs[1].Err != nil {
		t.Errorf("after damaging the newest: %v / %v", bs[0].Err, bs[1].Err)
	}
	if de := damaged(dir, db.Path(), "test"); de.NewestBackup != bs[1].Path {
		t.Errorf("newest good backup %q, want %q", de.NewestBackup, bs[1].Path)
	}
}

// Backups taken in the same second have the same time in their names; the
// one written last is still listed first, whatever its reason.
func TestBackupsInTheSameSecondNewestFirst(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	db := openTest(t, dir, testOptions(t, c))
	ctx := context.Background()
	first, err := db.Backup(ctx, "pre-compact")
	if err != nil {
		t.Fatal(err)
	}
	second, err := db.Backup(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}
	// File systems with coarse timestamps could give both the same
	// modification time; set them apart within the second explicitly.
	base := c.Now().Truncate(time.Second)
	for _, order := range [][2]string{{first, second}, {second, first}} {
		if err := os.Chtimes(order[0], base, base.Add(100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(order[1], base, base.Add(700*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		bs, err := ListBackups(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 2 || bs[0].Path != order[1] || !bs[0].Time.Equal(bs[1].Time) {
			t.Errorf("written %s then %s, listed %+v", filepath.Base(order[0]), filepath.Base(order[1]), bs)
		}
		if !bs[0].ModTime.Equal(base.Add(700 * time.Millisecond)) {
			t.Errorf("ModTime = %v", bs[0].ModTime)
		}
	}
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	populate(t, db, c, 600)
	// Keep the writer busy while the backup is taken.
	var chs []<-chan error
	for i := range 500 {
		chs = append(chs, db.AppendRecord(msg("g_busy", "u_1", t0.Add(time.Duration(i)*time.Second), "during backup")))
	}
	path, err := db.Backup(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chs {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if err := checkFile(path); err != nil {
		t.Fatalf("backup fails the full check: %v", err)
	}
	dir2 := t.TempDir()
	copyTestFile(t, path, filepath.Join(dir2, dbFileName))
	db2 := openTest(t, dir2, testOptions(t, newClock()))
	if got := len(scanAll(t, db2, "g_alpha")); got != 200 {
		t.Errorf("backup has %d g_alpha records, want 200", got)
	}
	if n := len(scanAll(t, db2, "g_busy")); n > 500 {
		t.Errorf("backup has %d g_busy records, more than were written", n)
	}
	if rep, err := db2.VerifyAudit(ctx); err != nil || !rep.OK() || rep.Entries != 1 {
		t.Errorf("backup audit: %+v, %v", rep, err)
	}
}

func TestRestore(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	opts := testOptions(t, c)
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	appendAll(t, db, msg("g_r", "u_1", t0, "kept"))
	backup, err := db.Backup(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, db, msg("g_r", "u_1", t0.Add(time.Hour), "after the backup"))
	if _, err := Restore(dir, backup); !errors.Is(err, ErrLocked) {
		t.Errorf("Restore while open: %v, want ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	current, err := os.ReadFile(filepath.Join(dir, dbFileName))
	if err != nil {
		t.Fatal(err)
	}

	// A bad backup is refused and changes nothing.
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, bytes.Repeat([]byte{1}, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(dir, bad); !errors.Is(err, ErrDamaged) {
		t.Errorf("Restore of garbage: %v, want ErrDamaged", err)
	}
	// A backup that is not there is said to be missing, not damaged.
	missing := filepath.Join(dir, backupDir, "nonexist.db")
	if _, err := Restore(dir, missing); !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrDamaged) ||
		!strings.Contains(err.Error(), "backup file "+missing+" does not exist") {
		t.Errorf("Restore of a missing file: %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, dbFileName)); !bytes.Equal(now, current) {
		t.Error("a refused Restore changed the database")
	}

	// The healthy file it replaces is kept as what it is: replaced, not
	// damaged.
	keptAs, err := Restore(dir, backup)
	if err != nil {
		t.Fatal(err)
	}
	aside, _ := filepath.Glob(filepath.Join(dir, dbFileName+".*-*"))
	if len(aside) != 1 || aside[0] != keptAs || !strings.HasPrefix(filepath.Base(keptAs), dbFileName+".replaced-") {
		t.Fatalf("moved-aside files: %v, Restore said %q", aside, keptAs)
	}
	if old, _ := os.ReadFile(aside[0]); !bytes.Equal(old, current) {
		t.Error("the file moved aside is not the previous database")
	}
	// A second restore within the same second keeps both replaced files.
	again, err := Restore(dir, backup)
	if err != nil {
		t.Fatal(err)
	}
	if again == keptAs {
		t.Errorf("second restore moved the file aside over the first: %s", again)
	}
	if _, err := os.Stat(keptAs); err != nil {
		t.Errorf("first replaced file lost: %v", err)
	}
	if _, err := os.Stat(backup); err != nil {
		t.Errorf("the backup itself is gone: %v", err)
	}
	db = openTest(t, dir, opts)
	got := scanAll(t, db, "g_r")
	if len(got) != 1 || got[0].Text != "kept" {
		t.Errorf("restored records: %+v", got)
	}
}

func TestCompactShrinksAfterPurge(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	opts := testOptions(t, c)
	opts.BatchSize = 1000
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	body := strings.Repeat("这是一条很长的群消息，导出之后会被清除。", 20)
	var rs []bot.Record
	for i := range 8000 {
		rs = append(rs, msg("g_c", bot.UserID(fmt.Sprint("u_", i%50)), t0.Add(time.Duration(i)*time.Second), body))
	}
	appendAll(t, db, rs...)
	if _, err := db.AppendAudit(ctx, bot.AuditEntry{Actor: "system", Action: "export.done"}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PurgeBodies(ctx, "g_c", t0.Add(24*time.Hour), nil); err != nil || n != 8000 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	before, after, err := Compact(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compact: %d -> %d bytes", before, after)
	if after*3 > before {
		t.Errorf("compact: %d -> %d bytes, want at least a third smaller", before, after)
	}
	bs, err := ListBackups(dir)
	if err != nil || len(bs) != 1 || bs[0].Reason != "pre-compact" || bs[0].Err != nil {
		t.Errorf("pre-compact backup: %+v, %v", bs, err)
	}
	if err := Check(dir); err != nil {
		t.Errorf("Check after compact: %v", err)
	}

	db = openTest(t, dir, opts)
	got := scanAll(t, db, "g_c")
	if len(got) != 8000 || !got[0].Purged || got[7999].Sender != "u_49" {
		t.Fatalf("after compact: %d records", len(got))
	}
	// Bucket sequences survive compaction: Seqs keep counting up.
	appendAll(t, db, msg("g_c", "u_1", t0.Add(-time.Hour), "new"))
	if first := scanAll(t, db, "g_c")[0]; first.Seq != 8001 {
		t.Errorf("new record Seq %d, want 8001", first.Seq)
	}
	if e, err := db.AppendAudit(ctx, bot.AuditEntry{Actor: "system", Action: "x"}); err != nil || e.Seq != 2 {
		t.Errorf("audit after compact: seq %d, %v", e.Seq, err)
	}
	if rep, err := db.VerifyAudit(ctx); err != nil || !rep.OK() {
		t.Errorf("audit after compact: %+v, %v", rep, err)
	}
}

func TestCheckFindsBadRecords(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, testOptions(t, newClock()))
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, db, msg("g_x", "u_1", t0, "a"), msg("g_x", "u_1", t0.Add(time.Second), "b"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir); err != nil {
		t.Fatalf("Check of a good file: %v", err)
	}
	raw, err := bolt.Open(filepath.Join(dir, dbFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords).Bucket([]byte("g_x"))
		k, v := b.Cursor().Last()
		v = bytes.Clone(v)
		v[0] = 9
		return b.Put(bytes.Clone(k), v)
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	err = Check(dir)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "unknown encoding version 9") {
		t.Errorf("Check: %v, want the bad record named", err)
	}
	if err := Check(t.TempDir()); err == nil || errors.Is(err, ErrDamaged) {
		t.Errorf("Check of an empty dir: %v, want a plain error", err)
	}
}

func TestRotationRemovesOnlyStaleTemporaryFiles(t *testing.T) {
	db, _ := newTestDB(t)
	bdir := filepath.Join(db.Dir(), backupDir)
	if err := os.MkdirAll(bdir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(bdir, ".tmp-crashed.db"), filepath.Join(bdir, ".tmp-in-progress.db")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTempAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(context.Background(), "daily"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a temporary file that may be in use was removed: %v", err)
	}
}
