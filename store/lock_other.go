//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

import "time"

// dirLock is a no-op where flock is unavailable; bbolt's own lock on the
// database file (Options.Timeout) still keeps a second process out, and
// Open maps its timeout to ErrLocked.
type dirLock struct{}

func lockDir(dir string, timeout time.Duration) (*dirLock, error) { return &dirLock{}, nil }

func (l *dirLock) release() {}
