package archive

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/qunguan/qunguan/bot"
)

// mediaCopier copies the attachments the bot downloaded into media/. It
// remembers each source path it saw, so an attachment referenced twice is
// copied once; that map grows with the number of attachments, not with the
// number of messages.
type mediaCopier struct {
	set    *fileSet
	red    *redactor
	byPath map[string]mediaResult
	buf    []byte
	dirOK  bool

	copied  int
	bytes   int64
	missing []MissingMedia
}

type mediaResult struct {
	rel     string
	missing bool
}

func newMediaCopier(set *fileSet, red *redactor) *mediaCopier {
	return &mediaCopier{set: set, red: red, byPath: make(map[string]mediaResult)}
}

// copy copies r's attachment if it has one and returns its archive path,
// or reports it missing. Only a failure to write into the archive is an
// error; a source that is gone, unreadable or not a regular file is listed
// in the manifest as missing, because one lost picture must not block a
// group's export.
func (c *mediaCopier) copy(r *bot.Record) (rel string, missing bool, err error) {
	if r.MediaPath == "" || r.Purged {
		return "", false, nil
	}
	if res, ok := c.byPath[r.MediaPath]; ok {
		return res.rel, res.missing, nil
	}
	rel, reason, err := c.copyFile(r)
	if err != nil {
		return "", false, err
	}
	res := mediaResult{rel: rel, missing: reason != ""}
	if res.missing {
		c.missing = append(c.missing, MissingMedia{
			Seq:        r.Seq,
			FileName:   c.red.derived(r.FileName),
			SourcePath: c.red.derived(r.MediaPath),
			Reason:     reason,
		})
	}
	c.byPath[r.MediaPath] = res
	return res.rel, res.missing, nil
}

// copyFile returns the archive path, or a reason the source is missing.
func (c *mediaCopier) copyFile(r *bot.Record) (rel, reason string, err error) {
	src, err := os.Open(r.MediaPath)
	if err != nil {
		return "", sourceProblem(err), nil
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return "", sourceProblem(err), nil
	}
	if !fi.Mode().IsRegular() {
		return "", "not a regular file", nil
	}
	if !c.dirOK {
		if err := c.set.fsys.Mkdir(filepath.Join(c.set.root, MediaDir), dirPerm); err != nil && !errors.Is(err, os.ErrExist) {
			return "", "", fmt.Errorf("create media folder: %w", err)
		}
		c.dirOK = true
	}
	name := r.FileName
	if name == "" {
		name = filepath.Base(r.MediaPath)
	}
	rel = path.Join(MediaDir, mediaName(r.Seq, c.red.derived(name), filepath.Ext(c.red.derived(r.MediaPath))))
	dst, err := c.set.create(rel)
	if err != nil {
		return "", "", fmt.Errorf("create %s: %w", rel, err)
	}
	if c.buf == nil {
		c.buf = make([]byte, 256<<10)
	}
	sr := &sourceReader{r: src}
	n, err := io.CopyBuffer(dst, sr, c.buf)
	if err != nil {
		dst.abort()
		if sr.err == nil {
			return "", "", fmt.Errorf("write %s: %w", rel, err)
		}
		// The source broke mid-copy: drop the half copy, list it missing.
		c.set.forget(rel)
		if rmErr := c.set.fsys.Remove(filepath.Join(c.set.root, filepath.FromSlash(rel))); rmErr != nil {
			return "", "", fmt.Errorf("remove half-copied %s: %w", rel, rmErr)
		}
		return "", "read error: " + sr.err.Error(), nil
	}
	if err := dst.Close(); err != nil {
		return "", "", fmt.Errorf("close %s: %w", rel, err)
	}
	c.copied++
	c.bytes += n
	return rel, "", nil
}

// sourceProblem says briefly why a source file cannot be read.
func sourceProblem(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "not found"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

// sourceReader remembers read errors, to tell them from write errors.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// maxNameBytes bounds a media file name; file systems allow 255 bytes.
const maxNameBytes = 120

// mediaName makes a safe, unique file name: the record's sequence number
// keeps names unique, the sanitised original name keeps them readable.
// Letters and digits of any script survive; path separators, control
// characters and anything a shell or Windows would trip on become '_'.
func mediaName(seq uint64, name, srcExt string) string {
	ext := path.Ext(name)
	if ext == "" || len(ext) > 16 {
		ext = srcExt
		if len(ext) > 16 {
			ext = ""
		}
	}
	base := strings.TrimSuffix(name, path.Ext(name))
	var b strings.Builder
	b.WriteString(strconv.FormatUint(seq, 10))
	b.WriteByte('_')
	room := maxNameBytes - b.Len() - len(ext)
	under := false
	for _, r := range base {
		safe := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '.'
		if !safe {
			if under {
				continue
			}
			r = '_'
		}
		under = r == '_'
		if utf8.RuneLen(r) > room {
			break
		}
		room -= utf8.RuneLen(r)
		b.WriteRune(r)
	}
	b.WriteString(sanitizeExt(ext))
	return b.String()
}

// sanitizeExt keeps an extension of ASCII letters and digits only.
func sanitizeExt(ext string) string {
	if len(ext) < 2 {
		return ""
	}
	for _, r := range ext[1:] {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return ""
		}
	}
	return strings.ToLower(ext)
}
