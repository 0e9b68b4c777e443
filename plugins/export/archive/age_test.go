package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"filippo.io/age"
)

func newIdentity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEncryptedArchiveDecryptsWithTheRightIdentityOnly(t *testing.T) {
	alice, bob, eve := newIdentity(t), newIdentity(t), newIdentity(t)
	_, res, dir := writeCorpus(t, func(o *Options) {
		o.Recipients = []string{alice.Recipient().String(), " " + bob.Recipient().String() + " "}
	})
	if res.Dir != "" || res.Zip != "" || filepath.Ext(res.Encrypted) != ".age" {
		t.Fatalf("result = %+v", res)
	}
	// Only the encrypted file is left: no plaintext folder, zip or partial.
	if got := listDir(t, dir); !slices.Equal(got, []string{res.Name + ".zip.age"}) {
		t.Errorf("parent holds %q", got)
	}
	for _, id := range []*age.X25519Identity{alice, bob} {
		rep, err := VerifyZip(res.Encrypted, id)
		if err != nil {
			t.Fatalf("VerifyZip with a recipient's identity: %v", err)
		}
		if rep.ManifestSHA256 != res.ManifestSHA256 || rep.Records != 12 {
			t.Errorf("report = %+v", rep)
		}
	}
	_, err := VerifyZip(res.Encrypted, eve)
	var noMatch *age.NoIdentityMatchError
	if !errors.Is(err, ErrVerify) || !errors.As(err, &noMatch) {
		t.Errorf("VerifyZip with a stranger's identity = %v", err)
	}
	if _, err := VerifyZip(res.Encrypted); !errors.Is(err, ErrVerify) {
		t.Errorf("VerifyZip without identity = %v", err)
	}
	// Plain age tooling opens it: decrypt, then read the zip.
	f, err := os.Open(res.Encrypted)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := age.Decrypt(f, bob)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	if zr.File[0].Name != res.Name+"/"+ManifestFile {
		t.Errorf("first entry = %s", zr.File[0].Name)
	}
	f.Seek(0, io.SeekStart)
	if _, err := age.Decrypt(f, eve); err == nil {
		t.Error("a stranger decrypted the archive")
	}
}

func TestEncryptedArchiveTamperingFails(t *testing.T) {
	id := newIdentity(t)
	_, res, _ := writeCorpus(t, func(o *Options) { o.Recipients = []string{id.Recipient().String()} })
	b := readFile(t, res.Encrypted)
	for _, at := range []int{len(b) / 2, len(b) - 1} {
		c := slices.Clone(b)
		c[at] ^= 1
		p := filepath.Join(t.TempDir(), "x.zip.age")
		os.WriteFile(p, c, 0o600)
		if _, err := VerifyZip(p, id); !errors.Is(err, ErrVerify) {
			t.Errorf("byte %d flipped: VerifyZip = %v", at, err)
		}
	}
}

func TestEncryptedExportFailuresLeaveNothing(t *testing.T) {
	id := newIdentity(t)
	for name, setup := range map[string]func(*faultFS){
		"create age":        func(f *faultFS) { f.failCreate = ".zip.age.partial" },
		"sync age":          func(f *faultFS) { f.failSync = ".zip.age.partial" },
		"rename age":        func(f *faultFS) { f.failRename = ".zip.age" },
		"remove plain copy": func(f *faultFS) { f.failRmAll = true },
	} {
		t.Run(name, func(t *testing.T) {
			src := corpus(t, t.TempDir())
			fsys := newFaultFS()
			setup(fsys)
			dir := t.TempDir()
			opts := testOptions(dir)
			opts.FS = fsys
			opts.Recipients = []string{id.Recipient().String()}
			if _, err := Write(context.Background(), src, opts); !errors.Is(err, errInjected) {
				t.Fatalf("Write = %v", err)
			}
			assertNothingComplete(t, dir, fsys.failRmAll)
		})
	}
}

func TestPostQuantumRecipients(t *testing.T) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	_, res, _ := writeCorpus(t, func(o *Options) { o.Recipients = []string{id.Recipient().String()} })
	if _, err := VerifyZip(res.Encrypted, id); err != nil {
		t.Fatalf("VerifyZip: %v", err)
	}
	// age refuses to mix post-quantum and classic recipients; so do we.
	classic := newIdentity(t)
	opts := testOptions(t.TempDir())
	opts.Recipients = []string{id.Recipient().String(), classic.Recipient().String()}
	if _, err := Write(context.Background(), corpus(t, t.TempDir()), opts); err == nil {
		t.Error("mixed recipients accepted")
	}
}
