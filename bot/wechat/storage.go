package wechat

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// sessionFile is openwechat's hot-login storage (cookies, session keys and
// the sync cursor) kept in one file of the data dir with mode 0600: whoever
// reads it can act as the bot account until the session expires.
//
// openwechat rewrites the storage after every sync and reads it once per
// login. Each Write replaces the file atomically (temp file, rename), so a
// crash never leaves half a session. Each login attempt reads through its
// own handle (open), because the JSON decoder stops reading where the
// value ends and a shared reader would leave the next attempt nothing.
type sessionFile struct {
	path string
	mu   sync.Mutex
}

func newSessionFile(path string) *sessionFile { return &sessionFile{path: path} }

// open returns a storage for one Bot: it reads the file as it is now and
// writes through to it.
func (f *sessionFile) open() *sessionHandle { return &sessionHandle{f: f} }

// sessionHandle is one Bot's view of the session file.
type sessionHandle struct {
	f *sessionFile
	r *bytes.Reader
}

// Read implements io.Reader. A missing file reads as empty, so a hot login
// fails at once and the next method is tried.
func (h *sessionHandle) Read(p []byte) (int, error) {
	if h.r == nil {
		data, err := os.ReadFile(h.f.path)
		if err != nil && !os.IsNotExist(err) {
			return 0, fmt.Errorf("read session file: %w", err)
		}
		h.r = bytes.NewReader(data)
	}
	return h.r.Read(p)
}

// Write implements io.Writer.
func (h *sessionHandle) Write(p []byte) (int, error) { return h.f.Write(p) }

// Write implements io.Writer; p is the whole new content.
func (f *sessionFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".session-*")
	if err != nil {
		return 0, fmt.Errorf("write session file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("write session file: %w", err)
	}
	if _, err := tmp.Write(p); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("write session file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("write session file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return 0, fmt.Errorf("write session file: %w", err)
	}
	return len(p), nil
}

// exists reports whether a session was saved, i.e. whether a hot or push
// login is worth trying.
func (f *sessionFile) exists() bool {
	st, err := os.Stat(f.path)
	return err == nil && st.Size() > 0
}

// writeOnly hands openwechat the session file for writing only: reading it
// finds nothing. The QR step uses it so that the library, whose QR login
// alone never saves the session, keeps the file current from then on.
type writeOnly struct{ w io.Writer }

func (w writeOnly) Read([]byte) (int, error)    { return 0, io.EOF }
func (w writeOnly) Write(p []byte) (int, error) { return w.w.Write(p) }
