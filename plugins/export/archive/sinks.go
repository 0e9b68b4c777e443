package archive

import (
	"bufio"
	"errors"
	"sync/atomic"

	"github.com/qunguan/qunguan/plugins/export/archive/internal/encode"
)

// sink is one output format. The scan hands every record to every sink in
// order; close finishes the files and records them in the archive's file
// set; abort drops them after a failure.
type sink interface {
	write(m *encode.Message) error
	close() error
	abort()
}

// bufSize is the write buffer of the message files: large enough that
// hashing and writing happen in big blocks.
const bufSize = 1 << 20

// lineSink writes one line-oriented file (JSONL or CSV) through a buffer
// that the encoder appends to directly.
type lineSink struct {
	f      *hashFile
	bw     *bufio.Writer
	encode func(dst []byte, m *encode.Message) []byte
}

func newLineSink(set *fileSet, rel string, head []byte, enc func([]byte, *encode.Message) []byte) (*lineSink, error) {
	f, err := set.create(rel)
	if err != nil {
		return nil, err
	}
	s := &lineSink{f: f, bw: bufio.NewWriterSize(f, bufSize), encode: enc}
	if _, err := s.bw.Write(head); err != nil {
		f.abort()
		return nil, err
	}
	return s, nil
}

func (s *lineSink) write(m *encode.Message) error {
	_, err := s.bw.Write(s.encode(s.bw.AvailableBuffer(), m))
	return err
}

func (s *lineSink) close() error {
	if err := s.bw.Flush(); err != nil {
		s.f.abort()
		return err
	}
	return s.f.Close()
}

func (s *lineSink) abort() { s.f.abort() }

func newJSONLSink(set *fileSet) (sink, error) {
	return newLineSink(set, MessagesJSONL, nil, encode.AppendJSONLine)
}

func newCSVSink(set *fileSet) (sink, error) {
	head := encode.AppendCSVHeader([]byte(encode.BOM), encode.MessageColumns)
	return newLineSink(set, MessagesCSV, head, encode.AppendCSVMessage)
}

// xlsxSink writes messages.xlsx; the member sheet is added at close.
type xlsxSink struct {
	f       *hashFile
	bw      *bufio.Writer
	x       *encode.XLSX
	members func() [][]any
}

func newXLSXSink(set *fileSet, tmpDir string, rowLimit int, members func() [][]any) (*xlsxSink, error) {
	f, err := set.create(MessagesXLSX)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, bufSize)
	x, err := encode.NewXLSX(bw, tmpDir, rowLimit)
	if err != nil {
		f.abort()
		return nil, err
	}
	return &xlsxSink{f: f, bw: bw, x: x, members: members}, nil
}

func (s *xlsxSink) write(m *encode.Message) error { return s.x.Write(m) }

func (s *xlsxSink) close() error {
	if err := s.x.WriteSheet(memberSheet, memberColumns, memberWidths, s.members()); err != nil {
		s.x.Abort()
		s.f.abort()
		return err
	}
	if err := s.x.Close(); err != nil {
		s.f.abort()
		return err
	}
	if err := s.bw.Flush(); err != nil {
		s.f.abort()
		return err
	}
	return s.f.Close()
}

func (s *xlsxSink) abort() {
	s.x.Abort()
	s.f.abort()
}

// asyncSink runs a slow sink (XLSX, about 20 µs a row in excelize) on its
// own goroutine, so that on two cores the scan and the fast formats overlap
// with it. Records travel in batches over a short channel: memory stays
// bounded whatever the history size.
type asyncSink struct {
	inner  sink
	ch     chan []encode.Message
	free   chan []encode.Message
	done   chan struct{}
	batch  []encode.Message
	err    error // set by the goroutine before done is closed
	failed atomic.Bool
	closed bool
}

const (
	asyncBatch    = 256
	asyncInFlight = 4
)

func newAsyncSink(inner sink) *asyncSink {
	a := &asyncSink{
		inner: inner,
		ch:    make(chan []encode.Message, asyncInFlight),
		free:  make(chan []encode.Message, asyncInFlight+2),
		done:  make(chan struct{}),
		batch: make([]encode.Message, 0, asyncBatch),
	}
	go a.run()
	return a
}

func (a *asyncSink) run() {
	defer close(a.done)
	for batch := range a.ch {
		for i := range batch {
			if err := a.inner.write(&batch[i]); err != nil {
				a.err = err
				a.failed.Store(true)
				return
			}
		}
		clear(batch) // drop string references for the collector
		select {
		case a.free <- batch[:0]:
		default:
		}
	}
}

func (a *asyncSink) write(m *encode.Message) error {
	if a.failed.Load() {
		<-a.done
		return a.err
	}
	a.batch = append(a.batch, *m)
	if len(a.batch) < asyncBatch {
		return nil
	}
	return a.send()
}

func (a *asyncSink) send() error {
	select {
	case a.ch <- a.batch:
	case <-a.done:
		return a.errOrStopped()
	}
	select {
	case a.batch = <-a.free:
	default:
		a.batch = make([]encode.Message, 0, asyncBatch)
	}
	return nil
}

func (a *asyncSink) errOrStopped() error {
	if a.err != nil {
		return a.err
	}
	return errors.New("archive: writer stopped")
}

// close hands over the last batch, waits for the goroutine and closes the
// inner sink from this goroutine (the channel close orders the accesses).
func (a *asyncSink) close() error {
	if len(a.batch) > 0 {
		if err := a.send(); err != nil {
			a.abort()
			return err
		}
	}
	a.closed = true
	close(a.ch)
	<-a.done
	if a.err != nil {
		a.inner.abort()
		return a.err
	}
	return a.inner.close()
}

func (a *asyncSink) abort() {
	if !a.closed {
		a.closed = true
		close(a.ch)
	}
	<-a.done
	a.inner.abort()
}
