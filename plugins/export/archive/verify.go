package archive

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/qunguan/qunguan/plugins/export/archive/internal/encode"
)

// ErrVerify is matched (errors.Is) by every verification failure.
var ErrVerify = errors.New("archive verification failed")

// VerifyError lists everything wrong with an archive.
type VerifyError struct {
	Path     string
	Problems []string
	// Err is the underlying failure when one error stopped the check (a
	// wrong age identity, an unreadable zip); nil otherwise.
	Err error
}

func (e *VerifyError) Error() string {
	const show = 10
	ps := e.Problems
	more := ""
	if len(ps) > show {
		more = fmt.Sprintf("; and %d more", len(ps)-show)
		ps = ps[:show]
	}
	return fmt.Sprintf("%s: %s: %s%s", ErrVerify, e.Path, strings.Join(ps, "; "), more)
}

// Is makes errors.Is(err, ErrVerify) true.
func (e *VerifyError) Is(target error) bool { return target == ErrVerify }

// Unwrap returns the underlying failure, if any.
func (e *VerifyError) Unwrap() error { return e.Err }

// Report is the outcome of verifying an archive.
type Report struct {
	Path string
	// ManifestSHA256 is the hash of manifest.json as found; compare it with
	// the hash the audit log recorded at export to know the manifest itself
	// is the one written then.
	ManifestSHA256 string
	Manifest       *Manifest
	// Files and Bytes count the files checked (manifest excluded).
	Files int
	Bytes int64
	// Recounted names the file whose records were counted again per day
	// (messages.jsonl, else messages.csv), "" when the archive has neither.
	Recounted string
	Records   int64
}

// maxManifestSize bounds how much of a manifest.json Verify reads.
const maxManifestSize = 256 << 20

// Verify re-reads the archive folder dir and checks it against its
// manifest: every listed file is present with its size and SHA-256, no
// other file exists (symbolic links and other non-regular files count as
// wrong), and the records of messages.jsonl (or messages.csv), counted again
// per day, match the manifest's written counts. It returns a *VerifyError
// listing every problem found.
func Verify(dir string) (*Report, error) {
	var entries []verifyEntry
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir || d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		e := verifyEntry{rel: filepath.ToSlash(rel)}
		if d.Type().IsRegular() {
			e.open = func() (io.ReadCloser, error) { return os.Open(p) }
		} else {
			e.odd = "not a regular file (" + d.Type().String() + ")"
		}
		entries = append(entries, e)
		return nil
	})
	if walkErr != nil {
		return nil, fmt.Errorf("verify %s: %w", dir, walkErr)
	}
	return verifyEntries(dir, entries)
}

// VerifyZip checks a zip made by Write exactly as Verify checks a folder,
// reading every entry (archive/zip also checks each entry's CRC-32). For
// an encrypted archive (.zip.age) pass an identity that can decrypt it;
// age authenticates every chunk, so a changed byte fails decryption.
func VerifyZip(path string, identities ...age.Identity) (*Report, error) {
	return verifyZipFile(path, strings.HasSuffix(path, ".age"), identities)
}

func verifyZipFile(path string, encrypted bool, identities []age.Identity) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	var (
		ra   io.ReaderAt = f
		size             = fi.Size()
	)
	if encrypted {
		if len(identities) == 0 {
			return nil, fmt.Errorf("verify %s: %w: encrypted archive and no identity given", path, ErrVerify)
		}
		if ra, size, err = age.DecryptReaderAt(f, size, identities...); err != nil {
			return nil, &VerifyError{Path: path, Problems: []string{"cannot decrypt: " + err.Error()}, Err: err}
		}
	}
	return verifyZipReader(path, ra, size)
}

