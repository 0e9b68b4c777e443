//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped is a no-op where MADV_DONTNEED is not used; see the Linux
// version.
func releaseMapped(tx *bolt.Tx) {}
