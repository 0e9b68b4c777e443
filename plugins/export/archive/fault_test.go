package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// assertNothingComplete checks that a failed export left no archive: the
// parent is empty, or holds only .partial leftovers without a manifest.
func assertNothingComplete(t *testing.T, dir string, allowPartial bool) {
	t.Helper()
	for _, name := range listDir(t, dir) {
		if !strings.HasSuffix(name, partialSuffix) {
			t.Errorf("failed export left %s", name)
			continue
		}
		if !allowPartial {
			t.Errorf("failed export left %s (cleanup should have removed it)", name)
		}
		if _, err := os.Stat(filepath.Join(dir, name, ManifestFile)); err == nil {
			t.Errorf("leftover %s has a manifest", name)
		}
		if _, err := Verify(filepath.Join(dir, name)); err == nil {
			t.Errorf("leftover %s verifies", name)
		}
	}
}

// bytesOfCleanRun counts the bytes a successful export writes through FS.
func bytesOfCleanRun(t *testing.T, src Source, mutate func(*Options)) int64 {
	t.Helper()
	fsys := newFaultFS()
	opts := testOptions(t.TempDir())
	opts.FS = fsys
	if mutate != nil {
		mutate(&opts)
	}
	if _, err := Write(context.Background(), src, opts); err != nil {
		t.Fatal(err)
	}
	return fsys.written
}

func TestWriteFailsCleanlyPartWay(t *testing.T) {
	// One source for all runs: the media paths it records are part of the
	// output, and the budgets assume the same bytes every time.
	src := corpus(t, t.TempDir())
	total := bytesOfCleanRun(t, src, nil)
	// Budgets land in every phase: the first message files, the XLSX
	// workbook, members, the manifest, the zip.
	budgets := []int64{0, 1, 100, 4096, total / 10, total / 4, total / 2, total * 3 / 4, total * 9 / 10, total - 200, total - 1}
	for _, budget := range budgets {
		for _, inject := range []error{errInjected, syscall.ENOSPC} {
			fsys := newFaultFS()
			fsys.budget, fsys.err = budget, inject
			dir := t.TempDir()
			opts := testOptions(dir)
			opts.FS = fsys
			res, err := Write(context.Background(), src, opts)
			if err == nil {
				t.Fatalf("budget %d of %d: Write succeeded: %+v", budget, total, res)
			}
			if !errors.Is(err, inject) {
				t.Errorf("budget %d: error %v does not wrap %v", budget, err, inject)
			}
			assertNothingComplete(t, dir, false)
		}
	}
}

func TestWriteFailsCleanlyAtEachStep(t *testing.T) {
	for name, setup := range map[string]func(f *faultFS, parent string){
		"create jsonl":          func(f *faultFS, _ string) { f.failCreate = MessagesJSONL },
		"create xlsx":           func(f *faultFS, _ string) { f.failCreate = MessagesXLSX },
		"create html":           func(f *faultFS, _ string) { f.failCreate = MessagesHTML },
		"create media":          func(f *faultFS, _ string) { f.failCreate = "media" + string(filepath.Separator) },
		"create members":        func(f *faultFS, _ string) { f.failCreate = MembersCSV },
		"create config":         func(f *faultFS, _ string) { f.failCreate = ConfigFile },
		"create sums":           func(f *faultFS, _ string) { f.failCreate = SumsFile },
		"create manifest":       func(f *faultFS, _ string) { f.failCreate = ManifestFile },
		"create zip":            func(f *faultFS, _ string) { f.failCreate = ".zip.partial" },
		"sync message file":     func(f *faultFS, _ string) { f.failSync = MessagesCSV },
		"sync media folder":     func(f *faultFS, _ string) { f.failSyncDir = MediaDir },
		"sync partial folder":   func(f *faultFS, _ string) { f.failSyncDir = partialSuffix },
		"sync zip":              func(f *faultFS, _ string) { f.failSync = ".zip.partial" },
		"rename zip":            func(f *faultFS, _ string) { f.failRename = ".zip" },
		"rename folder":         func(f *faultFS, _ string) { f.failRename = "Z" }, // the final folder name ends in Z
		"sync parent at commit": func(f *faultFS, parent string) { f.failSyncDir = parent },
	} {
		t.Run(name, func(t *testing.T) {
			src := corpus(t, t.TempDir())
			fsys := newFaultFS()
			dir := t.TempDir()
			setup(fsys, dir)
			opts := testOptions(dir)
			opts.FS = fsys
			_, err := Write(context.Background(), src, opts)
			if !errors.Is(err, errInjected) {
				t.Fatalf("Write = %v, want the injected error", err)
			}
			// Cleanup itself must succeed, except where the injected failure
			// (syncing the parent) hits it too.
			if strings.Contains(err.Error(), "clean up") && fsys.failSyncDir != dir {
				t.Errorf("cleanup failed: %v", err)
			}
			assertNothingComplete(t, dir, false)
		})
	}
}

