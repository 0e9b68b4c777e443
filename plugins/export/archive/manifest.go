package archive

import (
	"sort"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// FormatVersion is the version of the archive layout and manifest written
// by this package. Verify refuses manifests of a newer version.
const FormatVersion = 1

// Names of the files every archive has, or may have.
const (
	ManifestFile   = "manifest.json"
	SumsFile       = "SHA256SUMS"
	ReadmeFile     = "README.txt"
	ConfigFile     = "config.yaml"
	MessagesJSONL  = "messages.jsonl"
	MessagesCSV    = "messages.csv"
	MessagesXLSX   = "messages.xlsx"
	MessagesHTML   = "messages.html"
	MembersCSV     = "members.csv"
	MembersJSONL   = "members.jsonl"
	MediaDir       = "media"
	partialSuffix  = ".partial"
	zipSuffix      = ".zip"
	ageSuffix      = ".zip.age"
	nameTimeLayout = "20060102T150405Z"
)

// Manifest describes an archive: what it holds, what it covers and how to
// check it. It is written last, as manifest.json, and is not listed in
// Files; its own SHA-256 goes into the audit log instead.
type Manifest struct {
	Format     int       `json:"format"`
	Group      GroupInfo `json:"group"`
	Created    time.Time `json:"created"`
	BotVersion string    `json:"bot_version"`
	// Timezone is the IANA name of the location of displayed times and of
	// the day boundaries in Days.
	Timezone string   `json:"timezone"`
	Formats  []string `json:"formats"`
	// ConfigSHA256 is the hash of the effective configuration at export
	// time, stored as config.yaml; empty when none was given.
	ConfigSHA256 string       `json:"config_sha256,omitempty"`
	Coverage     Coverage     `json:"coverage"`
	Counts       Counts       `json:"counts"`
	Days         []DayCount   `json:"days"`
	Members      MembersInfo  `json:"members"`
	Media        MediaInfo    `json:"media"`
	XLSX         *XLSXInfo    `json:"xlsx,omitempty"`
	HTML         *HTMLInfo    `json:"html,omitempty"`
	Redaction    RedactionLog `json:"redaction"`
	// Files lists every file of the archive but the manifest, by path.
	Files []FileEntry `json:"files"`
}

// inUTC writes every instant of the manifest in UTC, whatever zone the
// store or the caller used; the manifest's Timezone governs only days and
// displayed times.
func (m *Manifest) inUTC() {
	utc := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	utc(&m.Created)
	utc(&m.Group.FirstSeen)
	for i := range m.Group.NameHistory {
		utc(&m.Group.NameHistory[i].Until)
	}
	c := &m.Coverage
	for _, t := range []*time.Time{&c.RequestedFrom, &c.RequestedTo, &c.ScanFrom, &c.ScanTo, &c.WindowStart, &c.WindowEnd, &c.FirstRecord, &c.LastRecord} {
		utc(t)
	}
	for i := range c.Gaps {
		utc(&c.Gaps[i].From)
		utc(&c.Gaps[i].To)
	}
}

// GroupInfo identifies the exported group.
type GroupInfo struct {
	ID   bot.GroupID `json:"id"`
	Name string      `json:"name"`
	// CurrentName is the group's name at export when the archive goes by
	// another (Options.GroupName).
	CurrentName string       `json:"current_name,omitempty"`
	NameHistory []NameChange `json:"name_history,omitempty"`
	FirstSeen   time.Time    `json:"first_seen,omitzero"`
	MemberCount int          `json:"member_count"`
}

// NameChange is an earlier name of the group, used until Until.
type NameChange struct {
	Name  string    `json:"name"`
	Until time.Time `json:"until"`
}

// Coverage says which period the archive speaks for and where it is blind.
// The bot records only what it sees while online, so every gap is a period
// whose messages are not in the archive and cannot be recovered.
type Coverage struct {
	// RequestedFrom and RequestedTo are Options.From and Options.To.
	RequestedFrom time.Time `json:"requested_from,omitzero"`
	RequestedTo   time.Time `json:"requested_to,omitzero"`
	// ScanFrom and ScanTo are the records read, [ScanFrom, ScanTo): the
	// request widened to whole hours, so that every hour compares in full
	// with the store's hourly counts. A zero ScanFrom means from the start.
	ScanFrom time.Time `json:"scan_from,omitzero"`
	ScanTo   time.Time `json:"scan_to"`
	// WindowStart and WindowEnd bound the period Gaps are computed in: the
	// request, or from the group's first sighting (or first record) to the
	// export.
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	FirstRecord time.Time `json:"first_record,omitzero"`
	LastRecord  time.Time `json:"last_record,omitzero"`
	// Gaps are the periods within the window when the bot was offline.
	Gaps           []Gap `json:"gaps"`
	OfflineSeconds int64 `json:"offline_seconds"`
}

// Gap is a period when the bot was not online.
type Gap struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Seconds int64     `json:"seconds"`
}

