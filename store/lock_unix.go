//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// dirLock is an exclusive flock on <dir>/qunguan.lock, held for the life of
// a DB and during Restore, Check and Compact. Locking the directory rather
// than the database file keeps the lock meaningful while Restore and
// Compact swap the file underneath. The lock file is never removed:
// removing it would let two processes lock two different inodes.
type dirLock struct{ f *os.File }

// lockRetry is how often lockDir tries again while another process holds
// the lock.
const lockRetry = 50 * time.Millisecond

func lockDir(dir string, timeout time.Duration) (*dirLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &dirLock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			f.Close()
			return nil, &lockedError{dir: dir}
		}
		time.Sleep(min(left, lockRetry))
	}
}

// release drops the lock by closing the file.
func (l *dirLock) release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
