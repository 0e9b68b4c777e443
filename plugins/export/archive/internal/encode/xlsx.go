package encode

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// MaxSheetRows is how many rows, header included, one worksheet holds: the
// Excel limit, excelize.TotalRows (1,048,576).
const MaxSheetRows = excelize.TotalRows

// MaxCellChars is how many UTF-16 code units one cell holds: the Excel
// limit, excelize.TotalCellChars (32,767).
const MaxCellChars = excelize.TotalCellChars

// MessageSheetPrefix names the message sheets 消息1, 消息2, ...
const MessageSheetPrefix = "消息"

// XLSX writes one workbook with excelize's StreamWriter, starting a new
// message sheet whenever one is full. Cells are inline strings, which
// Excel never evaluates, so unlike CSV no formula guard is needed.
type XLSX struct {
	f          *excelize.File
	sw         *excelize.StreamWriter
	out        io.Writer
	rowLimit   int
	firstSheet int // number of this workbook's first message sheet
	msgSheets  int // message sheets started
	header     int // style id of header rows
	row        int // last row written in the current sheet
	cells      []any
	flushed    bool // the last message sheet is flushed
	closed     bool

	// Sheets lists the sheets written so far.
	Sheets []string
	// Rows counts message rows (headers excluded).
	Rows int64
	// Truncated counts cells cut to MaxCellChars.
	Truncated int64
}

// NewXLSX starts a workbook that Close writes to out. rowLimit is the rows
// per sheet including the header; 0 means MaxSheetRows (tests pass a small
// one). Message sheets are numbered from firstSheet (消息<firstSheet>, ...),
// so that the sheets of several workbooks never share a name. tmpDir is where excelize spills sheet data beyond 16 MiB; it must be
// writable, because excelize silently keeps everything in memory when it
// cannot create its temporary file.
//
// Close streams the workbook straight into out through excelize's
// SetZipWriter hook. excelize's own Write/SaveAs first build the whole
// compressed workbook in a bytes.Buffer, which for a million rows is about
// 100 MB more memory and grows with the history. The hook's zip writer also
// deflates at level 1 rather than the default 6: deflating the sheet XML
// took 40 % of the CPU of a StreamWriter export, level 1 takes a fraction
// of that, and the workbook grows by about a third.
func NewXLSX(out io.Writer, tmpDir string, rowLimit, firstSheet int) (*XLSX, error) {
	if rowLimit == 0 {
		rowLimit = MaxSheetRows
	}
	if rowLimit < 2 || rowLimit > MaxSheetRows {
		return nil, fmt.Errorf("xlsx: row limit %d outside 2..%d", rowLimit, MaxSheetRows)
	}
	f := excelize.NewFile(excelize.Options{TmpDir: tmpDir})
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(out)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
		return zw
	})
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &XLSX{f: f, out: out, rowLimit: rowLimit, firstSheet: firstSheet, header: header, cells: make([]any, 0, len(MessageColumns))}, nil
}

// MessageSheets is how many message sheets the workbook has so far.
func (x *XLSX) MessageSheets() int { return x.msgSheets }

// SheetFull reports that the current message sheet is full, so the next
// Write starts another.
func (x *XLSX) SheetFull() bool {
	return x.sw != nil && x.row >= x.rowLimit
}

// Write appends one message row, opening the first or next sheet as needed.
func (x *XLSX) Write(m *Message) error {
	if x.flushed {
		return errors.New("xlsx: Write after WriteSheet")
	}
	if x.sw == nil || x.row >= x.rowLimit {
		if err := x.startMessageSheet(); err != nil {
			return err
		}
	}
	var cut bool
	x.cells, cut = MessageCells(x.cells[:0], m)
	if cut {
		x.Truncated++
	}
	x.row++
	if err := x.sw.SetRow("A"+strconv.Itoa(x.row), x.cells); err != nil {
		return fmt.Errorf("xlsx: row %d of %s: %w", x.row, x.Sheets[len(x.Sheets)-1], err)
	}
	x.Rows++
	return nil
}

// messageWidths are column widths for MessageColumns, in Excel units.
var messageWidths = []float64{10, 20, 12, 8, 18, 14, 6, 60, 20, 10, 24, 20, 6}

// WriteSheet adds a sheet after the message sheets, holding header and rows
// (the member list). It must be called after the last Write. The sheet is
// small and written with excelize's ordinary API rather than a second
// StreamWriter: excelize stores stream sheets in a map and writes them in
// random order, and one stream keeps the workbook's bytes reproducible.
func (x *XLSX) WriteSheet(name string, header []string, widths []float64, rows [][]any) error {
	if len(rows)+1 > x.rowLimit {
		return fmt.Errorf("xlsx: sheet %s: %d rows exceed the limit", name, len(rows))
	}
	if err := x.finishStream(); err != nil {
		return err
	}
	if _, err := x.f.NewSheet(name); err != nil {
		return fmt.Errorf("xlsx: new sheet %s: %w", name, err)
	}
	for i, w := range widths {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := x.f.SetColWidth(name, col, col, w); err != nil {
			return fmt.Errorf("xlsx: widths of %s: %w", name, err)
		}
	}
	if err := x.f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("xlsx: panes of %s: %w", name, err)
	}
	head := make([]any, len(header))
	for i, h := range header {
		head[i] = h
	}
	if err := x.f.SetSheetRow(name, "A1", &head); err != nil {
		return fmt.Errorf("xlsx: header of %s: %w", name, err)
	}
	if err := x.f.SetRowStyle(name, 1, 1, x.header); err != nil {
		return fmt.Errorf("xlsx: header of %s: %w", name, err)
	}
	for i, r := range rows {
		for j, v := range r {
			if s, ok := v.(string); ok {
				if t, cut := TruncateCell(s); cut {
					r[j] = t
					x.Truncated++
				}
			}
		}
		if err := x.f.SetSheetRow(name, "A"+strconv.Itoa(i+2), &r); err != nil {
			return fmt.Errorf("xlsx: row %d of %s: %w", i+2, name, err)
		}
	}
	x.Sheets = append(x.Sheets, name)
	return nil
}

