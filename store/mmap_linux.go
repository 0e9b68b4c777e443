//go:build linux

package store

import (
	"os"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMapped drops this process's page-table entries for the data
// file's memory map (MADV_DONTNEED). bbolt reads through a read-only
// shared map, so every page a long scan touches would otherwise stay in
// the process's resident memory: exporting a 200 MB history would show as
// 200 MB more RSS. The pages stay in the kernel's page cache and fault back
// in on the next read; nothing is lost because bbolt never writes through
// the map. It runs inside a read transaction, which holds bbolt's mmap
// lock, so the map cannot be replaced underneath it.
func releaseMapped(tx *bolt.Tx) {
	data := tx.DB().Info().Data
	size := uintptr(tx.Size())
	size -= size % uintptr(os.Getpagesize())
	if data == 0 || size == 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, data, size, unix.MADV_DONTNEED)
}
