// Package store keeps qunguan's state in one embedded bbolt file and
// implements bot.Store. It is the only package that imports bbolt.
//
// The file lives at <dir>/qunguan.db next to <dir>/qunguan.lock (the
// process lock) and <dir>/backups/. Its layout, schema version 2:
//
//	qunguan.db
//	├── meta/
//	│   ├── version ─────────────── uint64 BE: the schema version (1, 2)
//	│   └── created ─────────────── RFC 3339 UTC text
//	├── groups/<group id> ───────── JSON bot.GroupRecord
//	├── users/<user id> ─────────── JSON bot.UserRecord
//	├── members/<group id>/         one bucket per group
//	│   └── <user id> ───────────── JSON bot.MemberRecord (kept after leaving)
//	├── records/                    bucket sequence = the last record Seq (global)
//	│   └── <group id>/             one bucket per group: purge is DeleteBucket
//	│       └── <unix nanos BE 8><seq BE 8> ── binary record (records.go)
//	├── hours/                      v2: hourly counts, written with the records
//	│   └── <group id>/
//	│       └── <hour start, unix seconds BE 8> ── binary bot.HourCount
//	├── audit/<seq BE 8> ────────── JSON bot.AuditEntry, hash-chained (audit.go)
//	│                               bucket sequence = the last audit Seq
//	├── kv/<namespace>/<key> ────── plugin bytes, one bucket per namespace
//	├── timers/<timer id> ───────── JSON bot.TimerRecord
//	├── tasks/<task id> ─────────── JSON bot.Task
//	├── admins/<group id>/<user id> JSON bot.AdminGrant
//	└── sessions/<id BE 8> ──────── JSON bot.Session; bucket sequence = last id
//
// Version 1 is the same without hours/; Open upgrades it (upgrade.go).
//
// Rules every method follows: keys that are scanned as ranges are
// big-endian; bytes read in a transaction are copied before it ends; no View
// runs inside an Update (and no callback that might write runs inside a
// View); long reads go in chunks of short View transactions so they never
// hold the writer's remap back. Messages go through one group-commit writer
// goroutine (records.go), never one Update per message.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/qunguan/qunguan/bot"
)

// Bucket and key names. Each comment says what the bucket holds; the
// diagram in the package comment shows how they nest.
var (
	// bucketMeta holds the schema version and creation time.
	bucketMeta = []byte("meta")
	// keyVersion is meta/version: the schema version as uint64 BE.
	keyVersion = []byte("version")
	// keyCreated is meta/created: when the file was created, RFC 3339 UTC.
	keyCreated = []byte("created")

	// bucketGroups maps group id to JSON bot.GroupRecord.
	bucketGroups = []byte("groups")
	// bucketUsers maps user id to JSON bot.UserRecord.
	bucketUsers = []byte("users")
	// bucketMembers holds one bucket per group mapping user id to JSON
	// bot.MemberRecord.
	bucketMembers = []byte("members")
	// bucketRecords holds one bucket per group mapping time+seq to a binary
	// record; its own sequence is the global record Seq.
	bucketRecords = []byte("records")
	// bucketHours (schema v2) holds one bucket per group mapping an hour to
	// binary counts.
	bucketHours = []byte("hours")
	// bucketAudit maps seq to JSON bot.AuditEntry; its sequence is the
	// last audit Seq.
	bucketAudit = []byte("audit")
	// bucketKV holds one bucket per plugin namespace.
	bucketKV = []byte("kv")
	// bucketTimers maps timer id to JSON bot.TimerRecord.
	bucketTimers = []byte("timers")
	// bucketTasks maps task id to JSON bot.Task.
	bucketTasks = []byte("tasks")
	// bucketAdmins holds one bucket per group mapping user id to JSON
	// bot.AdminGrant.
	bucketAdmins = []byte("admins")
	// bucketSessions maps session id (uint64 BE) to JSON bot.Session; its
	// sequence is the last session id.
	bucketSessions = []byte("sessions")
)

