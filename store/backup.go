package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

// Backups are consistent copies written from a read transaction
// (tx.WriteTo) to <dir>/backups/qunguan-<UTC time>-<reason>.db: first to
// a temporary file, then fsync, rename and fsync of the directory, so a
// backup either exists whole or not at all. Rotation keeps the newest
// BackupKeep of each reason.
const (
	backupPrefix     = "qunguan-"
	backupSuffix     = ".db"
	backupTimeFormat = "20060102T150405Z"
	// compactTxSize is how many bytes Compact copies per transaction.
	compactTxSize = 64 << 20
	// maxCheckProblems is how many problems Check lists in its error.
	maxCheckProblems = 10
)

// Backup is one backup file.
type Backup struct {
	Path string
	// Time is when the backup was taken, from its name (whole seconds).
	Time   time.Time
	Reason string
	Size   int64
	// ModTime is the file's modification time, which is precise to the
	// nanosecond where the file system is: it orders backups taken in the
	// same second.
	ModTime time.Time
	// Err is why the backup failed the damage check; nil for a good one.
	Err error
}

// validReason reports whether reason can be part of a backup file name:
// lowercase letters, digits and dashes.
func validReason(reason string) bool {
	if reason == "" || len(reason) > 64 {
		return false
	}
	for _, c := range reason {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// parseBackupName returns the time and reason encoded in a backup's file
// name.
func parseBackupName(name string) (time.Time, string, bool) {
	rest, ok := strings.CutPrefix(name, backupPrefix)
	if !ok {
		return time.Time{}, "", false
	}
	rest, ok = strings.CutSuffix(rest, backupSuffix)
	if !ok || len(rest) < len(backupTimeFormat)+2 || rest[len(backupTimeFormat)] != '-' {
		return time.Time{}, "", false
	}
	t, err := time.Parse(backupTimeFormat, rest[:len(backupTimeFormat)])
	reason := rest[len(backupTimeFormat)+1:]
	if err != nil || !validReason(reason) {
		return time.Time{}, "", false
	}
	return t, reason, true
}

// Backup writes a consistent copy of the database to the backups
// directory and returns its path. reason (lowercase letters, digits,
// dashes: "daily", "pre-dissolve") goes into the name and is the rotation
// class.
func (db *DB) Backup(ctx context.Context, reason string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return writeBackup(db.view, db.dir, reason, db.now(), db.opts.BackupKeep, db.log)
}

// writeBackup copies the database seen by view's read transaction into a
// new backup file and rotates the backups of the same reason.
func writeBackup(view func(func(*bolt.Tx) error) error, dir, reason string, now time.Time, keep int, log *slog.Logger) (string, error) {
	if !validReason(reason) {
		return "", fmt.Errorf("backup: %w: reason %q must be lowercase letters, digits and dashes", ErrInvalid, reason)
	}
	bdir := filepath.Join(dir, backupDir)
	if err := os.MkdirAll(bdir, 0o700); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	tightenPerm(log, bdir, 0o700)
	final := filepath.Join(bdir, backupPrefix+now.UTC().Format(backupTimeFormat)+"-"+reason+backupSuffix)

	tmp, err := os.CreateTemp(bdir, ".tmp-*.db")
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	var size int64
	err = view(func(tx *bolt.Tx) error {
		var err error
		size, err = tx.WriteTo(tmp)
		return err
	})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("backup: %w", err)
	}
	if err := syncDir(bdir); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	log.Info("backup written", "path", final, "reason", reason, "bytes", size)
	rotateBackups(bdir, reason, keep, log)
	return final, nil
}

// staleTempAge is how old a backup's temporary file must be before
// rotation treats it as left by a crash. Younger ones may belong to a
// backup still being written.
const staleTempAge = 24 * time.Hour

// rotateBackups removes all but the newest keep backups of reason, and
// temporary files left by backups that crashed. Failures are logged: a
// leftover backup costs disk, not data.
func rotateBackups(bdir, reason string, keep int, log *slog.Logger) {
	entries, err := os.ReadDir(bdir)
	if err != nil {
		log.Warn("backup rotation failed", "dir", bdir, "error", err)
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".tmp-") {
			continue
		}
		if st, err := e.Info(); err == nil && time.Since(st.ModTime()) > staleTempAge {
			p := filepath.Join(bdir, e.Name())
			if err := os.Remove(p); err == nil {
				log.Info("stale backup temporary file removed", "path", p)
			}
		}
	}
	type named struct {
		name string
		t    time.Time
	}
	var same []named
	for _, e := range entries {
		if t, r, ok := parseBackupName(e.Name()); ok && r == reason && e.Type().IsRegular() {
			same = append(same, named{e.Name(), t})
		}
	}
	slices.SortFunc(same, func(a, b named) int {
		if c := b.t.Compare(a.t); c != 0 {
			return c
		}
		return strings.Compare(b.name, a.name)
	})
	for _, old := range same[min(keep, len(same)):] {
		p := filepath.Join(bdir, old.name)
		if err := os.Remove(p); err != nil {
			log.Warn("backup rotation failed", "path", p, "error", err)
			continue
		}
		log.Info("old backup removed", "path", p, "reason", reason)
	}
}

