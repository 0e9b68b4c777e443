package fakewx

import (
	"bytes"
	"io"
	"sync"
)

// MemoryStorage is an in-memory openwechat.HotReloadStorage (an
// io.ReadWriter) that behaves like openwechat's file storage: each Write
// replaces the content, and reading starts from the beginning again after
// the previous read reached the end. A bytes.Buffer would not do: the bot
// rewrites its storage after every webwxsync, and a buffer would append.
// It is safe for concurrent use, since the bot writes from its sync
// goroutine while a test may start another bot on the same storage.
type MemoryStorage struct {
	mu   sync.Mutex
	data []byte
	r    *bytes.Reader
}

// NewMemoryStorage returns an empty storage. Reading it fails with io.EOF
// until the first Write, so a HotLogin on it fails and
// openwechat.NewRetryLoginOption falls back to a QR login.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{} }

func (m *MemoryStorage) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data = bytes.Clone(p)
	m.r = nil
	return len(p), nil
}

func (m *MemoryStorage) Read(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.r == nil {
		m.r = bytes.NewReader(m.data)
	}
	n, err := m.r.Read(p)
	if err == io.EOF {
		m.r = nil
	}
	return n, err
}

// Bytes returns a copy of the stored content.
func (m *MemoryStorage) Bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.data)
}
