package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// copyTree copies the archive folder src to a fresh dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, at int) {
	t.Helper()
	b := readFile(t, path)
	if at < 0 {
		at = len(b) + at
	}
	b[at] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	_, res, _ := writeCorpus(t, nil)
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   string
	}{
		{"one byte of messages.jsonl", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, MessagesJSONL), 40) },
			"messages.jsonl: SHA-256 differs"},
		{"one byte of a media file", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, "media", "5_photo_1.png"), -1) },
			"media/5_photo_1.png: SHA-256 differs"},
		{"one byte of the xlsx", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, MessagesXLSX), 100) },
			"messages.xlsx: SHA-256 differs"},
		{"deleted file", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, MembersCSV)) },
			"missing file members.csv"},
		{"deleted media", func(t *testing.T, dir string) { os.RemoveAll(filepath.Join(dir, "media")) },
			"missing file media/5_photo_1.png"},
		{"extra file", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o600) },
			"extra file extra.txt"},
		{"extra media", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "media", "evil.png"), nil, 0o600) },
			"extra file media/evil.png"},
		{"symlink instead of a file", func(t *testing.T, dir string) {
			p := filepath.Join(dir, MembersJSONL)
			os.Rename(p, p+".moved")
			os.Symlink(MembersJSONL+".moved", p)
		}, "members.jsonl: not a regular file"},
		{"truncated jsonl", func(t *testing.T, dir string) {
			p := filepath.Join(dir, MessagesJSONL)
			b := readFile(t, p)
			os.WriteFile(p, b[:len(b)-10], 0o600)
		}, "last line has no newline"},
		{"no manifest", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, ManifestFile)) },
			"no manifest.json"},
		{"broken manifest", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, ManifestFile), []byte("{"), 0o600) },
			"does not parse"},
		{"newer format", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *Manifest) { m.Format = FormatVersion + 1 })
		},
			"manifest format 2"},
		{"manifest counts edited", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *Manifest) { m.Days[0].Written.Records++; m.Counts.Written.Records++ })
		}, "2026-03-01 has 10 records, manifest says 11"},
		{"file dropped from folder and manifest", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, MessagesCSV))
			editManifest(t, dir, func(m *Manifest) {
				m.Files = slices.DeleteFunc(m.Files, func(f FileEntry) bool { return f.Path == MessagesCSV })
			})
		}, "format csv has no messages.csv"},
		{"manifest lists an escaping path", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *Manifest) { m.Files = append(m.Files, FileEntry{Path: "../outside"}) })
		}, `invalid path "../outside"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), res.Name)
			copyTree(t, res.Dir, dir)
			if _, err := Verify(dir); err != nil {
				t.Fatalf("copy does not verify before tampering: %v", err)
			}
			c.tamper(t, dir)
			_, err := Verify(dir)
			if !errors.Is(err, ErrVerify) {
				t.Fatalf("Verify = %v, want ErrVerify", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Verify = %v\nwant it to say %q", err, c.want)
			}
		})
	}
}

func editManifest(t *testing.T, dir string, edit func(*Manifest)) {
	t.Helper()
	p := filepath.Join(dir, ManifestFile)
	var m Manifest
	if err := json.Unmarshal(readFile(t, p), &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	b, _ := json.Marshal(&m)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyReportsManifestHashChange(t *testing.T) {
	// A consistent rewrite (file and manifest both changed) passes Verify;
	// the manifest hash recorded at export time is what catches it.
	_, res, _ := writeCorpus(t, nil)
	dir := filepath.Join(t.TempDir(), res.Name)
	copyTree(t, res.Dir, dir)
	editManifest(t, dir, func(m *Manifest) { m.BotVersion = "forged" })
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ManifestSHA256 == res.ManifestSHA256 {
		t.Error("a changed manifest has the recorded hash")
	}
}

// rewriteZip copies a zip entry by entry, letting edit change or drop
// entries and add extra ones.
func rewriteZip(t *testing.T, src, dst string, edit func(name string, data []byte) ([]byte, bool), extra map[string]string) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		data, keep := edit(f.Name, data)
		if !keep {
			continue
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	for name, body := range extra {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyZipDetectsTampering(t *testing.T) {
	_, res, _ := writeCorpus(t, nil)
	for _, c := range []struct {
		name  string
		edit  func(name string, data []byte) ([]byte, bool)
		extra map[string]string
		want  string
	}{
		{"altered entry", func(n string, d []byte) ([]byte, bool) {
			if strings.HasSuffix(n, "/"+MessagesJSONL) {
				d[10] ^= 1
			}
			return d, true
		}, nil, "messages.jsonl: SHA-256 differs"},
		{"missing entry", func(n string, d []byte) ([]byte, bool) { return d, !strings.HasSuffix(n, "/"+MembersCSV) }, nil,
			"missing file members.csv"},
		{"extra entry", func(_ string, d []byte) ([]byte, bool) { return d, true }, map[string]string{res.Name + "/x.txt": "x"},
			"extra file x.txt"},
		{"entry outside the folder", func(_ string, d []byte) ([]byte, bool) { return d, true }, map[string]string{"evil/x.txt": "x"},
			`unexpected zip entry "evil/x.txt"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "a.zip")
			rewriteZip(t, res.Zip, p, c.edit, c.extra)
			_, err := VerifyZip(p)
			if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("VerifyZip = %v\nwant ErrVerify saying %q", err, c.want)
			}
		})
	}
	t.Run("flipped byte in the file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "a.zip")
		b := readFile(t, res.Zip)
		b[len(b)/2] ^= 0x40
		os.WriteFile(p, b, 0o600)
		if _, err := VerifyZip(p); err == nil {
			t.Error("VerifyZip accepted a corrupted zip")
		}
	})
	t.Run("not a zip", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "a.zip")
		os.WriteFile(p, []byte("hello"), 0o600)
		if _, err := VerifyZip(p); !errors.Is(err, ErrVerify) {
			t.Errorf("VerifyZip = %v", err)
		}
	})
}