// bucketsV1 are the top-level buckets of schema version 1; version 2 adds
// bucketHours.
var bucketsV1 = [][]byte{
	bucketMeta, bucketGroups, bucketUsers, bucketMembers, bucketRecords,
	bucketAudit, bucketKV, bucketTimers, bucketTasks, bucketAdmins, bucketSessions,
}

// File names inside the data directory.
const (
	dbFileName   = "qunguan.db"
	lockFileName = "qunguan.lock"
	backupDir    = "backups"
)

// appendFillPercent is set on append-only buckets (records, hours) in every
// write transaction: time-ordered keys would otherwise leave every split
// page half full and double the file (perf-reliability.md section 2).
const appendFillPercent = 0.9

// Sentinel errors. Callers compare with errors.Is.
var (
	// ErrLocked means another process (or another DB in this one) holds
	// the data directory.
	ErrLocked = errors.New("database is locked")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("store is closed")
	// ErrDamaged is matched by every *DamagedError.
	ErrDamaged = errors.New("database file is damaged")
	// ErrSchemaTooNew means the file was written by a newer qunguan.
	ErrSchemaTooNew = errors.New("database schema is newer than this qunguan")
	// ErrFull means the file reached Options.MaxSize (or the disk is full).
	ErrFull = errors.New("database is full")
	// ErrPanic means bbolt panicked inside a transaction. bbolt panics on
	// garbage pages, so this usually means a damaged file.
	ErrPanic = errors.New("panic inside a database transaction")
	// ErrInvalid is returned for arguments the store cannot keep, such
	// as a record without a group or an empty KV key.
	ErrInvalid = errors.New("invalid argument")
)

// lockedError is the error a second Open gets. Its message is exactly what
// the CLI prints before exiting 1: the directory as given, quoted, and its
// absolute path when that is different, so a relative "data" can be told
// apart from another folder of the same name.
type lockedError struct{ dir string }

func (e *lockedError) Error() string { return lockedMessage(e.dir) }

func lockedMessage(dir string) string {
	msg := fmt.Sprintf("another qunguan is using %q", dir)
	if abs, err := filepath.Abs(dir); err == nil && abs != dir {
		msg += " (" + abs + ")"
	}
	return msg
}
func (e *lockedError) Unwrap() error { return ErrLocked }

// Options configure Open. The zero value is usable.
type Options struct {
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock for creation times, default record and audit
	// times and backup names; nil means time.Now.
	Now func() time.Time
	// LockTimeout is how long Open waits for another process to let go of
	// the directory before failing with ErrLocked; default 1s.
	LockTimeout time.Duration
	// BatchSize is the most records the writer commits in one
	// transaction; default 256.
	BatchSize int
	// BatchDelay is the longest a record waits for its batch to fill
	// before the writer commits it; default 20ms.
	BatchDelay time.Duration
	// BackupKeep is how many backups of each reason are kept; default 7.
	BackupKeep int
	// MaxSize caps the file size in bytes (bbolt's MaxSize); commits that
	// would grow the file beyond it fail with ErrFull. 0 means no cap.
	MaxSize int
	// NoSync skips fsync at commit. Only the simulated bot (tests and the
	// demo) sets it: a killed process loses nothing (the page cache
	// survives it), but a power cut can corrupt the file.
	NoSync bool

	// schemaVersion makes the DB create and write an older schema. Only
	// the frozen-database generator in the tests sets it.
	schemaVersion uint64
}

// Defaults for Options.
const (
	DefaultLockTimeout = time.Second
	DefaultBatchSize   = 256
	DefaultBatchDelay  = 20 * time.Millisecond
	DefaultBackupKeep  = 7
)

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.BatchDelay <= 0 {
		o.BatchDelay = DefaultBatchDelay
	}
	if o.BackupKeep <= 0 {
		o.BackupKeep = DefaultBackupKeep
	}
	if o.schemaVersion == 0 {
		o.schemaVersion = currentVersion
	}
	return o
}

