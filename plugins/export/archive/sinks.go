package archive

import (
	"bufio"
	"errors"
	"strconv"
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

// sheetsPerWorkbook bounds the message sheets of one workbook. excelize
// keeps each finished stream sheet's buffer (16 to 32 MiB, plus the
// collector's headroom) until the workbook is written, so peak RSS grows
// with the sheets of a workbook: measured here, 78 MB for one full sheet,
// 265 MB for six sheets in one workbook, 161 MB for the same six split
// three and three. A longer history than three sheets (3,145,725 messages)
// therefore continues in messages2.xlsx, the sheet numbers running on.
const sheetsPerWorkbook = 3

// xlsxSink writes messages.xlsx (and messages2.xlsx, ... for very long
// histories); the member sheet is added to the last workbook at close.
type xlsxSink struct {
	set      *fileSet
	tmpDir   string
	rowLimit int
	members  func() [][]any

	f  *hashFile
	bw *bufio.Writer
	x  *encode.XLSX

	files     []XLSXFile
	truncated int64
}

// xlsxName is the file of workbook n, named like the HTML pages.
func xlsxName(n int) string {
	if n == 1 {
		return MessagesXLSX
	}
	return "messages" + strconv.Itoa(n) + ".xlsx"
}

func newXLSXSink(set *fileSet, tmpDir string, rowLimit int, members func() [][]any) (*xlsxSink, error) {
	s := &xlsxSink{set: set, tmpDir: tmpDir, rowLimit: rowLimit, members: members}
	return s, s.openWorkbook()
}

func (s *xlsxSink) openWorkbook() error {
	firstSheet := 1
	for _, f := range s.files {
		firstSheet += len(f.Sheets)
	}
	rel := xlsxName(len(s.files) + 1)
	f, err := s.set.create(rel)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, bufSize)
	x, err := encode.NewXLSX(bw, s.tmpDir, s.rowLimit, firstSheet)
	if err != nil {
		f.abort()
		return err
	}
	s.f, s.bw, s.x = f, bw, x
	s.files = append(s.files, XLSXFile{Path: rel})
	return nil
}

func (s *xlsxSink) write(m *encode.Message) error {
	if s.x.SheetFull() && s.x.MessageSheets() == sheetsPerWorkbook {
		if err := s.finishWorkbook(); err != nil {
			return err
		}
		if err := s.openWorkbook(); err != nil {
			return err
		}
	}
	return s.x.Write(m)
}

// finishWorkbook writes the current workbook and records its sheets.
func (s *xlsxSink) finishWorkbook() error {
	err := s.x.Close()
	if err == nil {
		err = s.bw.Flush()
	}
	if err != nil {
		s.f.abort()
		return err
	}
	last := &s.files[len(s.files)-1]
	last.Sheets = s.x.Sheets
	s.truncated += s.x.Truncated
	return s.f.Close()
}

func (s *xlsxSink) close() error {
	if err := s.x.WriteSheet(memberSheet, memberColumns, memberWidths, s.members()); err != nil {
		s.abort()
		return err
	}
	return s.finishWorkbook()
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

var (
	_ sink = (*lineSink)(nil)
	_ sink = (*xlsxSink)(nil)
	_ sink = (*htmlSink)(nil)
	_ sink = (*asyncSink)(nil)
)
