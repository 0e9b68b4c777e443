package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// DamagedError is returned when the database file cannot be trusted. The
// damaged file is never replaced or deleted; the operator restores a
// backup with "qunguan db restore <backup>".
type DamagedError struct {
	Path   string
	Reason string
	// NewestBackup is the newest backup that passed the same check, or
	// "" when there is none.
	NewestBackup string
}

func (e *DamagedError) Error() string {
	msg := fmt.Sprintf("database %s is damaged: %s; ", e.Path, e.Reason)
	if e.NewestBackup == "" {
		return msg + "no good backup exists, so it cannot be restored from one (the file was left untouched)"
	}
	return msg + fmt.Sprintf("the newest good backup is %s: run \"qunguan db restore %s\" (the damaged file is kept aside)",
		e.NewestBackup, e.NewestBackup)
}

// Unwrap makes errors.Is(err, ErrDamaged) true.
func (e *DamagedError) Unwrap() error { return ErrDamaged }

// damaged builds the DamagedError for path, looking up the newest good
// backup in dir.
func damaged(dir, path, reason string) *DamagedError {
	e := &DamagedError{Path: path, Reason: reason}
	if bs, err := ListBackups(dir); err == nil {
		for _, b := range bs {
			if b.Err == nil {
				e.NewestBackup = b.Path
				break
			}
		}
	}
	return e
}

// bbolt's on-disk format, checked against go.etcd.io/bbolt@v1.5.0
// internal/common (page.go, meta.go, types.go). Pages start with a 16-byte
// header (id uint64, flags uint16, count uint16, overflow uint32). A meta
// page holds, right after the header, in native byte order:
//
//	magic uint32 | version uint32 | pageSize uint32 | flags uint32 |
//	root pgid uint64 | root sequence uint64 | freelist pgid uint64 |
//	high-water pgid uint64 | txid uint64 | checksum uint64
//
// and checksum is FNV-64a over the 56 bytes before it. Pages 0 and 1 are
// the two meta pages, written alternately by txid.
const (
	pageHeaderSize   = 16
	metaSize         = 64
	metaChecksumOff  = 56
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pgidNoFreelist   = ^uint64(0)
	flagBranch       = 0x01
	flagLeaf         = 0x02
	flagFreelist     = 0x10
	minPageSize      = 512
	maxPageSize      = 1 << 24
	freelistCountMax = 0xFFFF
)

// boltMeta is a decoded bbolt meta page.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

// fileInfo is what inspectFile learned about a healthy file.
type fileInfo struct {
	boltMeta
	size int64
	// olderMeta is set when one meta page is invalid, so bbolt will open
	// the file at the other one (normal after a crash during a commit).
	olderMeta bool
}

// parseMeta decodes and validates the meta stored in a page that starts at
// p[0]. It returns an error saying what is wrong.
func parseMeta(p []byte) (boltMeta, error) {
	if len(p) < pageHeaderSize+metaSize {
		return boltMeta{}, errors.New("meta page is cut short")
	}
	m := p[pageHeaderSize : pageHeaderSize+metaSize]
	ne := binary.NativeEndian
	if ne.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("meta page has no bbolt magic")
	}
	if v := ne.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("meta page has format version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:metaChecksumOff])
	if h.Sum64() != ne.Uint64(m[metaChecksumOff:]) {
		return boltMeta{}, errors.New("meta page checksum mismatch")
	}
	return boltMeta{
		pageSize: ne.Uint32(m[8:]),
		root:     ne.Uint64(m[16:]),
		freelist: ne.Uint64(m[32:]),
		pgid:     ne.Uint64(m[40:]),
		txid:     ne.Uint64(m[48:]),
	}, nil
}

