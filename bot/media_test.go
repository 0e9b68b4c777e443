package bot

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeFile(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestMediaJanitorDeletesOnlyInsideTheMediaFolder(t *testing.T) {
	data := t.TempDir()
	root := MediaDir(data)
	outside := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	kept := writeFile(t, filepath.Join(root, "g_a", "2026-03-01", "2_b.jpg"))
	gone := writeFile(t, filepath.Join(root, "g_a", "2026-03-01", "1_a.jpg"))
	lone := writeFile(t, filepath.Join(root, "g_a", "2026-03-02", "3_c.jpg"))
	secret := writeFile(t, filepath.Join(outside, "secret.txt"))
	elsewhere := writeFile(t, filepath.Join(data, "store.db"))
	// A link inside the media folder to a folder outside it.
	if err := os.Symlink(outside, filepath.Join(root, "g_a", "link")); err != nil {
		t.Fatal(err)
	}

	j := newMediaJanitor(root, quiet)
	n := j.remove("g_a", []string{
		gone, lone,
		secret, elsewhere,
		filepath.Join(root, "g_a", "link", "secret.txt"),
		filepath.Join(root, "..", "store.db"),
		filepath.Join(root, "g_a", "2026-03-01", "missing.jpg"),
		root, "",
	})
	if n != 2 {
		t.Errorf("removed %d files, want 2", n)
	}
	for _, p := range []string{gone, lone, filepath.Dir(lone)} {
		if exists(p) {
			t.Errorf("%s still exists", p)
		}
	}
	for _, p := range []string{kept, secret, elsewhere, root} {
		if !exists(p) {
			t.Errorf("%s was deleted", p)
		}
	}

	// No media folder at all: nothing to do, nothing deleted.
	if n := newMediaJanitor(filepath.Join(outside, "media"), quiet).remove("g_a", []string{secret}); n != 0 || !exists(secret) {
		t.Errorf("janitor without a media folder removed %d", n)
	}
}

func TestMediaJanitorSweepsDayFoldersPastTheCutoff(t *testing.T) {
	root := MediaDir(t.TempDir())
	loc := time.FixedZone("CST", 8*3600)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	old := writeFile(t, filepath.Join(root, "g_a", "2026-03-01", "1_a.jpg"))
	writeFile(t, filepath.Join(root, "g_a", "2026-03-01", ".download-123"))
	edge := writeFile(t, filepath.Join(root, "g_a", "2026-03-02", "2_b.jpg"))
	other := writeFile(t, filepath.Join(root, "g_b", "2026-03-01", "3_c.jpg"))
	odd := writeFile(t, filepath.Join(root, "g_a", "notes", "4_d.jpg"))

	// Cutoff 2026-03-03 12:00: the 1st ended more than a day before it,
	// the 2nd did not.
	cutoff := time.Date(2026, 3, 3, 12, 0, 0, 0, loc)
	j := newMediaJanitor(root, quiet)
	if n := j.sweep("g_a", cutoff, loc); n != 2 {
		t.Errorf("swept %d files, want 2", n)
	}
	if exists(filepath.Dir(old)) {
		t.Error("the old day folder is still there")
	}
	for _, p := range []string{edge, other, odd} {
		if !exists(p) {
			t.Errorf("%s was deleted", p)
		}
	}
	if n := j.sweep("..", cutoff, loc); n != 0 {
		t.Errorf("a group id of .. swept %d", n)
	}
}

func TestMediaDayDir(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC) // 04:00 on the 2nd in CST
	if got, want := MediaDayDir("/d/media", "g_x", at, loc), filepath.Join("/d/media", "g_x", "2026-03-02"); got != want {
		t.Errorf("MediaDayDir = %s, want %s", got, want)
	}
}
