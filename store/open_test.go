package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := newClock()
	db, err := Open(dir, testOptions(t, c))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700},
		{filepath.Join(dir, dbFileName), 0o600},
		{filepath.Join(dir, lockFileName), 0o600},
	} {
		st, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != tc.want {
			t.Errorf("%s: mode %v, want %v", tc.path, got, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, dbFileName+".new")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary creation file left behind: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	db = openTest(t, dir, testOptions(t, c))
	var version uint64
	err = db.view(func(tx *bolt.Tx) error {
		version = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyVersion))
		if tx.Bucket(bucketHours) == nil {
			return errors.New("no hours bucket")
		}
		return nil
	})
	if err != nil || version != currentVersion {
		t.Fatalf("version %d, err %v; want %d", version, err, currentVersion)
	}
}

func TestOpenTightensFilePermissionsAndWarnsAboutDir(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, testOptions(t, newClock()))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, dbFileName)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	opts := testOptions(t, newClock())
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	openTest(t, dir, opts)
	for p, want := range map[string]os.FileMode{dir: 0o755, path: 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v after Open, want %v", p, got, want)
		}
	}
	for _, want := range []string{
		`level=WARN msg="data directory is open to other users; the database holds private messages" path=` + dir,
		`level=WARN msg="permissions tightened" path=` + path + ` old_mode=-rw-r--r-- new_mode=-rw-------`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, newClock())
	openTest(t, dir, opts)
	start := time.Now()
	db2, err := Open(dir, opts)
	if err == nil {
		db2.Close()
		t.Fatal("second Open succeeded")
	}
	if want := fmt.Sprintf("another qunguan is using %q", dir); err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("error %v does not match ErrLocked", err)
	}
	if waited := time.Since(start); waited < opts.LockTimeout {
		t.Errorf("gave up after %v, before LockTimeout %v", waited, opts.LockTimeout)
	}
	for name, fn := range map[string]func() error{
		"Restore": func() error { _, err := Restore(dir, filepath.Join(dir, "whatever.db")); return err },
		"Check":   func() error { return Check(dir) },
		"Compact": func() error { _, _, err := Compact(dir); return err },
	} {
		if err := fn(); !errors.Is(err, ErrLocked) {
			t.Errorf("%s while open: %v, want ErrLocked", name, err)
		}
	}
}

func TestLockedMessage(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(wd, "data")
	for _, tt := range []struct{ dir, want string }{
		{"data", `another qunguan is using "data" (` + abs + `)`},
		{"./data", `another qunguan is using "./data" (` + abs + `)`},
		{abs, `another qunguan is using "` + abs + `"`},
		{"群管 数据", `another qunguan is using "群管 数据" (` + filepath.Join(wd, "群管 数据") + `)`},
	} {
		if got := lockedMessage(tt.dir); got != tt.want {
			t.Errorf("lockedMessage(%q) = %q, want %q", tt.dir, got, tt.want)
		}
	}
}

// helperEnv makes the test binary act as a second qunguan process.
const helperEnv = "QUNGUAN_STORE_HELPER_DIR"

// TestHelperSecondProcess is not a test on its own: TestSecondProcessIsLocked
// re-runs the test binary with helperEnv set, and this opens that
// directory and prints what happened.
func TestHelperSecondProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper for TestSecondProcessIsLocked")
	}
	db, err := Open(dir, Options{LockTimeout: 200 * time.Millisecond})
	if err == nil {
		db.Close()
		fmt.Println("opened")
		os.Exit(0)
	}
	fmt.Printf("is_locked=%v\n%s\n", errors.Is(err, ErrLocked), err)
	os.Exit(1)
}

func TestSecondProcessIsLocked(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, testOptions(t, newClock()))

	run := func() (string, int) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSecondProcess$")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	out, code := run()
	want := fmt.Sprintf("is_locked=true\nanother qunguan is using %q\n", dir)
	if code != 1 || out != want {
		t.Errorf("child: exit %d, output %q; want exit 1, %q", code, out, want)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if out, code := run(); code != 0 || out != "opened\n" {
		t.Errorf("child after Close: exit %d, output %q; want it to open", code, out)
	}
}