// finishStream flushes the message sheet being written, opening an empty
// one first if no message came, so the workbook always has a message sheet.
func (x *XLSX) finishStream() error {
	if x.flushed {
		return nil
	}
	if x.sw == nil {
		if err := x.startMessageSheet(); err != nil {
			return err
		}
	}
	x.flushed = true
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: flush: %w", err)
	}
	return nil
}

func (x *XLSX) startMessageSheet() error {
	name := MessageSheetPrefix + strconv.Itoa(x.firstSheet+x.msgSheets)
	x.msgSheets++
	return x.startSheet(name, MessageColumns, messageWidths)
}

// startSheet flushes the current sheet and opens name with its header row.
// The workbook's default "Sheet1" becomes the first sheet, so no empty sheet
// is left behind.
func (x *XLSX) startSheet(name string, header []string, widths []float64) error {
	if x.sw != nil {
		if err := x.sw.Flush(); err != nil {
			return fmt.Errorf("xlsx: flush %s: %w", x.Sheets[len(x.Sheets)-1], err)
		}
	}
	if len(x.Sheets) == 0 {
		if err := x.f.SetSheetName("Sheet1", name); err != nil {
			return fmt.Errorf("xlsx: name sheet %s: %w", name, err)
		}
	} else if _, err := x.f.NewSheet(name); err != nil {
		return fmt.Errorf("xlsx: new sheet %s: %w", name, err)
	}
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("xlsx: stream %s: %w", name, err)
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return fmt.Errorf("xlsx: widths of %s: %w", name, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("xlsx: panes of %s: %w", name, err)
	}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: x.header, Value: h}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return fmt.Errorf("xlsx: header of %s: %w", name, err)
	}
	x.sw, x.row = sw, 1
	x.Sheets = append(x.Sheets, name)
	return nil
}

// Close flushes the last sheet and writes the workbook to out. A workbook
// with no rows still gets an empty message sheet, so the file always opens.
// Close removes excelize's temporary files whatever happens.
func (x *XLSX) Close() error {
	if x.closed {
		return errors.New("xlsx: closed twice")
	}
	x.closed = true
	defer x.f.Close()
	if err := x.finishStream(); err != nil {
		return err
	}
	// The bytes go to out through the zip writer installed in NewXLSX;
	// what excelize hands to the writer given here is always empty.
	if err := x.f.Write(io.Discard); err != nil {
		return fmt.Errorf("xlsx: write workbook: %w", err)
	}
	return nil
}

// Abort drops the workbook and its temporary files without writing it.
func (x *XLSX) Abort() {
	if !x.closed {
		x.closed = true
		_ = x.f.Close()
	}
}

// MessageCells appends m's cells in MessageColumns order; cut reports that
// the text was truncated to fit a cell. Empty values are nil, which the
// StreamWriter skips.
func MessageCells(dst []any, m *Message) (cells []any, cut bool) {
	r := &m.Record
	text, cut := TruncateCell(r.Text)
	dst = append(dst,
		r.Seq,
		m.Local.Format(DisplayTime),
		r.Time.Unix(),
		KindLabel(r),
		nilIfEmpty(r.SenderName),
		nilIfEmpty(string(r.Sender)),
		flag(r.FromBot),
		nilIfEmpty(text),
		nilIfEmpty(r.FileName),
		nilIfZero(r.Size),
		nilIfEmpty(MediaCell(m)),
		nilIfEmpty(r.MsgID),
		flag(r.Purged),
	)
	return dst, cut
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nilIfZero(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func flag(b bool) any {
	if b {
		return Yes
	}
	return nil
}

// TruncateCell cuts s to MaxCellChars UTF-16 code units, ending it with a
// visible marker saying how many characters were cut, so that nobody
// mistakes a cut cell for the whole message (excelize would cut silently).
// JSONL and CSV keep the whole text.
func TruncateCell(s string) (string, bool) {
	// A UTF-16 unit takes at least one UTF-8 byte, so short strings fit.
	if len(s) <= MaxCellChars {
		return s, false
	}
	if utf16Len(s) <= MaxCellChars {
		return s, false
	}
	total := utf8.RuneCountInString(s)
	// The marker's length depends on the count it reports, which depends on
	// the room the marker leaves. A longer marker only ever cuts more, so the
	// count grows monotonically and settles within a few rounds.
	marker := ""
	for {
		budget := MaxCellChars - utf16Len(marker)
		kept, keptRunes, used := 0, 0, 0
		for kept < len(s) {
			r, size := utf8.DecodeRuneInString(s[kept:])
			n := utf16.RuneLen(r) // invalid bytes decode as U+FFFD, one unit
			if used+n > budget {
				break
			}
			used += n
			keptRunes++
			kept += size
		}
		next := "…[已截断 " + strconv.Itoa(total-keptRunes) + " 字]"
		if next == marker {
			return s[:kept] + marker, true
		}
		marker = next
	}
}

// utf16Len is the length of s in UTF-16 code units, counting each invalid
// byte as the one U+FFFD it becomes.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