func verifyZipReader(name string, ra io.ReaderAt, size int64) (*Report, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, &VerifyError{Path: name, Problems: []string{"not a readable zip: " + err.Error()}, Err: err}
	}
	var (
		prefix  string
		entries []verifyEntry
		bad     []string
	)
	for _, zf := range zr.File {
		top, rel, ok := strings.Cut(zf.Name, "/")
		if prefix == "" {
			prefix = top
		}
		if !ok || top != prefix || rel == "" || zf.FileInfo().IsDir() {
			bad = append(bad, "unexpected zip entry "+strconv.Quote(zf.Name))
			continue
		}
		e := verifyEntry{rel: rel, open: zf.Open}
		if !zf.Mode().IsRegular() {
			e.odd = "not a regular file (" + zf.Mode().Type().String() + ")"
		}
		entries = append(entries, e)
	}
	rep, err := verifyEntries(name, entries)
	if len(bad) > 0 {
		var ve *VerifyError
		if errors.As(err, &ve) {
			ve.Problems = append(bad, ve.Problems...)
		} else if err == nil {
			err = &VerifyError{Path: name, Problems: bad}
		}
	}
	return rep, err
}

// verifyEntry is one file found in an archive.
type verifyEntry struct {
	rel  string
	open func() (io.ReadCloser, error)
	odd  string // why the entry is not a plain file, if it is not
}

func verifyEntries(name string, entries []verifyEntry) (*Report, error) {
	rep := &Report{Path: name}
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	found := make(map[string]*verifyEntry, len(entries))
	for i := range entries {
		e := &entries[i]
		if found[e.rel] != nil {
			problem("duplicate entry %s", e.rel)
		}
		found[e.rel] = e
	}
	me := found[ManifestFile]
	if me == nil || me.odd != "" {
		return rep, &VerifyError{Path: name, Problems: []string{"no manifest.json: not a complete archive"}}
	}
	raw, err := readAll(me.open, maxManifestSize)
	if err != nil {
		return rep, &VerifyError{Path: name, Problems: []string{"cannot read manifest.json: " + err.Error()}}
	}
	sum := sha256.Sum256(raw)
	rep.ManifestSHA256 = hex.EncodeToString(sum[:])
	var man Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		return rep, &VerifyError{Path: name, Problems: []string{"manifest.json does not parse: " + err.Error()}}
	}
	rep.Manifest = &man
	if man.Format < 1 || man.Format > FormatVersion {
		return rep, &VerifyError{Path: name, Problems: []string{fmt.Sprintf("manifest format %d, this build reads 1 to %d", man.Format, FormatVersion)}}
	}
	loc, err := time.LoadLocation(man.Timezone)
	if err != nil {
		problem("manifest timezone %q: %v", man.Timezone, err)
		loc = nil
	}

	listed := make(map[string]bool, len(man.Files))
	hasJSONL, hasCSV := false, false
	for _, f := range man.Files {
		if !validRel(f.Path) || f.Path == ManifestFile {
			problem("manifest lists an invalid path %q", f.Path)
			continue
		}
		if listed[f.Path] {
			problem("manifest lists %s twice", f.Path)
		}
		listed[f.Path] = true
		hasJSONL = hasJSONL || f.Path == MessagesJSONL
		hasCSV = hasCSV || f.Path == MessagesCSV
	}
	for _, e := range entries {
		if e.rel != ManifestFile && !listed[e.rel] {
			problem("extra file %s", e.rel)
		}
	}
	// A format the manifest claims must have its file listed: dropping a
	// file from both the folder and the list is still caught.
	for format, file := range formatFiles {
		if slices.Contains(man.Formats, format) && !listed[file] {
			problem("format %s has no %s in the manifest", format, file)
		}
	}
	recount := ""
	switch {
	case loc == nil:
	case hasJSONL:
		recount = MessagesJSONL
	case hasCSV:
		recount = MessagesCSV
	}
	var counter *recounter
	for _, f := range man.Files {
		e := found[f.Path]
		if e == nil {
			problem("missing file %s", f.Path)
			continue
		}
		if e.odd != "" {
			problem("%s: %s", f.Path, e.odd)
			continue
		}
		var extra io.Writer
		if f.Path == recount {
			counter = newRecounter(loc)
			extra = counter
			if recount == MessagesCSV {
				extra = &csvRecounter{c: counter, header: true, fieldStart: true}
			}
		}
		n, h, err := hashEntry(e.open, extra)
		if err != nil {
			problem("cannot read %s: %v", f.Path, err)
			continue
		}
		rep.Files++
		rep.Bytes += n
		if n != f.Size {
			problem("%s: size %d, manifest says %d", f.Path, n, f.Size)
		}
		if h != f.SHA256 {
			problem("%s: SHA-256 differs from the manifest (altered)", f.Path)
		}
		if cr, ok := extra.(*csvRecounter); ok {
			counter.truncated = cr.pending()
		} else if counter != nil && extra == counter {
			counter.truncated = len(counter.head) > 0
		}
	}
	if counter != nil {
		rep.Recounted = recount
		rep.Records = counter.total
		problems = append(problems, counter.compare(&man, recount)...)
	}
	if len(problems) > 0 {
		return rep, &VerifyError{Path: name, Problems: problems}
	}
	return rep, nil
}

