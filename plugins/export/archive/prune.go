package archive

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultRetention is how long archives are kept when no window is given.
const DefaultRetention = 30 * 24 * time.Hour

// partialGrace is the least age of a .partial leftover before Prune
// removes it. No export runs for a day, so an older partial is the remains
// of a crash, never one being written.
const partialGrace = 24 * time.Hour

// Prune deletes the archives in parent (folders, .zip and .zip.age files
// named by Write) created more than olderThan before now; olderThan <= 0
// means DefaultRetention. The age is read from the UTC time in the name,
// not from the file's modification time, which copying or touching
// changes. Anything Prune does not recognise as an archive is left alone:
// a folder must also hold manifest.json. Leftovers of failed exports
// (.partial) go too once older than both the window and a day. Prune
// returns the paths it removed.
func Prune(parent string, olderThan time.Duration, now time.Time) ([]string, error) {
	if olderThan <= 0 {
		olderThan = DefaultRetention
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	cutoff := now.Add(-olderThan)
	partialCutoff := now.Add(-max(olderThan, partialGrace))
	var (
		removed []string
		errs    []error
	)
	for _, de := range entries {
		name := de.Name()
		created, kind, ok := parseArchiveName(name)
		if !ok {
			continue
		}
		p := filepath.Join(parent, name)
		switch kind {
		case kindPartial:
			if !created.Before(partialCutoff) {
				continue
			}
		case kindFolder:
			if !de.IsDir() || !created.Before(cutoff) {
				continue
			}
			if fi, err := os.Lstat(filepath.Join(p, ManifestFile)); err != nil || !fi.Mode().IsRegular() {
				continue
			}
		case kindFile:
			if !de.Type().IsRegular() || !created.Before(cutoff) {
				continue
			}
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("prune: %w", errors.Join(errs...))
	}
	return removed, nil
}

type nameKind uint8

const (
	kindFolder nameKind = iota + 1
	kindFile
	kindPartial
)

// parseArchiveName recognises <slug>-<20060102T150405Z> with an optional
// .zip, .zip.age or .partial ending and returns the creation time.
func parseArchiveName(name string) (time.Time, nameKind, bool) {
	kind := kindFolder
	base := name
	if b, ok := strings.CutSuffix(base, partialSuffix); ok {
		kind, base = kindPartial, b
	}
	for _, suf := range []string{ageSuffix, zipSuffix} {
		if b, ok := strings.CutSuffix(base, suf); ok {
			if kind == kindFolder {
				kind = kindFile
			}
			base = b
			break
		}
	}
	i := strings.LastIndexByte(base, '-')
	if i <= 0 {
		return time.Time{}, 0, false
	}
	t, err := time.Parse(nameTimeLayout, base[i+1:])
	if err != nil {
		return time.Time{}, 0, false
	}
	return t, kind, true
}