// Tally counts records by kind, as bot.HourCount does.
type Tally struct {
	Records  int64 `json:"records"`
	Messages int64 `json:"messages"` // messages from people
	Bot      int64 `json:"bot"`      // messages from the bot account
	Media    int64 `json:"media"`    // image and file messages, within Messages and Bot
	Joins    int64 `json:"joins"`
	Leaves   int64 `json:"leaves"`
	Other    int64 `json:"other"`
}

func (t *Tally) addRecord(r *bot.Record) {
	t.Records++
	switch r.Kind {
	case bot.EventMessage:
		if r.FromBot {
			t.Bot++
		} else {
			t.Messages++
		}
		if r.MsgType == bot.MsgImage || r.MsgType == bot.MsgFile {
			t.Media++
		}
	case bot.EventMemberJoined:
		t.Joins++
	case bot.EventMemberLeft:
		t.Leaves++
	default:
		t.Other++
	}
}

func (t *Tally) addHour(h bot.HourCount) {
	t.Messages += int64(h.Messages)
	t.Bot += int64(h.Bot)
	t.Media += int64(h.Media)
	t.Joins += int64(h.Joins)
	t.Leaves += int64(h.Leaves)
	t.Other += int64(h.Other)
	t.Records += int64(h.Messages + h.Bot + h.Joins + h.Leaves + h.Other)
}

// Counts are the archive's record totals: Written is what the archive
// holds, Expected what the store's hourly counts say it should hold.
type Counts struct {
	Written    Tally `json:"written"`
	Expected   Tally `json:"expected"`
	Reconciled bool  `json:"reconciled"`
	// SourceChanged reports that the store's counts changed while the
	// export ran (records were appended); export again for a clean match.
	SourceChanged bool `json:"source_changed,omitempty"`
}

// DayCount is one day's counts. A day is the local date (in the manifest's
// Timezone) of the start of each UTC hour, so that the store's hourly
// counts fall into days exactly as the records do; for whole-hour offsets
// such as Asia/Shanghai that is simply the local calendar day.
type DayCount struct {
	Day        string `json:"day"`
	Written    Tally  `json:"written"`
	Expected   Tally  `json:"expected"`
	Reconciled bool   `json:"reconciled"`
}

// MembersInfo summarises members.csv.
type MembersInfo struct {
	Total   int `json:"total"`
	Present int `json:"present"`
}

// MediaInfo summarises media/.
type MediaInfo struct {
	Copied int   `json:"copied"`
	Bytes  int64 `json:"bytes"`
	// Missing lists attachments the bot saved that could not be copied.
	Missing []MissingMedia `json:"missing"`
}

// MissingMedia is one attachment that is not in the archive.
type MissingMedia struct {
	Seq        uint64 `json:"seq"`
	FileName   string `json:"file_name,omitempty"`
	SourcePath string `json:"source_path"`
	Reason     string `json:"reason"`
}