// populate writes a realistic amount of data: n records over three
// groups, members, an audit entry.
func populate(t testing.TB, db *DB, c *fakeClock, n int) {
	t.Helper()
	ctx := context.Background()
	groups := []bot.GroupID{"g_alpha", "g_beta", "g_gamma"}
	rs := make([]bot.Record, n)
	for i := range rs {
		c.Advance(37 * time.Second)
		rs[i] = msg(groups[i%3], bot.UserID(fmt.Sprintf("u_%02d", i%17)), c.Now(),
			strings.Repeat("群聊消息 hello ", 1+i%9))
	}
	appendAll(t, db, rs...)
	if _, err := db.AppendAudit(ctx, bot.AuditEntry{Actor: "system", Action: "test.populate", Detail: "populated"}); err != nil {
		t.Fatal(err)
	}
}

// damagedFixture builds a closed database with data and one good backup
// and returns the directory and the backup's path.
func damagedFixture(t *testing.T, withBackup bool) (dir, backup string) {
	t.Helper()
	dir = t.TempDir()
	c := newClock()
	db, err := Open(dir, testOptions(t, c))
	if err != nil {
		t.Fatal(err)
	}
	populate(t, db, c, 3000)
	if withBackup {
		// An older backup too, so the test sees that the newest is named.
		if _, err := db.Backup(context.Background(), "daily"); err != nil {
			t.Fatal(err)
		}
		c.Advance(24 * time.Hour)
		if backup, err = db.Backup(context.Background(), "daily"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, backup
}

func TestOpenRefusesDamagedFiles(t *testing.T) {
	for _, tc := range []struct {
		name       string
		withBackup bool
		damage     func(t *testing.T, path string)
		reason     string
	}{
		{
			name:       "truncated to half",
			withBackup: true,
			damage: func(t *testing.T, path string) {
				info, err := inspectFile(path)
				if err != nil {
					t.Fatal(err)
				}
				half := info.size / 2
				if uint64(half) >= info.pgid*uint64(info.pageSize) {
					t.Fatalf("fixture too small: half the file (%d) still holds every page (%d)",
						half, info.pgid*uint64(info.pageSize))
				}
				if err := os.Truncate(path, half); err != nil {
					t.Fatal(err)
				}
			},
			reason: "truncated",
		},
		{
			name:       "zero length",
			withBackup: true,
			damage: func(t *testing.T, path string) {
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
			},
			reason: "zero length",
		},
		{
			name: "both meta pages garbage, no backup",
			damage: func(t *testing.T, path string) {
				info, err := inspectFile(path)
				if err != nil {
					t.Fatal(err)
				}
				garbage := bytes.Repeat([]byte{0xA5, 0x5A, 0x13}, 40)
				f, err := os.OpenFile(path, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				for _, off := range []int64{0, int64(info.pageSize)} {
					if _, err := f.WriteAt(garbage, off+pageHeaderSize); err != nil {
						t.Fatal(err)
					}
				}
			},
			reason: "no valid meta page",
		},
		{
			name:       "root page garbage",
			withBackup: true,
			damage: func(t *testing.T, path string) {
				info, err := inspectFile(path)
				if err != nil {
					t.Fatal(err)
				}
				f, err := os.OpenFile(path, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				garbage := bytes.Repeat([]byte{0xFF, 0x00, 0x7E, 0x81}, int(info.pageSize)/4)
				if _, err := f.WriteAt(garbage, int64(info.root)*int64(info.pageSize)); err != nil {
					t.Fatal(err)
				}
			},
			reason: "root page",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, backup := damagedFixture(t, tc.withBackup)
			path := filepath.Join(dir, dbFileName)
			tc.damage(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			db, err := Open(dir, testOptions(t, newClock()))
			if err == nil {
				db.Close()
				t.Fatal("Open accepted a damaged file")
			}
			var de *DamagedError
			if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) {
				t.Fatalf("error %v (%T), want *DamagedError", err, err)
			}
			if !strings.Contains(de.Reason, tc.reason) {
				t.Errorf("reason %q does not mention %q", de.Reason, tc.reason)
			}
			if de.NewestBackup != backup {
				t.Errorf("NewestBackup %q, want %q", de.NewestBackup, backup)
			}
			if backup != "" && !strings.Contains(err.Error(), `run "qunguan db restore `+backup+`"`) {
				t.Errorf("message does not say how to restore: %v", err)
			}
			if backup == "" && !strings.Contains(err.Error(), "no good backup") {
				t.Errorf("message does not say there is no backup: %v", err)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("damaged file gone: %v", err)
			}
			if !bytes.Equal(before, after) {
				t.Error("Open changed the damaged file")
			}
			// The lock is released: Restore can run right away.
			if backup != "" {
				aside, err := Restore(dir, backup)
				if err != nil {
					t.Fatalf("Restore: %v", err)
				}
				if !strings.Contains(filepath.Base(aside), dbFileName+".damaged-") {
					t.Errorf("the damaged file was kept as %s, want qunguan.db.damaged-...", aside)
				}
				db := openTest(t, dir, testOptions(t, newClock()))
				if got := len(scanAll(t, db, "g_alpha")); got != 1000 {
					t.Errorf("restored g_alpha has %d records, want 1000", got)
				}
			}
		})
	}
}

// TestOpenRecoversBboltPanics overwrites the root page of one group's
// records bucket with garbage. The pre-check does not look there, so
// bbolt itself trips on it ("Page expected to be ...") during Open's first
// read; Open must refuse the file, not crash.
func TestOpenRecoversBboltPanics(t *testing.T) {
	dir, _ := damagedFixture(t, false)
	path := filepath.Join(dir, dbFileName)
	info, err := inspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var root uint64
	err = bdb.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket(bucketRecords).Bucket([]byte("g_alpha")).Root())
		return nil
	})
	bdb.Close()
	if err != nil || root < 2 {
		t.Fatalf("records/g_alpha root page %d: %v", root, err)
	}
	garbage := bytes.Repeat([]byte{0xDE, 0xAD, 0xBE, 0xEF}, int(info.pageSize)/4)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(garbage, int64(root)*int64(info.pageSize)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	db, err := Open(dir, testOptions(t, newClock()))
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a file with a garbage page")
	}
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("error %v, want ErrDamaged from a recovered panic", err)
	}
	if err := Check(dir); !errors.Is(err, ErrDamaged) {
		t.Errorf("Check: %v, want ErrDamaged", err)
	}
}