func TestVerifyDuringWriteCatchesAFaultyDisk(t *testing.T) {
	// A disk that silently changes bytes: every write succeeds, the bytes
	// differ. The re-read must catch it and the export fail.
	src := corpus(t, t.TempDir())
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.FS = corruptingFS{target: MembersCSV}
	_, err := Write(context.Background(), src, opts)
	if !errors.Is(err, ErrVerify) {
		t.Fatalf("Write = %v, want ErrVerify", err)
	}
	assertNothingComplete(t, dir, false)
}

// corruptingFS flips a bit in every write to files named target.
type corruptingFS struct {
	OSFS
	target string
}

func (c corruptingFS) Create(path string) (File, error) {
	f, err := c.OSFS.Create(path)
	if err != nil || filepath.Base(path) != c.target {
		return f, err
	}
	return corruptingFile{f}, nil
}

type corruptingFile struct{ File }

func (c corruptingFile) Write(p []byte) (int, error) {
	q := append([]byte(nil), p...)
	if len(q) > 0 {
		q[len(q)-1] ^= 1
	}
	return c.File.Write(q)
}

func TestCSVRecountInAnyChunking(t *testing.T) {
	_, res, _ := writeCorpus(t, func(o *Options) { o.Formats = CSV })
	raw := readFile(t, filepath.Join(res.Dir, MessagesCSV))
	for _, chunk := range []int{1, 2, 3, 7, 64, len(raw)} {
		c := newRecounter(shanghai)
		r := &csvRecounter{c: c, header: true, fieldStart: true}
		for i := 0; i < len(raw); i += chunk {
			r.Write(raw[i:min(len(raw), i+chunk)])
		}
		if c.total != 12 || c.bad != 0 || r.pending() {
			t.Errorf("chunk %d: total %d, bad %d (%s), pending %v", chunk, c.total, c.bad, c.first, r.pending())
		}
		if c.days.days["2026-03-01"].Records != 10 || c.days.days["2026-03-02"].Records != 2 {
			t.Errorf("chunk %d: days wrong", chunk)
		}
	}
}

func TestVerifyCSVOnlyArchive(t *testing.T) {
	_, res, _ := writeCorpus(t, func(o *Options) { o.Formats = CSV })
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   string
	}{
		{"truncated", func(t *testing.T, dir string) {
			p := filepath.Join(dir, MessagesCSV)
			b := readFile(t, p)
			os.WriteFile(p, b[:len(b)-5], 0o600)
		}, "last line has no newline"},
		{"counts edited", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *Manifest) { m.Days[1].Written.Records = 5; m.Counts.Written.Records = 15 })
		}, "2026-03-02 has 2 records, manifest says 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), res.Name)
			copyTree(t, res.Dir, dir)
			c.tamper(t, dir)
			if _, err := Verify(dir); !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Verify = %v\nwant it to say %q", err, c.want)
			}
		})
	}
}