// formatFiles is the file every archive of a format has.
var formatFiles = map[string]string{"jsonl": MessagesJSONL, "csv": MessagesCSV, "xlsx": MessagesXLSX, "html": MessagesHTML}

// validRel reports whether p is a clean relative slash path inside the
// archive.
func validRel(p string) bool {
	return p != "" && p != "." && fs.ValidPath(p) && path.Clean(p) == p && !strings.Contains(p, "\\")
}

func readAll(open func() (io.ReadCloser, error), limit int64) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// hashEntry reads an entry through SHA-256 (and extra, if any).
func hashEntry(open func() (io.ReadCloser, error), extra io.Writer) (int64, string, error) {
	rc, err := open()
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	var w io.Writer = h
	if extra != nil {
		w = io.MultiWriter(h, extra)
	}
	n, err := io.CopyBuffer(w, rc, make([]byte, 1<<20))
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// recounter counts records per manifest day from a message file.
type recounter struct {
	days  *dayBuckets
	total int64
	bad   int64
	head  []byte // the start of the current JSONL line
	line  int64
	first string // first problem seen, for the report
	// truncated is set when the file ends inside a line.
	truncated bool
}

// jsonlHead is how much of a line the recount looks at: the members before
// date_unixtime (id, type, kind, date) take under 130 bytes.
const jsonlHead = 256

func newRecounter(loc *time.Location) *recounter {
	return &recounter{days: newDayBuckets(loc), head: make([]byte, 0, jsonlHead)}
}

// Write consumes messages.jsonl and counts each line by its date_unixtime.
func (c *recounter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		if room := jsonlHead - len(c.head); room > 0 {
			c.head = append(c.head, seg[:min(room, len(seg))]...)
		}
		if i < 0 {
			break
		}
		c.countLine()
		p = p[i+1:]
	}
	return n, nil
}

func (c *recounter) countLine() {
	c.line++
	h := c.head
	c.head = c.head[:0]
	k := bytes.Index(h, []byte(encode.UnixTimeKey))
	if len(h) == 0 || h[0] != '{' || k < 0 {
		c.fail(fmt.Sprintf("line %d is not an archive record", c.line))
		return
	}
	v := h[k+len(encode.UnixTimeKey):]
	end := bytes.IndexByte(v, '"')
	if end < 0 {
		c.fail(fmt.Sprintf("line %d: unterminated date_unixtime", c.line))
		return
	}
	sec, err := strconv.ParseInt(string(v[:end]), 10, 64)
	if err != nil {
		c.fail(fmt.Sprintf("line %d: bad date_unixtime", c.line))
		return
	}
	c.count(sec)
}

func (c *recounter) fail(msg string) {
	c.bad++
	if c.first == "" {
		c.first = msg
	}
}

// count counts one record at the Unix second sec.
func (c *recounter) count(sec int64) {
	c.days.at(time.Unix(sec, 0)).Records++
	c.total++
}

