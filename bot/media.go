package bot

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Media files and retention.
//
// Platforms that download attachments save them under the data dir's media
// folder as media/<group id>/<YYYY-MM-DD>/<file>, the date being the
// message's day in the configured time zone, and name the file in
// Message.MediaPath. When retention purges a record's body, the file its
// MediaPath named is deleted too; a day folder whose day ended two days
// before the retention cutoff is then deleted whole, which catches what no
// record names (a download whose message was never recorded, a partial
// download left by a crash). The margin of a day beyond the day's end keeps
// a change of time zone from deleting a file whose record is still kept.
// Nothing outside the media folder is ever deleted: a MediaPath elsewhere
// (the simulated platform's, say) is left alone.

// mediaDayLayout names the day folders.
const mediaDayLayout = "2006-01-02"

// MediaDayDir returns the folder a group's attachment of time t goes in,
// under the media folder root.
func MediaDayDir(root string, g GroupID, t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	return filepath.Join(root, string(g), t.In(loc).Format(mediaDayLayout))
}

// mediaJanitor deletes media files for retention, only inside root.
type mediaJanitor struct {
	root string // absolute, symlinks resolved; "" when there is no media folder
	log  *slog.Logger
}

func newMediaJanitor(root string, log *slog.Logger) *mediaJanitor {
	j := &mediaJanitor{log: log}
	abs, err := filepath.Abs(root)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("media folder unreadable; retention deletes no media files", "err", err)
		}
		return j
	}
	j.root = abs
	return j
}

// inside returns p's directory with symlinks resolved and its base name,
// or ok false when p does not lie inside the media folder.
func (j *mediaJanitor) inside(p string) (dir, base string, ok bool) {
	if j.root == "" || p == "" {
		return "", "", false
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", "", false
	}
	base = filepath.Base(abs)
	if base == "." || base == ".." || base == string(filepath.Separator) {
		return "", "", false
	}
	dir, err = filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", "", false
	}
	return dir, base, within(j.root, dir)
}

// within reports whether dir is root or below it.
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// remove deletes the files of purged records and the folders they leave
// empty, and returns how many files it deleted.
func (j *mediaJanitor) remove(g GroupID, paths []string) int {
	n := 0
	for _, p := range paths {
		dir, base, ok := j.inside(p)
		if !ok {
			j.log.Debug("media path outside the media folder; left alone", "group_id", string(g), "path", p)
			continue
		}
		err := os.Remove(filepath.Join(dir, base))
		switch {
		case err == nil:
			n++
		case errors.Is(err, fs.ErrNotExist):
		default:
			j.log.Warn("retention could not delete a media file", "group_id", string(g), "err", pathless(err))
			continue
		}
		// Drop the day and group folders once empty; Remove fails on a
		// folder that still has files, which is fine.
		for d := dir; d != j.root && within(j.root, d); d = filepath.Dir(d) {
			if os.Remove(d) != nil {
				break
			}
		}
	}
	return n
}

// sweep deletes g's day folders whose day ended two days before cutoff,
// and returns how many files were in them.
func (j *mediaJanitor) sweep(g GroupID, cutoff time.Time, loc *time.Location) int {
	if j.root == "" || g == "" || filepath.Base(string(g)) != string(g) || string(g) == ".." {
		return 0
	}
	if loc == nil {
		loc = time.Local
	}
	gdir := filepath.Join(j.root, string(g))
	entries, err := os.ReadDir(gdir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			j.log.Warn("retention could not read a group's media folder", "group_id", string(g), "err", pathless(err))
		}
		return 0
	}
	n := 0
	for _, e := range entries {
		day, err := time.ParseInLocation(mediaDayLayout, e.Name(), loc)
		if err != nil || !e.IsDir() || day.AddDate(0, 0, 2).After(cutoff) {
			continue
		}
		dir := filepath.Join(gdir, e.Name())
		files := 0
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files++
			}
			return nil
		})
		if err := os.RemoveAll(dir); err != nil {
			j.log.Warn("retention could not delete a media day folder", "group_id", string(g), "day", e.Name(), "err", pathless(err))
			continue
		}
		n += files
	}
	if n > 0 {
		j.log.Info("old media day folders deleted", "group_id", string(g), "files", n)
	}
	_ = os.Remove(gdir) // only if empty
	return n
}

// pathless drops the file name from a *fs.PathError: paths of attachments
// carry their file names, which are logged only at debug level.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errors.New(pe.Op + ": " + pe.Err.Error())
	}
	return err
}
