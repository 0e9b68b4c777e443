// Package benchkit holds the export benchmark's ceilings: bare loops that
// write the synthetic history's rows with the very encoders the archive
// uses, and nothing else (no store, no hashing, no manifest, no zip), plus
// peak-memory reading. The benchmark compares the exporter against them.
package benchkit

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/qunguan/qunguan/plugins/export/archive/internal/encode"
	"github.com/qunguan/qunguan/plugins/export/archive/internal/synth"
)

// Bare writes records 0..n-1 of the synthetic history to path in format
// and returns the file size. "jsonl", "csv" and "xlsx" use the archive's
// own encoders (for XLSX: excelize's StreamWriter behind encode.XLSX,
// which streams the workbook out at deflate level 1). "std-jsonl",
// "std-csv" and "std-xlsx" use encoding/json, encoding/csv and excelize's
// StreamWriter with its own SaveAs, as the reference figures were measured.
// Line formats go through a 1 MiB buffer and are synced, like the
// archive's.
func Bare(format, path string, n int, loc *time.Location) (int64, error) {
	var err error
	switch format {
	case "jsonl":
		err = lines(path, n, loc, nil, encode.AppendJSONLine)
	case "csv":
		head := encode.AppendCSVHeader([]byte(encode.BOM), encode.MessageColumns)
		err = lines(path, n, loc, head, encode.AppendCSVMessage)
	case "xlsx":
		err = withFile(path, func(bw *bufio.Writer) error {
			x, err := encode.NewXLSX(bw, dirOf(path), 0, 1)
			if err != nil {
				return err
			}
			for i := range n {
				m := message(i, loc)
				if err := x.Write(&m); err != nil {
					x.Abort()
					return err
				}
			}
			return x.Close()
		})
	case "std-xlsx":
		err = stdXLSX(path, n, loc)
	case "std-jsonl":
		err = stdJSONL(path, n, loc)
	case "std-csv":
		err = stdCSV(path, n, loc)
	default:
		return 0, fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func message(i int, loc *time.Location) encode.Message {
	r := synth.Record(i)
	return encode.Message{Record: r, Local: r.Time.In(loc)}
}

func lines(path string, n int, loc *time.Location, head []byte, enc func([]byte, *encode.Message) []byte) error {
	return withFile(path, func(bw *bufio.Writer) error {
		bw.Write(head)
		for i := range n {
			m := message(i, loc)
			if _, err := bw.Write(enc(bw.AvailableBuffer(), &m)); err != nil {
				return err
			}
		}
		return nil
	})
}

// withFile creates path, lets fill write it through a 1 MiB buffer, then
// flushes, syncs and closes it, as the archive does with its files.
func withFile(path string, fill func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

func stdXLSX(path string, n int, loc *time.Location) error {
	f := excelize.NewFile(excelize.Options{TmpDir: dirOf(path)})
	defer f.Close()
	sheet := "Sheet1"
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	head := make([]any, len(encode.MessageColumns))
	for i, c := range encode.MessageColumns {
		head[i] = c
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	cells := make([]any, 0, len(encode.MessageColumns))
	row := 1
	for i := range n {
		if row == encode.MaxSheetRows {
			// The archive splits sheets here too; keep the ceiling honest
			// for histories beyond one sheet.
			if err := sw.Flush(); err != nil {
				return err
			}
			sheet = "Sheet" + strconv.Itoa(i)
			if _, err := f.NewSheet(sheet); err != nil {
				return err
			}
			if sw, err = f.NewStreamWriter(sheet); err != nil {
				return err
			}
			if err := sw.SetRow("A1", head); err != nil {
				return err
			}
			row = 1
		}
		m := message(i, loc)
		cells, _ = encode.MessageCells(cells[:0], &m)
		row++
		if err := sw.SetRow("A"+strconv.Itoa(row), cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, os.PathSeparator); i >= 0 {
		return path[:i]
	}
	return "."
}

func stdJSONL(path string, n int, loc *time.Location) error {
	return withFile(path, func(bw *bufio.Writer) error {
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for i := range n {
			m := message(i, loc)
			s := encode.JSONRecord{
				ID: m.Seq, Type: encode.TypeName(m.Kind), Kind: m.Kind.String(), Date: m.Local.Format(time.RFC3339Nano),
				DateUnixtime: strconv.FormatInt(m.Time.Unix(), 10), GroupID: string(m.Group), From: m.SenderName,
				FromID: string(m.Sender), FromBot: m.FromBot, MsgID: m.MsgID, MsgType: encode.MsgTypeName(m.MsgType), Text: m.Text,
				Purged: m.Purged,
			}
			if m.FileName != "" || m.Size != 0 || m.MediaPath != "" {
				s.Media = &encode.JSONMedia{FileName: m.FileName, Size: m.Size, SourcePath: m.MediaPath}
			}
			if err := enc.Encode(&s); err != nil {
				return err
			}
		}
		return nil
	})
}

func stdCSV(path string, n int, loc *time.Location) error {
	return withFile(path, func(bw *bufio.Writer) error {
		bw.WriteString(encode.BOM)
		w := csv.NewWriter(bw)
		w.UseCRLF = true
		if err := w.Write(encode.MessageColumns); err != nil {
			return err
		}
		row := make([]string, len(encode.MessageColumns))
		for i := range n {
			m := message(i, loc)
			row[0] = strconv.FormatUint(m.Seq, 10)
			row[1] = m.Local.Format(encode.DisplayTime)
			row[2] = strconv.FormatInt(m.Time.Unix(), 10)
			row[3] = encode.KindLabel(&m.Record)
			row[4], row[5] = m.SenderName, string(m.Sender)
			row[6] = ""
			if m.FromBot {
				row[6] = encode.Yes
			}
			row[7], row[8] = m.Text, m.FileName
			row[9] = ""
			if m.Size != 0 {
				row[9] = strconv.FormatInt(m.Size, 10)
			}
			row[10], row[11], row[12] = encode.MediaCell(&m), m.MsgID, ""
			if err := w.Write(row); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	})
}

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes,
// or 0 where /proc is not available.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