// csvRecounter counts messages.csv rows by their 时间戳 column as the file
// streams past, so the CSV is read once for its hash and its count. It
// follows RFC 4180 as encode.AppendCSVField writes it: a quoted field may
// hold commas, doubled quotes and line breaks.
type csvRecounter struct {
	c          *recounter
	bomSeen    int  // bytes of the BOM matched so far; -1 once past it
	header     bool // the header row is not finished yet
	field      int
	quoted     bool // inside a quoted field
	quoteSeen  bool // a quote inside a quoted field: its end, or the first of ""
	fieldStart bool
	ts         []byte
}

func (r *csvRecounter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && r.bomSeen >= 0 {
		if r.bomSeen < len(encode.BOM) && p[0] == encode.BOM[r.bomSeen] {
			r.bomSeen++
			p = p[1:]
			if r.bomSeen == len(encode.BOM) {
				r.bomSeen = -1
			}
			continue
		}
		r.bomSeen = -1
		r.fieldStart = true
	}
	for i := 0; i < len(p); i++ {
		b := p[i]
		if r.quoted {
			if r.quoteSeen {
				r.quoteSeen = false
				if b == '"' {
					continue // an escaped quote
				}
				r.quoted = false // the field ended; b follows it
			} else {
				// Skip the quoted text up to the next quote in one step.
				j := bytes.IndexByte(p[i:], '"')
				if j < 0 {
					i = len(p)
					continue
				}
				i += j
				r.quoteSeen = true
				continue
			}
		}
		switch b {
		case '"':
			if r.fieldStart {
				r.quoted, r.fieldStart = true, false
				continue
			}
		case ',':
			r.field++
			r.fieldStart = true
			continue
		case '\r':
			continue
		case '\n':
			r.endRow()
			continue
		}
		r.fieldStart = false
		if r.field == encode.ColUnixTime {
			r.ts = append(r.ts, b)
		}
	}
	return n, nil
}

func (r *csvRecounter) endRow() {
	header := r.header
	r.header = false
	fields, ts := r.field+1, r.ts
	r.field, r.fieldStart, r.ts = 0, true, r.ts[:0]
	if header {
		return
	}
	r.c.line++
	if fields != len(encode.MessageColumns) {
		r.c.fail(fmt.Sprintf("row %d has %d fields, want %d", r.c.line, fields, len(encode.MessageColumns)))
		return
	}
	sec, err := strconv.ParseInt(string(ts), 10, 64)
	if err != nil {
		r.c.fail(fmt.Sprintf("row %d: bad 时间戳", r.c.line))
		return
	}
	r.c.count(sec)
}

// pending reports bytes after the last complete row.
func (r *csvRecounter) pending() bool {
	return r.field > 0 || len(r.ts) > 0 || r.quoted || !r.fieldStart
}

// compare checks the recount against the manifest's written counts.
func (c *recounter) compare(m *Manifest, file string) []string {
	var ps []string
	if c.truncated {
		ps = append(ps, file+": last line has no newline (truncated)")
	}
	if c.bad > 0 {
		ps = append(ps, fmt.Sprintf("%s: %d unreadable lines, first: %s", file, c.bad, c.first))
	}
	if c.total != m.Counts.Written.Records {
		ps = append(ps, fmt.Sprintf("%s holds %d records, manifest says %d", file, c.total, m.Counts.Written.Records))
	}
	seen := make(map[string]bool, len(m.Days))
	for _, d := range m.Days {
		seen[d.Day] = true
		var got int64
		if t := c.days.days[d.Day]; t != nil {
			got = t.Records
		}
		if got != d.Written.Records {
			ps = append(ps, fmt.Sprintf("%s: %s has %d records, manifest says %d", file, d.Day, got, d.Written.Records))
		}
	}
	for day, t := range c.days.days {
		if !seen[day] && t.Records > 0 {
			ps = append(ps, fmt.Sprintf("%s: %s has %d records the manifest does not list", file, day, t.Records))
		}
	}
	return ps
}