// ListBackups returns the backups in dir's backups directory, newest
// first (by the time in the name, then, within the same second, by the
// modification time: a manual backup taken right after a pre-compact one
// is the newer), each checked with the same damage check Open uses (Err says why
// one is not good). A missing backups directory is an empty list.
func ListBackups(dir string) ([]Backup, error) {
	bdir := filepath.Join(dir, backupDir)
	entries, err := os.ReadDir(bdir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []Backup
	for _, e := range entries {
		t, reason, ok := parseBackupName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		b := Backup{Path: filepath.Join(bdir, e.Name()), Time: t, Reason: reason}
		if st, err := e.Info(); err == nil {
			b.Size, b.ModTime = st.Size(), st.ModTime()
		}
		if _, err := inspectFile(b.Path); err != nil {
			b.Err = fmt.Errorf("%w: %s", ErrDamaged, err.Error())
		}
		out = append(out, b)
	}
	slices.SortFunc(out, newestFirst)
	return out, nil
}

// newestFirst orders backups newest first. The name's time comes first
// because it survives copying the backups elsewhere, which resets
// modification times; the modification time only breaks ties within a
// second.
func newestFirst(a, b Backup) int {
	if c := b.Time.Compare(a.Time); c != 0 {
		return c
	}
	if c := b.ModTime.Compare(a.ModTime); c != 0 {
		return c
	}
	return strings.Compare(b.Path, a.Path)
}

// checkFile checks the database file at path without changing it: the
// damage pre-check, then bbolt's exhaustive page check (tx.Check), then
// qunguan's own layer: a supported schema version and every record and
// hourly count decodable. It returns the reason, in words, if the file is
// not good.
func checkFile(path string) error {
	if _, err := inspectFile(path); err != nil {
		return err
	}
	bdb, err := openBolt(path, DefaultLockTimeout, 0, true)
	if err != nil {
		return err
	}
	defer bdb.Close()

	var problems []string
	total := 0
	note := func(s string) {
		total++
		if len(problems) < maxCheckProblems {
			problems = append(problems, s)
		}
	}
	err = viewSafe(bdb, func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			note(err.Error())
		}
		if total > 0 {
			return nil
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil || len(meta.Get(keyVersion)) != 8 {
			note("not a qunguan database: no schema version")
			return nil
		}
		switch v := binary.BigEndian.Uint64(meta.Get(keyVersion)); {
		case v > currentVersion:
			return fmt.Errorf("%w: schema version %d and this qunguan supports up to %d; run a newer qunguan",
				ErrSchemaTooNew, v, currentVersion)
		case v == 0:
			note("schema version 0")
			return nil
		}
		if recs := tx.Bucket(bucketRecords); recs != nil {
			_ = recs.ForEachBucket(func(g []byte) error {
				var r bot.Record
				return recs.Bucket(g).ForEach(func(k, v []byte) error {
					if err := decodeRecord("", k, v, &r); err != nil {
						note(fmt.Sprintf("record %x of %s: %v", k, g, err))
					}
					return nil
				})
			})
		}
		if hours := tx.Bucket(bucketHours); hours != nil {
			_ = hours.ForEachBucket(func(g []byte) error {
				return hours.Bucket(g).ForEach(func(k, v []byte) error {
					if _, err := decodeHour(k, v); err != nil {
						note(fmt.Sprintf("hour %x of %s: %v", k, g, err))
					}
					return nil
				})
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if total > 0 {
		msg := strings.Join(problems, "; ")
		if total > len(problems) {
			msg += fmt.Sprintf("; and %d more problems", total-len(problems))
		}
		return errors.New(msg)
	}
	return nil
}

// viewSafe runs a read transaction on a bbolt handle that is not a DB
// (Check, Compact, Restore), turning panics and faults into errors.
func viewSafe(bdb *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	return bdb.View(fn)
}

// Check runs the full check of checkFile on the database in dir, for
// "qunguan db check". It needs the directory to itself (ErrLocked
// otherwise) and returns a *DamagedError naming the newest good backup if
// the file is not good.
func Check(dir string) error {
	lock, err := lockDir(dir, DefaultLockTimeout)
	if err != nil {
		return err
	}
	defer lock.release()
	path := filepath.Join(dir, dbFileName)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := checkFile(path); errors.Is(err, ErrSchemaTooNew) {
		return fmt.Errorf("check %s: %w", path, err)
	} else if err != nil {
		return damaged(dir, path, err.Error())
	}
	return nil
}

// Restore replaces the database in dir with a copy of backupPath, for
// "qunguan db restore", and returns where the previous file went ("" if
// there was none). It checks the backup fully first, then checks the
// current file and moves it aside (never deleting it) as
// qunguan.db.replaced-<UTC time> when it was healthy or
// qunguan.db.damaged-<UTC time> when it was not. It fails with ErrLocked
// while a qunguan holds dir, and with an error matching os.ErrNotExist
// when backupPath does not exist.
func Restore(dir, backupPath string) (aside string, err error) {
	lock, err := lockDir(dir, DefaultLockTimeout)
	if err != nil {
		return "", err
	}
	defer lock.release()
	if st, err := os.Stat(backupPath); errors.Is(err, os.ErrNotExist) {
		return "", &missingError{fmt.Sprintf("restore: backup file %s does not exist (qunguan db backups lists the backups)", backupPath)}
	} else if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	} else if !st.Mode().IsRegular() {
		return "", fmt.Errorf("restore: %s is not a backup file", backupPath)
	}
	if err := checkFile(backupPath); err != nil {
		return "", fmt.Errorf("restore: backup %s is not usable: %w: %s", backupPath, ErrDamaged, err.Error())
	}
	path := filepath.Join(dir, dbFileName)
	tmp := path + ".restore"
	if err := copyFile(backupPath, tmp); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		// A file from a newer qunguan is not damaged, only not readable
		// by this one.
		kind := "replaced"
		if err := checkFile(path); err != nil && !errors.Is(err, ErrSchemaTooNew) {
			kind = "damaged"
		}
		aside = freeName(path + "." + kind + "-" + time.Now().UTC().Format(backupTimeFormat))
		if err := os.Rename(path, aside); err != nil {
			_ = os.Remove(tmp)
			return "", fmt.Errorf("restore: move the current file aside: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return aside, fmt.Errorf("restore: %w", err)
	}
	return aside, syncDir(dir)
}

// missingError is a file that is not there; it matches os.ErrNotExist
// without repeating its words.
type missingError struct{ msg string }

func (e *missingError) Error() string { return e.msg }
func (e *missingError) Unwrap() error { return os.ErrNotExist }

// freeName returns name, or name-2, name-3, ... if it is taken, so that
// two restores within a second keep both replaced files.
func freeName(name string) string {
	p := name
	for i := 2; ; i++ {
		if _, err := os.Lstat(p); err != nil {
			return p // free, or unknowable: then the rename says why
		}
		p = fmt.Sprintf("%s-%d", name, i)
	}
}

// copyFile copies src to a new file dst (0600) and fsyncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// Compact rewrites the database in dir without its free pages, for
// "qunguan db compact" (bbolt files never shrink on their own). It backs
// the file up first (reason "pre-compact"), compacts into a temporary
// file, checks it, and renames it over the original. It needs the
// directory to itself and returns the file sizes before and after.
func Compact(dir string) (before, after int64, err error) {
	lock, err := lockDir(dir, DefaultLockTimeout)
	if err != nil {
		return 0, 0, err
	}
	defer lock.release()
	path := filepath.Join(dir, dbFileName)
	info, err := inspectFile(path)
	if err != nil {
		return 0, 0, damaged(dir, path, err.Error())
	}
	before = info.size
	log := slog.New(slog.DiscardHandler)

	src, err := openBolt(path, DefaultLockTimeout, 0, true)
	if err != nil {
		return before, 0, damaged(dir, path, err.Error())
	}
	defer src.Close()
	view := func(fn func(*bolt.Tx) error) error { return viewSafe(src, fn) }
	if _, err := writeBackup(view, dir, "pre-compact", time.Now(), DefaultBackupKeep, log); err != nil {
		return before, 0, fmt.Errorf("compact: %w", err)
	}

	tmp := path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return before, 0, fmt.Errorf("compact: %w", err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: DefaultLockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return before, 0, fmt.Errorf("compact: %w", err)
	}
	err = compactSafe(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if cerr := checkFile(tmp); cerr != nil {
			err = fmt.Errorf("the compacted copy fails its check: %v", cerr)
		}
	}
	if err != nil {
		_ = os.Remove(tmp)
		return before, 0, fmt.Errorf("compact: %w", err)
	}
	if err := src.Close(); err != nil {
		return before, 0, fmt.Errorf("compact: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return before, 0, fmt.Errorf("compact: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return before, 0, fmt.Errorf("compact: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return before, 0, fmt.Errorf("compact: %w", err)
	}
	return before, st.Size(), nil
}

func compactSafe(dst, src *bolt.DB) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	return bolt.Compact(dst, src, compactTxSize)
}
