package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
)

// FS is what an export writes through. The default is the operating
// system; tests substitute one that fails part-way (an injected error, a
// full disk) to prove that a failed export never looks complete. Reading
// (media sources, verification) always uses the operating system.
type FS interface {
	// Mkdir creates one directory; it fails if path exists.
	Mkdir(path string, perm fs.FileMode) error
	// Create creates a new file for writing; it fails if path exists.
	Create(path string) (File, error)
	Rename(oldpath, newpath string) error
	Remove(path string) error
	RemoveAll(path string) error
	// SyncDir makes the directory's entries (creations, renames) durable.
	SyncDir(path string) error
}

// File is a file being written.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// Permissions of everything an export creates: a group's history is
// private to the bot's operators.
const (
	dirPerm  fs.FileMode = 0o700
	filePerm fs.FileMode = 0o600
)

// OSFS is the operating system's file system.
type OSFS struct{}

// Mkdir implements FS.
func (OSFS) Mkdir(path string, perm fs.FileMode) error { return os.Mkdir(path, perm) }

// Create implements FS.
func (OSFS) Create(path string) (File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
}

// Rename implements FS.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove implements FS.
func (OSFS) Remove(path string) error { return os.Remove(path) }

// RemoveAll implements FS.
func (OSFS) RemoveAll(path string) error { return os.RemoveAll(path) }

// SyncDir implements FS. Windows cannot sync a directory handle (NTFS
// journals its metadata itself), so there it does nothing.
func (OSFS) SyncDir(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

var _ FS = OSFS{}

// fileSet tracks the files of an archive being written, with their size
// and SHA-256 computed from the bytes as they were handed to the FS. It is
// safe for concurrent use (the XLSX writer runs on its own goroutine).
type fileSet struct {
	fsys FS
	root string

	mu    sync.Mutex
	files map[string]FileEntry
}

func newFileSet(fsys FS, root string) *fileSet {
	return &fileSet{fsys: fsys, root: root, files: make(map[string]FileEntry)}
}

// create opens rel (slash-separated, relative to the archive root).
func (s *fileSet) create(rel string) (*hashFile, error) {
	f, err := s.fsys.Create(filepath.Join(s.root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	return &hashFile{set: s, rel: rel, f: f, h: sha256.New()}, nil
}

// writeFile creates rel holding data.
func (s *fileSet) writeFile(rel string, data []byte) error {
	f, err := s.create(rel)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.abort()
		return err
	}
	return f.Close()
}

// entries returns the recorded files sorted by path.
func (s *fileSet) entries() []FileEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]FileEntry, 0, len(s.files))
	for _, e := range s.files {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// forget drops a file that was removed again (a media copy that failed on
// the reading side).
func (s *fileSet) forget(rel string) {
	s.mu.Lock()
	delete(s.files, rel)
	s.mu.Unlock()
}

// hashFile hashes and counts what is written to a File; Close syncs the
// file to disk before recording it, so a recorded file is a durable file.
type hashFile struct {
	set  *fileSet
	rel  string
	f    File
	h    hash.Hash
	n    int64
	done bool
}

func (w *hashFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

// Close syncs and closes the file and records it in the set.
func (w *hashFile) Close() error {
	if w.done {
		return errors.New("archive: file closed twice: " + w.rel)
	}
	w.done = true
	if err := w.f.Sync(); err != nil {
		_ = w.f.Close()
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	w.set.mu.Lock()
	w.set.files[w.rel] = FileEntry{Path: w.rel, Size: w.n, SHA256: hex.EncodeToString(w.h.Sum(nil))}
	w.set.mu.Unlock()
	return nil
}

// abort closes the file without recording it; the partial folder it is in
// is removed by the caller.
func (w *hashFile) abort() {
	if !w.done {
		w.done = true
		_ = w.f.Close()
	}
}