// DB is qunguan's store on one bbolt file. All methods are safe for
// concurrent use.
type DB struct {
	dir  string
	path string
	opts Options
	log  *slog.Logger
	now  func() time.Time
	bolt *bolt.DB
	lock *dirLock

	// schema is the version this handle writes: currentVersion, or an
	// older one in the frozen-database generator.
	schema uint64

	// The record writer. wmu guards wclosed and sends on in, so that
	// AppendRecord after Close answers ErrClosed instead of panicking on
	// a closed channel.
	wmu        sync.RWMutex
	wclosed    bool
	in         chan writeReq
	writerDone chan struct{}

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the store in dir. It refuses a damaged
// file with a *DamagedError naming the newest good backup, and a directory
// held by another process with an error matching ErrLocked whose message
// is `another qunguan is using "<dir>" (<absolute dir>)`.
func Open(dir string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	log := opts.Logger
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// The directory may be shared with other things (it is the operator's
	// choice), so it only gets a warning; the files in it are ours and
	// are tightened.
	warnPerm(log, dir, 0o700)

	lock, err := lockDir(dir, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	db, err := openLocked(dir, opts, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	return db, nil
}

func openLocked(dir string, opts Options, lock *dirLock) (*DB, error) {
	log := opts.Logger
	path := filepath.Join(dir, dbFileName)

	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// A new file is built under a temporary name and renamed into
		// place, so a zero-length qunguan.db always means damage and is
		// never silently re-initialised.
		if err := createFile(dir, opts); err != nil {
			return nil, err
		}
		log.Info("database created", "path", path, "schema_version", opts.schemaVersion)
	} else if err != nil {
		return nil, fmt.Errorf("stat database: %w", err)
	}
	tightenPerm(log, path, 0o600)

	info, err := inspectFile(path)
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		// Not damage: the file could not be opened or stat'ed at all
		// (permissions, say).
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err != nil {
		return nil, damaged(dir, path, err.Error())
	}
	if info.olderMeta {
		log.Warn("one meta page is invalid, opening at the other (normal after a crash during a commit)",
			"path", path, "txid", info.txid)
	}

	bdb, err := openBolt(path, opts.LockTimeout, opts.MaxSize, false)
	if err == nil {
		bdb.NoSync = opts.NoSync
	}
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		// Something outside qunguan (the bbolt CLI, say) holds the file.
		return nil, &lockedError{dir: dir}
	case errors.Is(err, errBoltPanic) || errors.Is(err, berrors.ErrInvalid) ||
		errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch):
		return nil, damaged(dir, path, err.Error())
	case err != nil:
		return nil, fmt.Errorf("open database: %w", err)
	}
	db := &DB{
		dir:    dir,
		path:   path,
		opts:   opts,
		log:    log,
		now:    opts.Now,
		bolt:   bdb,
		lock:   lock,
		schema: opts.schemaVersion,
	}
	version, err := db.firstRead()
	if err != nil {
		_ = bdb.Close()
		return nil, damaged(dir, path, err.Error())
	}
	if err := db.migrate(version); err != nil {
		_ = bdb.Close()
		return nil, err
	}

	db.in = make(chan writeReq, 2*opts.BatchSize)
	db.writerDone = make(chan struct{})
	go db.runWriter()
	log.Info("database opened", "path", path, "schema_version", db.schema, "txid", info.txid)
	return db, nil
}

// errBoltPanic marks a panic or fault inside bolt.Open.
var errBoltPanic = errors.New("bbolt panicked opening the file")

// openBolt opens a bbolt file with recover and fault protection: bbolt
// panics on garbage pages, and a fault reading the map must not kill the
// process. The damage pre-check (inspectFile) has already run.
func openBolt(path string, timeout time.Duration, maxSize int, readOnly bool) (bdb *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			bdb, err = nil, fmt.Errorf("%w: %v", errBoltPanic, r)
		}
	}()
	return bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      timeout,
		FreelistType: bolt.FreelistMapType,
		MaxSize:      maxSize,
		ReadOnly:     readOnly,
	})
}