// XLSXInfo describes the workbooks: messages.xlsx, and messages2.xlsx, ...
// for histories longer than three full sheets.
type XLSXInfo struct {
	Files          []XLSXFile `json:"files"`
	TruncatedCells int64      `json:"truncated_cells"`
}

// XLSXFile is one workbook and its sheets.
type XLSXFile struct {
	Path   string   `json:"path"`
	Sheets []string `json:"sheets"`
}

// HTMLInfo describes the HTML pages.
type HTMLInfo struct {
	Pages     int    `json:"pages"`
	PerPage   int    `json:"per_page"`
	FirstPage string `json:"first_page"`
}

// RedactionLog says whether phone and ID numbers were masked, and how many.
type RedactionLog struct {
	Enabled bool  `json:"enabled"`
	Count   int64 `json:"count"`
}

// FileEntry is one file of the archive.
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// dayBuckets assigns instants to manifest days and counts per day. The
// day of an hour is cached, so counting costs one comparison per record.
type dayBuckets struct {
	loc      *time.Location
	days     map[string]*Tally
	lastHour int64
	last     *Tally
}

func newDayBuckets(loc *time.Location) *dayBuckets {
	return &dayBuckets{loc: loc, days: make(map[string]*Tally), lastHour: -1 << 62}
}

// at returns the tally of the day of t.
func (b *dayBuckets) at(t time.Time) *Tally {
	hour := t.Unix()
	hour -= ((hour % 3600) + 3600) % 3600
	if hour == b.lastHour {
		return b.last
	}
	day := dayOf(time.Unix(hour, 0), b.loc)
	d := b.days[day]
	if d == nil {
		d = new(Tally)
		b.days[day] = d
	}
	b.lastHour, b.last = hour, d
	return d
}

// dayOf is the manifest day of an hour start.
func dayOf(hourStart time.Time, loc *time.Location) string {
	return hourStart.In(loc).Format(time.DateOnly)
}

// reconcile merges written and expected day tallies into sorted DayCounts
// and reports whether every day matches.
func reconcile(written, expected map[string]*Tally) ([]DayCount, bool) {
	keys := make(map[string]bool, len(written)+len(expected))
	for k := range written {
		keys[k] = true
	}
	for k := range expected {
		keys[k] = true
	}
	days := make([]DayCount, 0, len(keys))
	all := true
	for k := range keys {
		d := DayCount{Day: k}
		if t := written[k]; t != nil {
			d.Written = *t
		}
		if t := expected[k]; t != nil {
			d.Expected = *t
		}
		d.Reconciled = d.Written == d.Expected
		all = all && d.Reconciled
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Day < days[j].Day })
	return days, all
}

// liveSessionSlack is how recent the last heartbeat of an open session must
// be for the session to count as the running one (online until now). An
// open session with an older heartbeat was left by a process that died and
// has not started again; it counts as online only until that heartbeat.
const liveSessionSlack = 15 * time.Minute

// offlineGaps returns the parts of [start, end) not covered by sessions.
func offlineGaps(start, end, now time.Time, sessions []bot.Session) []Gap {
	if !start.Before(end) {
		return nil
	}
	type span struct{ from, to time.Time }
	spans := make([]span, 0, len(sessions))
	for _, s := range sessions {
		to := s.End
		if to.IsZero() {
			to = s.LastAlive
			if to.Before(s.Start) {
				to = s.Start
			}
			if now.Sub(to) <= liveSessionSlack {
				to = now
			}
		}
		from := s.Start
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		if from.Before(to) {
			spans = append(spans, span{from, to})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
	var gaps []Gap
	cursor := start
	for _, s := range spans {
		if s.from.After(cursor) {
			gaps = append(gaps, newGap(cursor, s.from))
		}
		if s.to.After(cursor) {
			cursor = s.to
		}
	}
	if cursor.Before(end) {
		gaps = append(gaps, newGap(cursor, end))
	}
	return gaps
}

func newGap(from, to time.Time) Gap {
	return Gap{From: from, To: to, Seconds: int64(to.Sub(from) / time.Second)}
}