func TestCleanupFailureLeavesOnlyAnIncompletePartial(t *testing.T) {
	src := corpus(t, t.TempDir())
	fsys := newFaultFS()
	fsys.failCreate = SumsFile // fails after every message file is complete
	fsys.failRmAll = true
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.FS = fsys
	_, err := Write(context.Background(), src, opts)
	if err == nil || !strings.Contains(err.Error(), "clean up failed export") {
		t.Fatalf("Write = %v, want the write and the cleanup failure", err)
	}
	names := listDir(t, dir)
	if len(names) != 1 || !strings.HasSuffix(names[0], partialSuffix) {
		t.Fatalf("parent holds %q, want one .partial", names)
	}
	assertNothingComplete(t, dir, true)
	// And Prune clears it once it is old enough.
	removed, err := Prune(dir, DefaultRetention, exportNow.Add(DefaultRetention+partialGrace+1))
	if err != nil || len(removed) != 1 {
		t.Errorf("Prune = %q, %v", removed, err)
	}
}

func TestFailureAfterManifestRemovesIt(t *testing.T) {
	// The zip fails after the manifest exists; with RemoveAll failing the
	// manifest must still be gone.
	src := corpus(t, t.TempDir())
	fsys := newFaultFS()
	fsys.failCreate = ".zip.partial"
	fsys.failRmAll = true
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.FS = fsys
	if _, err := Write(context.Background(), src, opts); !errors.Is(err, errInjected) {
		t.Fatalf("Write = %v", err)
	}
	assertNothingComplete(t, dir, true)
}

func TestScanFailureAndCancel(t *testing.T) {
	boom := errors.New("store read failed")
	src := corpus(t, t.TempDir())
	src.scanHook = func(i int) error {
		if i == 6 {
			return boom
		}
		return nil
	}
	dir := t.TempDir()
	if _, err := Write(context.Background(), src, testOptions(dir)); !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the scan error", err)
	}
	assertNothingComplete(t, dir, false)

	ctx, cancel := context.WithCancel(context.Background())
	src = corpus(t, t.TempDir())
	src.scanHook = func(i int) error {
		if i == 3 {
			cancel()
		}
		return nil
	}
	dir = t.TempDir()
	if _, err := Write(ctx, src, testOptions(dir)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write = %v, want context.Canceled", err)
	}
	assertNothingComplete(t, dir, false)
}

func TestXLSXFailureOnItsGoroutine(t *testing.T) {
	// Enough rows that the XLSX writer is still working when the failure
	// hits; the failure must come back through the async sink.
	src := &memSource{group: bot.GroupRecord{ID: testGroup, Name: "大群"}}
	for i := range 3000 {
		src.records = append(src.records, bot.Record{Group: testGroup, Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Second),
			Kind: bot.EventMessage, Sender: "u_a", SenderName: "A", MsgType: bot.MsgText, Text: "一条消息"})
	}
	fsys := newFaultFS()
	fsys.failSync = MessagesXLSX
	fsys.budget = 50000 // runs out while the workbook is still being fed
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.FS = fsys
	opts.xlsxRowLimit = 1000
	if _, err := Write(context.Background(), src, opts); !errors.Is(err, errInjected) {
		t.Fatalf("Write = %v", err)
	}
	assertNothingComplete(t, dir, false)
}