// createFile builds a new, empty database of opts.schemaVersion at a
// temporary path and renames it to qunguan.db.
func createFile(dir string, opts Options) error {
	path := filepath.Join(dir, dbFileName)
	tmp := path + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", tmp, err)
	}
	bdb, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: opts.LockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, name := range bucketsV1 {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if opts.schemaVersion >= 2 {
			if _, err := tx.CreateBucketIfNotExists(bucketHours); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyVersion, u64(opts.schemaVersion)); err != nil {
			return err
		}
		return meta.Put(keyCreated, []byte(opts.Now().UTC().Format(time.RFC3339Nano)))
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("create database: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return syncDir(dir)
}

// firstRead reads the schema version and touches the first and last page
// of every bucket under recover, so a file with garbage where bbolt looks
// first is refused at Open rather than panicking later.
func (db *DB) firstRead() (uint64, error) {
	var version uint64
	err := db.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("not a qunguan database: no meta bucket")
		}
		v := meta.Get(keyVersion)
		if len(v) != 8 {
			return errors.New("not a qunguan database: no schema version")
		}
		version = binary.BigEndian.Uint64(v)
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			c := b.Cursor()
			c.First()
			k, v := c.Last()
			for ; k != nil; k, v = c.Prev() {
				if v != nil {
					break
				}
				// A nested bucket (records/<group>, ...): touch its ends too.
				if nb := b.Bucket(k); nb != nil {
					nc := nb.Cursor()
					nc.First()
					nc.Last()
				}
			}
			return nil
		})
	})
	return version, err
}

// Close waits for queued records to be committed, stops the writer and
// closes the file. It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.wmu.Lock()
		db.wclosed = true
		close(db.in)
		db.wmu.Unlock()
		<-db.writerDone

		db.closed.Store(true)
		if err := db.bolt.Close(); err != nil {
			db.closeErr = fmt.Errorf("close database: %w", err)
		}
		db.lock.release()
		db.log.Info("database closed", "path", db.path)
	})
	return db.closeErr
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Dir returns the data directory.
func (db *DB) Dir() string { return db.dir }

// view runs fn in a read transaction. A bbolt panic (garbage page) or a
// fault reading the map becomes an ErrPanic error instead of killing the
// bot.
func (db *DB) view(fn func(tx *bolt.Tx) error) (err error) {
	if db.closed.Load() {
		return ErrClosed
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer db.recoverTx(&err)
	err = db.bolt.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		// Close won the race with this call.
		err = ErrClosed
	}
	return err
}

// update runs fn in a write transaction, with the same panic handling as
// view; bbolt rolls the transaction back before the panic reaches us.
func (db *DB) update(fn func(tx *bolt.Tx) error) (err error) {
	if db.closed.Load() {
		return ErrClosed
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer db.recoverTx(&err)
	err = db.bolt.Update(fn)
	switch {
	case errors.Is(err, berrors.ErrMaxSizeReached):
		err = fmt.Errorf("%w: %w", ErrFull, err)
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		err = ErrClosed
	}
	return err
}

func (db *DB) recoverTx(err *error) {
	if r := recover(); r != nil {
		db.log.Error("panic inside a database transaction", "path", db.path,
			"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = fmt.Errorf("%w (the file may be damaged; run qunguan db check): %v", ErrPanic, r)
	}
}

// tightenPerm makes sure path is not readable by others: the database holds
// other people's chat messages. It tightens what it can and warns.
func tightenPerm(log *slog.Logger, path string, want os.FileMode) {
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	mode := st.Mode().Perm()
	if mode&^want == 0 {
		return
	}
	if err := os.Chmod(path, want); err != nil {
		log.Warn("permissions too open and could not be tightened", "path", path,
			"mode", mode.String(), "error", err)
		return
	}
	log.Warn("permissions tightened", "path", path, "old_mode", mode.String(), "new_mode", want.String())
}

// warnPerm warns when path is readable or writable by others.
func warnPerm(log *slog.Logger, path string, want os.FileMode) {
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&^want != 0 {
		log.Warn("data directory is open to other users; the database holds private messages",
			"path", path, "mode", st.Mode().Perm().String(), "suggested_mode", want.String())
	}
}

// syncDir fsyncs a directory so a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// u64 encodes v as 8 bytes big-endian.
func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

var _ bot.Store = (*DB)(nil)