// inspectFile checks a bbolt file the way bbolt will read it, before bbolt
// maps it: bbolt faults (SIGSEGV, not recoverable) on a truncated file and
// silently re-initialises an empty one. It reads both meta pages, picks the
// valid one with the highest txid, and checks that every page up to its
// high-water mark is in the file and that the root and freelist pages look
// like what the meta says they are. The returned error is the reason, in
// words.
func inspectFile(path string) (fileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileInfo{}, fmt.Errorf("cannot open the file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileInfo{}, fmt.Errorf("cannot stat the file: %w", err)
	}
	size := st.Size()
	if size == 0 {
		return fileInfo{}, errors.New("the file is empty (zero length)")
	}
	if size < 2*minPageSize {
		return fileInfo{}, fmt.Errorf("the file is only %d bytes, too short for two meta pages", size)
	}

	read := func(off int64, n int) []byte {
		buf := make([]byte, n)
		k, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil
		}
		return buf[:k]
	}

	m0, err0 := parseMeta(read(0, pageHeaderSize+metaSize))
	var m1 boltMeta
	var err1 error
	if err0 == nil {
		m1, err1 = parseMeta(read(int64(m0.pageSize), pageHeaderSize+metaSize))
	} else {
		// Like bbolt, find the second meta page by trying page sizes.
		err1 = errors.New("second meta page not found")
		for sz := int64(1024); sz <= maxPageSize && sz < size-1024; sz *= 2 {
			if m, err := parseMeta(read(sz, pageHeaderSize+metaSize)); err == nil && int64(m.pageSize) == sz {
				m1, err1 = m, nil
				break
			}
		}
	}

	var m boltMeta
	switch {
	case err0 != nil && err1 != nil:
		return fileInfo{}, fmt.Errorf("no valid meta page (page 0: %v; page 1: %v)", err0, err1)
	case err0 != nil:
		m = m1
	case err1 != nil:
		m = m0
	case m1.txid > m0.txid:
		m = m1
	default:
		m = m0
	}
	info := fileInfo{boltMeta: m, size: size, olderMeta: err0 != nil || err1 != nil}

	ps := uint64(m.pageSize)
	if ps < minPageSize || ps > maxPageSize || ps&(ps-1) != 0 {
		return fileInfo{}, fmt.Errorf("meta page says page size %d", ps)
	}
	if m.pgid < 3 {
		return fileInfo{}, fmt.Errorf("meta page says high-water page %d", m.pgid)
	}
	if need := m.pgid * ps; uint64(size) < need {
		return fileInfo{}, fmt.Errorf("the file is %d bytes but its pages need %d: it was truncated", size, need)
	}
	if m.root < 2 || m.root >= m.pgid {
		return fileInfo{}, fmt.Errorf("root page %d is outside the file's pages [2, %d)", m.root, m.pgid)
	}

	hdr := func(id uint64) (flags uint16, count uint16, overflow uint32, ok bool) {
		p := read(int64(id*ps), pageHeaderSize+8)
		if len(p) < pageHeaderSize+8 {
			return 0, 0, 0, false
		}
		ne := binary.NativeEndian
		if ne.Uint64(p[0:]) != id {
			return 0, 0, 0, false
		}
		return ne.Uint16(p[8:]), ne.Uint16(p[10:]), ne.Uint32(p[12:]), true
	}

	if flags, _, overflow, ok := hdr(m.root); !ok || (flags != flagBranch && flags != flagLeaf) ||
		m.root+uint64(overflow) >= m.pgid {
		return fileInfo{}, fmt.Errorf("root page %d is not a valid branch or leaf page", m.root)
	}

	if m.freelist != pgidNoFreelist {
		if m.freelist < 2 || m.freelist >= m.pgid {
			return fileInfo{}, fmt.Errorf("freelist page %d is outside the file's pages [2, %d)", m.freelist, m.pgid)
		}
		flags, count, overflow, ok := hdr(m.freelist)
		if !ok || flags != flagFreelist || m.freelist+uint64(overflow) >= m.pgid {
			return fileInfo{}, fmt.Errorf("freelist page %d is not a valid freelist page", m.freelist)
		}
		n := uint64(count)
		if count == freelistCountMax {
			// The real count is the first element after the header.
			p := read(int64(m.freelist*ps), pageHeaderSize+8)
			n = binary.NativeEndian.Uint64(p[pageHeaderSize:]) + 1
		}
		if n > ((uint64(overflow)+1)*ps-pageHeaderSize)/8 {
			return fileInfo{}, fmt.Errorf("freelist page %d lists %d pages, more than it can hold", m.freelist, n)
		}
	}
	return info, nil
}
