package archive

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
)

// storedExts are already compressed; deflating them again costs time for
// nothing, so they are stored.
var storedExts = map[string]bool{
	".xlsx": true, ".zip": true, ".gz": true, ".jpg": true, ".jpeg": true, ".png": true,
	".gif": true, ".webp": true, ".heic": true, ".mp4": true, ".mov": true, ".mp3": true,
	".m4a": true, ".amr": true, ".silk": true, ".pdf": true, ".docx": true, ".pptx": true,
	".7z": true, ".rar": true,
}

// zipLevel is the deflate level of the archive zip. Level 1 compresses
// chat text about as well as the default and several times faster, which
// matters for a million-message JSONL plus its CSV and HTML renderings.
const zipLevel = flate.BestSpeed

// buildZip writes the verified archive folder srcDir into dst: the entries
// are prefix/manifest.json, then every file in path order, all with the
// archive's creation time and mode 0600, so the same folder always gives
// the same bytes. The file is synced before it is closed.
func buildZip(fsys FS, srcDir, prefix, dst string, files []FileEntry, modified time.Time) error {
	out, err := fsys.Create(dst)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(out, bufSize)
	zw := zip.NewWriter(bw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, zipLevel)
	})
	fail := func(err error) error {
		_ = out.Close()
		return err
	}
	buf := make([]byte, 1<<20)
	names := make([]string, 0, len(files)+1)
	names = append(names, ManifestFile)
	for _, f := range files {
		names = append(names, f.Path)
	}
	for _, rel := range names {
		h := &zip.FileHeader{Name: prefix + "/" + rel, Method: zip.Deflate, Modified: modified.UTC()}
		if storedExts[strings.ToLower(path.Ext(rel))] {
			h.Method = zip.Store
		}
		h.SetMode(filePerm)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return fail(fmt.Errorf("zip %s: %w", rel, err))
		}
		src, err := os.Open(filepath.Join(srcDir, filepath.FromSlash(rel)))
		if err != nil {
			return fail(fmt.Errorf("zip %s: %w", rel, err))
		}
		_, err = io.CopyBuffer(w, onlyReader{src}, buf)
		_ = src.Close()
		if err != nil {
			return fail(fmt.Errorf("zip %s: %w", rel, err))
		}
	}
	if err := zw.Close(); err != nil {
		return fail(fmt.Errorf("zip: %w", err))
	}
	if err := bw.Flush(); err != nil {
		return fail(fmt.Errorf("zip: %w", err))
	}
	if err := out.Sync(); err != nil {
		return fail(fmt.Errorf("zip: sync: %w", err))
	}
	return out.Close()
}

// onlyReader hides io.WriterTo, so copies use the given buffer.
type onlyReader struct{ io.Reader }

// encryptFile encrypts src into dst for the recipients and returns the
// file key, so that the caller can decrypt and verify the result without
// holding any recipient's identity (see keyCatcher).
func encryptFile(fsys FS, src, dst string, recipients []age.Recipient) (fileKey []byte, err error) {
	in, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := fsys.Create(dst)
	if err != nil {
		return nil, err
	}
	fail := func(err error) ([]byte, error) {
		_ = out.Close()
		return nil, err
	}
	catcher := &keyCatcher{}
	rs := make([]age.Recipient, len(recipients))
	for i, r := range recipients {
		rs[i] = catchingRecipient{r: r, c: catcher}
	}
	bw := bufio.NewWriterSize(out, bufSize)
	ew, err := age.Encrypt(bw, rs...)
	if err != nil {
		return fail(fmt.Errorf("encrypt: %w", err))
	}
	if _, err := io.CopyBuffer(ew, onlyReader{in}, make([]byte, 1<<20)); err != nil {
		return fail(fmt.Errorf("encrypt: %w", err))
	}
	if err := ew.Close(); err != nil {
		return fail(fmt.Errorf("encrypt: %w", err))
	}
	if err := bw.Flush(); err != nil {
		return fail(fmt.Errorf("encrypt: %w", err))
	}
	if err := out.Sync(); err != nil {
		return fail(fmt.Errorf("encrypt: sync: %w", err))
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	if catcher.key == nil {
		return nil, errors.New("encrypt: no file key was wrapped")
	}
	return catcher.key, nil
}

// keyCatcher keeps the file key age wraps for each recipient. age.Encrypt
// draws one random key per file and hands it to every recipient's Wrap;
// keeping a copy lets Write decrypt the finished file with
// age.NewInjectedFileKeyIdentity and verify every authenticated chunk and
// the header MAC, without adding a recipient of its own to the file. The
// key lives only in memory for the duration of Write.
type keyCatcher struct{ key []byte }

type catchingRecipient struct {
	r age.Recipient
	c *keyCatcher
}

func (c catchingRecipient) catch(fileKey []byte) {
	if c.c.key == nil {
		c.c.key = append([]byte(nil), fileKey...)
	}
}

// Wrap implements age.Recipient.
func (c catchingRecipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	c.catch(fileKey)
	return c.r.Wrap(fileKey)
}

// WrapWithLabels implements age.RecipientWithLabels, passing on the labels
// of recipients that have them (post-quantum recipients must not be mixed
// with classic ones, and age checks that through the labels).
func (c catchingRecipient) WrapWithLabels(fileKey []byte) ([]*age.Stanza, []string, error) {
	c.catch(fileKey)
	if rl, ok := c.r.(age.RecipientWithLabels); ok {
		return rl.WrapWithLabels(fileKey)
	}
	s, err := c.r.Wrap(fileKey)
	return s, nil, err
}

var _ age.RecipientWithLabels = catchingRecipient{}

// verifyEncrypted decrypts path with the file key and verifies the zip in it.
func verifyEncrypted(path string, fileKey []byte) (*Report, error) {
	return verifyZipFile(path, true, []age.Identity{age.NewInjectedFileKeyIdentity(fileKey)})
}

// parseRecipients parses age recipients ("age1…"), one per entry.
func parseRecipients(ss []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for i, s := range ss {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		rs, err := age.ParseRecipients(strings.NewReader(s))
		if err != nil {
			return nil, fmt.Errorf("recipient %d: %w", i+1, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}