func TestOpenUsesOlderMetaWhenNewestIsTorn(t *testing.T) {
	dir, _ := damagedFixture(t, false)
	path := filepath.Join(dir, dbFileName)
	info, err := inspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Flip the checksum of the newest meta page, as a torn meta write
	// would leave it.
	newest := int64(info.txid%2) * int64(info.pageSize)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{0}
	if _, err := f.ReadAt(b, newest+pageHeaderSize+metaChecksumOff); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xFF
	if _, err := f.WriteAt(b, newest+pageHeaderSize+metaChecksumOff); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := inspectFile(path)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	if !got.olderMeta || got.txid != info.txid-1 {
		t.Errorf("inspect chose txid %d (older %v), want %d", got.txid, got.olderMeta, info.txid-1)
	}
	openTest(t, dir, testOptions(t, newClock()))
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, testOptions(t, newClock()))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(filepath.Join(dir, dbFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyVersion, u64(currentVersion+1))
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	db2, err := Open(dir, testOptions(t, newClock()))
	if err == nil {
		db2.Close()
		t.Fatal("Open accepted a newer schema")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("error %v, want ErrSchemaTooNew", err)
	}
	want := fmt.Sprintf("schema version %d and this qunguan supports up to %d", currentVersion+1, currentVersion)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	// The lock was released.
	l, err := lockDir(dir, 0)
	if err != nil {
		t.Fatalf("lock after refused Open: %v", err)
	}
	l.release()
	if err := Check(dir); !errors.Is(err, ErrSchemaTooNew) || errors.Is(err, ErrDamaged) {
		t.Errorf("Check: %v, want ErrSchemaTooNew (not damage)", err)
	}
}
