package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"filippo.io/age"

	// The embedded time zone database makes the default Asia/Shanghai and
	// the manifest's time zone load on machines without /usr/share/zoneinfo
	// (minimal containers, Windows).
	_ "time/tzdata"

	"github.com/qunguan/qunguan/bot"
)

// Format selects what an archive holds besides the member list and the
// manifest.
type Format uint8

// Formats. The zero value of Options.Formats means AllFormats.
const (
	JSONL Format = 1 << iota // messages.jsonl, the lossless canonical form
	CSV                      // messages.csv, for Excel
	XLSX                     // messages.xlsx
	HTML                     // messages*.html, to read like the chat
	Media                    // media/, the attachments the bot downloaded

	AllFormats = JSONL | CSV | XLSX | HTML | Media
)

var formatNames = []struct {
	f    Format
	name string
}{{JSONL, "jsonl"}, {CSV, "csv"}, {XLSX, "xlsx"}, {HTML, "html"}, {Media, "media"}}

// Names lists the formats in f, e.g. ["jsonl", "csv"].
func (f Format) Names() []string {
	var out []string
	for _, n := range formatNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

func (f Format) String() string { return strings.Join(f.Names(), ",") }

// ParseFormats parses a comma-separated list such as "jsonl,csv" or "all".
func ParseFormats(s string) (Format, error) {
	var f Format
	for _, part := range strings.Split(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "all" {
			f |= AllFormats
			continue
		}
		found := false
		for _, n := range formatNames {
			if n.name == part {
				f |= n.f
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown export format %q (want jsonl, csv, xlsx, html, media or all)", part)
		}
	}
	return f, nil
}

// DefaultLocation is the time zone of displayed times and day boundaries
// when Options.Location is nil.
const DefaultLocation = "Asia/Shanghai"

// Options configure Write.
type Options struct {
	// Dir is the parent folder the archive is created in. It must exist.
	Dir string
	// Formats selects the outputs; zero means AllFormats.
	Formats Format
	// Redact masks phone and ID numbers (see Redact) in message texts,
	// sender and member names, file names and the group name.
	Redact bool
	// GroupName, when set, is the name the archive goes by (its folder
	// name, page title and manifest) instead of the group's current name:
	// a group ending its countdown carries a freeze prefix by then. The
	// current name is kept in the manifest as current_name.
	GroupName string
	// Recipients are age recipients ("age1…"). When set, the archive is
	// kept only as <name>.zip.age; the folder and the plain zip are removed
	// once the encrypted file is verified.
	Recipients []string
	// From and To bound the records exported, From <= Time < To; zero
	// means from the first record and up to the export.
	From, To time.Time
	// Location is the time zone of displayed times and of day boundaries;
	// it must be an IANA zone (Verify loads it again by name). Nil means
	// Asia/Shanghai.
	Location *time.Location
	// BotVersion is recorded in the manifest.
	BotVersion string
	// ConfigSnapshot is the effective configuration with secrets removed by
	// the caller; it is stored as config.yaml and hashed in the manifest.
	ConfigSnapshot []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Progress, if set, is called every few thousand records and at the end
	// with the records written and the store's expected total.
	Progress func(done, total int)
	// FS receives every write; nil means OSFS. Tests inject failures here.
	FS FS
	// Log receives progress lines; nil means none.
	Log *slog.Logger

	// xlsxRowLimit and htmlPageSize shrink sheets and pages in tests.
	xlsxRowLimit int
	htmlPageSize int
}

// Result describes a finished, verified archive.
type Result struct {
	// Name is the archive's base name, <group-slug>-<UTC time>.
	Name string
	// Dir is the archive folder; "" when the archive is encrypted.
	Dir string
	// Zip is the plain zip; "" when the archive is encrypted.
	Zip string
	// Encrypted is the .zip.age file when Recipients were given.
	Encrypted string
	// ManifestSHA256 is the SHA-256 of manifest.json; the lifecycle records
	// it in the audit log, which makes later tampering with the manifest
	// itself detectable.
	ManifestSHA256 string
	Manifest       *Manifest
	// Reconciled reports that every day's written counts match the store's.
	Reconciled bool
	Timings    Timings
}

// Timings are the durations of Write's phases.
type Timings struct {
	Write   time.Duration // scan, encode, copy media, sync, manifest
	Verify  time.Duration // re-read the folder, alongside the zip build
	Zip     time.Duration // build and verify the zip
	Encrypt time.Duration // encrypt and verify the .zip.age
	Total   time.Duration
}

// ErrExists is returned when an archive of the same name already exists.
var ErrExists = errors.New("archive already exists")

// Write exports src into a new archive under opts.Dir, verifies it and
// returns its description. On any error nothing that looks complete is
// left behind: the work happens in <name>.partial, which is removed (or, if
// even that fails, left without a manifest under its .partial name), and
// the final names appear only after everything is verified.
func Write(ctx context.Context, src Source, opts Options) (*Result, error) {
	start := time.Now()
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	g, err := src.Group(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: read group: %w", err)
	}
	var red *redactor
	if o.Redact {
		red = &redactor{}
	}
	currentName := red.text(g.Name)
	groupName := currentName
	if o.GroupName != "" && o.GroupName != g.Name {
		groupName = red.text(o.GroupName)
	}
	created := o.Now().UTC()
	name := archiveName(g.ID, groupName, created)
	final := filepath.Join(o.Dir, name)
	for _, p := range []string{final, final + partialSuffix, final + zipSuffix, final + ageSuffix} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("export: %s: %w", p, ErrExists)
		}
	}
	e := &exporter{
		o: o, src: src, group: g, groupName: groupName, currentName: currentName, red: red, created: created,
		name: name, final: final, partial: final + partialSuffix,
	}
	if err := o.FS.Mkdir(e.partial, dirPerm); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	res, err := e.run(ctx)
	if err != nil {
		if cerr := e.cleanup(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, fmt.Errorf("export %s: %w", g.ID, err)
	}
	res.Timings.Total = time.Since(start)
	o.Log.Info("export_done", "group_id", g.ID, "archive", name, "records", res.Manifest.Counts.Written.Records,
		"reconciled", res.Reconciled, "manifest_sha256", res.ManifestSHA256, "elapsed", res.Timings.Total)
	return res, nil
}

// resolved are Options with defaults applied and recipients parsed.
type resolved struct {
	Options
	recipients []age.Recipient
}

func resolve(opts Options) (*resolved, error) {
	o := &resolved{Options: opts}
	if o.Dir == "" {
		return nil, errors.New("export: Options.Dir is empty")
	}
	if fi, err := os.Stat(o.Dir); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("export: %s is not a folder", o.Dir)
	}
	if o.Formats == 0 {
		o.Formats = AllFormats
	}
	if o.Formats&^AllFormats != 0 {
		return nil, fmt.Errorf("export: unknown formats %#x", uint8(o.Formats&^AllFormats))
	}
	if o.Location == nil {
		loc, err := time.LoadLocation(DefaultLocation)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		o.Location = loc
	}
	if name := o.Location.String(); name == "Local" {
		return nil, errors.New("export: Options.Location must be a named zone, not Local, so that Verify finds the same days elsewhere")
	} else if _, err := time.LoadLocation(name); err != nil {
		return nil, fmt.Errorf("export: Options.Location %q is not an IANA zone: %w", name, err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FS == nil {
		o.FS = OSFS{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if !o.From.IsZero() && !o.To.IsZero() && !o.From.Before(o.To) {
		return nil, fmt.Errorf("export: From %s is not before To %s", o.From, o.To)
	}
	rs, err := parseRecipients(o.Recipients)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if len(o.Recipients) > 0 && len(rs) == 0 {
		return nil, errors.New("export: Recipients holds no recipient")
	}
	o.recipients = rs
	return o, nil
}

// archiveName is <group-slug>-<UTC time>; Prune reads the time back.
func archiveName(id bot.GroupID, groupName string, created time.Time) string {
	slug := slugify(groupName, 40)
	if slug != "" {
		slug += "-"
	}
	return slug + slugify(string(id), 64) + "-" + created.UTC().Format(nameTimeLayout)
}

// slugify keeps letters and digits of any script (Chinese group names stay
// readable) and turns every other run of characters into one '-'.
func slugify(s string, maxRunes int) string {
	var b strings.Builder
	n := 0
	dash := false
	for _, r := range s {
		if n == maxRunes {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
				n++
			}
			dash = false
			b.WriteRune(r)
			n++
			continue
		}
		dash = true
	}
	return b.String()
}
