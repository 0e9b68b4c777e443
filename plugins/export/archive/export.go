package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export/archive/internal/encode"
)

// exporter is the state of one Write.
type exporter struct {
	o         *resolved
	src       Source
	group     bot.GroupRecord
	groupName string
	// currentName is the group's name now, when the archive goes by
	// another (Options.GroupName).
	currentName string
	red         *redactor
	created     time.Time
	name        string
	final       string
	partial     string

	set   *fileSet
	sinks []sink
	xlsx  *xlsxSink
	html  *htmlSink
	media *mediaCopier

	written  *dayBuckets
	total    Tally
	senders  map[bot.UserID]int64
	first    time.Time
	last     time.Time
	members  []member
	timings  Timings
	zipPart  string
	agePart  string
	leftover []string // final files created before a later step failed
	finalDir bool     // the final folder exists (renamed) and a later step failed
}

func (e *exporter) run(ctx context.Context) (*Result, error) {
	o := e.o
	t0 := time.Now()
	e.set = newFileSet(o.FS, e.partial)
	scanFrom, scanTo := e.scanWindow()
	before, err := e.src.HourCounts(ctx, scanFrom, scanTo)
	if err != nil {
		return nil, fmt.Errorf("read hour counts: %w", err)
	}
	var expectedTotal Tally
	for _, h := range before {
		expectedTotal.addHour(h)
	}
	if err := e.openSinks(); err != nil {
		e.abortSinks()
		return nil, err
	}
	if err := e.scan(ctx, scanFrom, scanTo, int(expectedTotal.Records)); err != nil {
		e.abortSinks()
		return nil, err
	}
	if err := e.loadMembers(ctx); err != nil {
		e.abortSinks()
		return nil, err
	}
	for i, s := range e.sinks {
		if err := s.close(); err != nil {
			for _, rest := range e.sinks[i+1:] {
				rest.abort()
			}
			return nil, fmt.Errorf("finish messages: %w", err)
		}
	}
	if err := writeMembers(e.set, e.members, o.Location); err != nil {
		return nil, fmt.Errorf("write members: %w", err)
	}
	after, err := e.src.HourCounts(ctx, scanFrom, scanTo)
	if err != nil {
		return nil, fmt.Errorf("read hour counts: %w", err)
	}
	man, err := e.manifest(ctx, scanFrom, scanTo, before, after)
	if err != nil {
		return nil, err
	}
	manBytes, err := e.writeTail(man)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(manBytes)
	manSHA := hex.EncodeToString(sum[:])
	e.timings.Write = time.Since(t0)
	o.Log.Info("export_written", "group_id", e.group.ID, "records", e.total.Records, "elapsed", e.timings.Write)

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The folder is verified while the zip is built from it: both only
	// read the folder, and on two cores the deflating overlaps the hashing.
	// A folder that fails verification discards the zip with it.
	t0 = time.Now()
	e.zipPart = e.final + zipSuffix + partialSuffix
	type verified struct {
		rep *Report
		err error
		d   time.Duration
	}
	vch := make(chan verified, 1)
	go func() {
		start := time.Now()
		rep, err := Verify(e.partial)
		vch <- verified{rep, err, time.Since(start)}
	}()
	zipErr := buildZip(o.FS, e.partial, e.name, e.zipPart, man.Files, e.created)
	v := <-vch
	e.timings.Verify = v.d
	if v.err != nil {
		return nil, v.err
	}
	if v.rep.ManifestSHA256 != manSHA {
		return nil, fmt.Errorf("%w: manifest changed on disk after it was written", ErrVerify)
	}
	if zipErr != nil {
		return nil, zipErr
	}
	zrep, err := VerifyZip(e.zipPart)
	if err := checkZip(zrep, err, manSHA); err != nil {
		return nil, err
	}
	e.timings.Zip = time.Since(t0)

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Name: e.name, ManifestSHA256: manSHA, Manifest: man, Reconciled: man.Counts.Reconciled}
	if len(o.recipients) > 0 {
		t0 = time.Now()
		e.agePart = e.final + ageSuffix + partialSuffix
		key, err := encryptFile(o.FS, e.zipPart, e.agePart, o.recipients)
		if err != nil {
			return nil, err
		}
		rep, err := verifyEncrypted(e.agePart, key)
		clear(key)
		if err := checkZip(rep, err, manSHA); err != nil {
			return nil, err
		}
		e.timings.Encrypt = time.Since(t0)
		if err := e.commitEncrypted(); err != nil {
			return nil, err
		}
		res.Encrypted = e.final + ageSuffix
	} else {
		if err := e.commitPlain(); err != nil {
			return nil, err
		}
		res.Dir, res.Zip = e.final, e.final+zipSuffix
	}
	res.Timings = e.timings
	return res, nil
}

// scanWindow widens the request to whole hours: the store counts records
// per hour, and only whole hours can be reconciled. An open end is the end
// of the hour the export is created in, so records arriving during the
// export are in, and so are records of the creation instant itself even
// when it falls exactly on the hour (a timer-driven export at 09:00:00).
func (e *exporter) scanWindow() (from, to time.Time) {
	if !e.o.From.IsZero() {
		from = e.o.From.UTC().Truncate(time.Hour)
	}
	if e.o.To.IsZero() {
		return from, e.created.UTC().Truncate(time.Hour).Add(time.Hour)
	}
	to = e.o.To.UTC()
	if t := to.Truncate(time.Hour); !t.Equal(to) {
		to = t.Add(time.Hour)
	}
	return from, to
}

func (e *exporter) openSinks() error {
	o := e.o
	add := func(s sink, err error) error {
		if err != nil {
			return err
		}
		e.sinks = append(e.sinks, s)
		return nil
	}
	if o.Formats&JSONL != 0 {
		if err := add(newJSONLSink(e.set)); err != nil {
			return fmt.Errorf("create %s: %w", MessagesJSONL, err)
		}
	}
	if o.Formats&CSV != 0 {
		if err := add(newCSVSink(e.set)); err != nil {
			return fmt.Errorf("create %s: %w", MessagesCSV, err)
		}
	}
	if o.Formats&HTML != 0 {
		e.html = newHTMLSink(e.set, o.htmlPageSize, e.groupName, e.htmlSubtitle())
		e.sinks = append(e.sinks, e.html)
	}
	if o.Formats&XLSX != 0 {
		// excelize spills sheet data next to the archive, on the same disk,
		// and the spill goes when the workbook is closed.
		x, err := newXLSXSink(e.set, e.partial, o.xlsxRowLimit, func() [][]any { return memberRows(e.members, o.Location) })
		if err != nil {
			return fmt.Errorf("create %s: %w", MessagesXLSX, err)
		}
		e.xlsx = x
		e.sinks = append(e.sinks, newAsyncSink(x))
	}
	if o.Formats&Media != 0 {
		e.media = newMediaCopier(e.set, e.red)
	}
	return nil
}

func (e *exporter) htmlSubtitle() string {
	return fmt.Sprintf("群 ID %s · 导出于 %s · 时区 %s", e.group.ID, e.created.In(e.o.Location).Format(encode.DisplayTime), e.o.Location)
}

func (e *exporter) abortSinks() {
	for _, s := range e.sinks {
		s.abort()
	}
}

// progressEvery is how many records pass between Progress calls.
const progressEvery = 4096

// scan reads the history once and hands each record to every sink.
func (e *exporter) scan(ctx context.Context, from, to time.Time, expected int) error {
	e.written = newDayBuckets(e.o.Location)
	e.senders = make(map[bot.UserID]int64)
	var m encode.Message
	done := 0
	err := e.src.Scan(ctx, from, to, func(r bot.Record) error {
		if done%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if done > 0 && e.o.Progress != nil {
				e.o.Progress(done, expected)
			}
		}
		done++
		e.written.at(r.Time).addRecord(&r)
		e.total.addRecord(&r)
		if e.first.IsZero() || r.Time.Before(e.first) {
			e.first = r.Time
		}
		if r.Time.After(e.last) {
			e.last = r.Time
		}
		if r.Kind == bot.EventMessage && !r.FromBot {
			e.senders[r.Sender]++
		}
		m = encode.Message{Record: r, Local: r.Time.In(e.o.Location)}
		if e.media != nil {
			rel, missing, err := e.media.copy(&r)
			if err != nil {
				return err
			}
			m.Media, m.MediaMissing = rel, missing
		}
		if e.red != nil {
			e.red.all(&m.Text, &m.SenderName, &m.FileName, &m.MediaPath)
		}
		for _, s := range e.sinks {
			if err := s.write(&m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan records: %w", err)
	}
	if e.o.Progress != nil {
		e.o.Progress(done, max(done, expected))
	}
	return nil
}

func (e *exporter) loadMembers(ctx context.Context) error {
	ms, err := e.src.Members(ctx)
	if err != nil {
		return fmt.Errorf("read members: %w", err)
	}
	e.members = make([]member, len(ms))
	for i, m := range ms {
		e.red.all(&m.Nick, &m.Card)
		e.members[i] = member{MemberRecord: m, inArchive: e.senders[m.User]}
	}
	sortMembers(e.members)
	return nil
}

// manifest assembles the manifest; Files is filled by writeTail.
func (e *exporter) manifest(ctx context.Context, scanFrom, scanTo time.Time, before, after []bot.HourCount) (*Manifest, error) {
	o := e.o
	man := &Manifest{
		Format:     FormatVersion,
		Created:    e.created,
		BotVersion: o.BotVersion,
		Timezone:   o.Location.String(),
		Formats:    o.Formats.Names(),
		Group: GroupInfo{
			ID: e.group.ID, Name: e.groupName, FirstSeen: e.group.FirstSeen, MemberCount: e.group.MemberCount,
		},
		Redaction: RedactionLog{Enabled: o.Redact},
	}
	if e.currentName != e.groupName {
		man.Group.CurrentName = e.currentName
	}
	for _, nc := range e.group.NameHistory {
		man.Group.NameHistory = append(man.Group.NameHistory, NameChange{Name: e.red.text(nc.Name), Until: nc.Until})
	}

	cov := &man.Coverage
	cov.RequestedFrom, cov.RequestedTo = o.From, o.To
	cov.ScanFrom, cov.ScanTo = scanFrom, scanTo
	cov.FirstRecord, cov.LastRecord = e.first, e.last
	cov.WindowStart = o.From
	if cov.WindowStart.IsZero() {
		cov.WindowStart = e.group.FirstSeen
		if cov.WindowStart.IsZero() || (!e.first.IsZero() && e.first.Before(cov.WindowStart)) {
			cov.WindowStart = e.first
		}
	}
	cov.WindowEnd = o.To
	if cov.WindowEnd.IsZero() {
		cov.WindowEnd = e.created
	}
	if !cov.WindowStart.IsZero() && cov.WindowStart.Before(cov.WindowEnd) {
		sessions, err := e.src.Sessions(ctx, cov.WindowStart, cov.WindowEnd)
		if err != nil {
			return nil, fmt.Errorf("read sessions: %w", err)
		}
		cov.Gaps = offlineGaps(cov.WindowStart, cov.WindowEnd, e.created, sessions)
	}
	if cov.Gaps == nil {
		cov.Gaps = []Gap{}
	}
	for _, g := range cov.Gaps {
		cov.OfflineSeconds += g.Seconds
	}

	expected := newDayBuckets(o.Location)
	var expTotal, beforeTotal Tally
	for _, h := range after {
		expected.at(h.Hour).addHour(h)
		expTotal.addHour(h)
	}
	for _, h := range before {
		beforeTotal.addHour(h)
	}
	man.Days, man.Counts.Reconciled = reconcile(e.written.days, expected.days)
	man.Counts.Written, man.Counts.Expected = e.total, expTotal
	man.Counts.Reconciled = man.Counts.Reconciled && e.total == expTotal
	man.Counts.SourceChanged = beforeTotal != expTotal

	man.Members.Total = len(e.members)
	for _, m := range e.members {
		if m.Present {
			man.Members.Present++
		}
	}
	man.Media.Missing = []MissingMedia{}
	if e.media != nil {
		man.Media.Copied, man.Media.Bytes = e.media.copied, e.media.bytes
		man.Media.Missing = append(man.Media.Missing, e.media.missing...)
	}
	if e.xlsx != nil {
		man.XLSX = &XLSXInfo{Files: e.xlsx.files, TruncatedCells: e.xlsx.truncated}
	}
	if e.html != nil {
		man.HTML = &HTMLInfo{Pages: e.html.page, PerPage: e.html.pageSize, FirstPage: MessagesHTML}
	}
	if len(o.ConfigSnapshot) > 0 {
		sum := sha256.Sum256(o.ConfigSnapshot)
		man.ConfigSHA256 = hex.EncodeToString(sum[:])
	}
	man.inUTC()
	return man, nil
}

// writeTail writes config.yaml, README.txt and SHA256SUMS, then the
// manifest, last of all, and syncs the folder. Until the manifest exists
// nothing can take the folder for a complete archive.
func (e *exporter) writeTail(man *Manifest) ([]byte, error) {
	if len(e.o.ConfigSnapshot) > 0 {
		if err := e.set.writeFile(ConfigFile, e.o.ConfigSnapshot); err != nil {
			return nil, fmt.Errorf("write %s: %w", ConfigFile, err)
		}
	}
	if err := e.set.writeFile(ReadmeFile, readme(man)); err != nil {
		return nil, fmt.Errorf("write %s: %w", ReadmeFile, err)
	}
	var sums bytes.Buffer
	for _, f := range e.set.entries() {
		fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Path)
	}
	if err := e.set.writeFile(SumsFile, sums.Bytes()); err != nil {
		return nil, fmt.Errorf("write %s: %w", SumsFile, err)
	}
	man.Files = e.set.entries()
	man.Redaction.Count = e.red.countOrZero()
	raw, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	raw = append(raw, '\n')
	// Subdirectories first, then the manifest, then the folder itself: the
	// manifest must never be durable before the files it lists.
	if e.media != nil && e.media.dirOK {
		if err := e.o.FS.SyncDir(filepath.Join(e.partial, MediaDir)); err != nil {
			return nil, fmt.Errorf("sync media folder: %w", err)
		}
	}
	if err := e.o.FS.SyncDir(e.partial); err != nil {
		return nil, fmt.Errorf("sync folder: %w", err)
	}
	if err := e.set.writeFile(ManifestFile, raw); err != nil {
		return nil, fmt.Errorf("write %s: %w", ManifestFile, err)
	}
	if err := e.o.FS.SyncDir(e.partial); err != nil {
		return nil, fmt.Errorf("sync folder: %w", err)
	}
	return raw, nil
}

func (r *redactor) countOrZero() int64 {
	if r == nil {
		return 0
	}
	return r.count
}

// checkZip turns a zip verification into an error, and checks that the zip
// holds the manifest written into the folder.
func checkZip(rep *Report, err error, manSHA string) error {
	if err != nil {
		return err
	}
	if rep.ManifestSHA256 != manSHA {
		return fmt.Errorf("%w: %s holds a different manifest", ErrVerify, rep.Path)
	}
	return nil
}

// commitPlain gives the verified zip and folder their final names.
func (e *exporter) commitPlain() error {
	fsys := e.o.FS
	if err := fsys.Rename(e.zipPart, e.final+zipSuffix); err != nil {
		return fmt.Errorf("commit zip: %w", err)
	}
	e.leftover = append(e.leftover, e.final+zipSuffix)
	if err := fsys.Rename(e.partial, e.final); err != nil {
		return fmt.Errorf("commit folder: %w", err)
	}
	e.finalDir = true
	if err := fsys.SyncDir(e.o.Dir); err != nil {
		return fmt.Errorf("sync %s: %w", e.o.Dir, err)
	}
	return nil
}

// commitEncrypted removes every plaintext copy before the encrypted file
// takes its final name, so an export that asked for encryption never ends
// with plaintext beside a complete archive.
func (e *exporter) commitEncrypted() error {
	fsys := e.o.FS
	if err := fsys.Remove(e.zipPart); err != nil {
		return fmt.Errorf("remove plain zip: %w", err)
	}
	if err := fsys.RemoveAll(e.partial); err != nil {
		return fmt.Errorf("remove plain folder: %w", err)
	}
	if err := fsys.Rename(e.agePart, e.final+ageSuffix); err != nil {
		return fmt.Errorf("commit encrypted archive: %w", err)
	}
	e.leftover = append(e.leftover, e.final+ageSuffix)
	if err := fsys.SyncDir(e.o.Dir); err != nil {
		return fmt.Errorf("sync %s: %w", e.o.Dir, err)
	}
	return nil
}

// cleanup removes whatever a failed Write created. The manifest goes
// first: if removing the rest fails, the folder keeps its .partial name and
// has no manifest, so neither a person nor Verify takes it for complete.
func (e *exporter) cleanup() error {
	fsys := e.o.FS
	var errs []error
	rm := func(p string, all bool) {
		var err error
		if all {
			err = fsys.RemoveAll(p)
		} else {
			err = fsys.Remove(p)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, p := range e.leftover {
		rm(p, false)
	}
	if e.finalDir {
		rm(filepath.Join(e.final, ManifestFile), false)
		rm(e.final, true)
	}
	rm(filepath.Join(e.partial, ManifestFile), false)
	rm(e.partial, true)
	if e.zipPart != "" {
		rm(e.zipPart, false)
	}
	if e.agePart != "" {
		rm(e.agePart, false)
	}
	if err := fsys.SyncDir(e.o.Dir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("clean up failed export: %w", errors.Join(errs...))
	}
	return nil
}

// readme explains the archive to whoever receives it, Chinese first,
// listing only the files this archive has.
func readme(m *Manifest) []byte {
	has := func(f string) bool { return slices.Contains(m.Formats, f) }
	var b bytes.Buffer
	fmt.Fprintf(&b, "群聊档案 · %s (%s)\n", m.Group.Name, m.Group.ID)
	fmt.Fprintf(&b, "导出时间 %s，时区 %s，机器人版本 %s\n\n文件说明\n", m.Created.Format(time.RFC3339), m.Timezone, m.BotVersion)
	lines := []struct {
		format, text string
	}{
		{"html", "  messages.html        像聊天界面一样阅读，每页 1000 条（messages2.html …）"},
		{"csv", "  messages.csv         可用 Excel 打开（UTF-8 带 BOM）"},
		{"xlsx", "  messages.xlsx        Excel 工作簿：每张消息表最多 1,048,575 条，每个文件最多 3 张（更多在 messages2.xlsx …），另有“成员”表"},
		{"jsonl", "  messages.jsonl       完整记录，每行一条 JSON，供程序读取"},
		{"media", "  media/               机器人保存的图片和文件"},
	}
	for _, l := range lines {
		if has(l.format) {
			b.WriteString(l.text + "\n")
		}
	}
	b.WriteString(`  members.csv/.jsonl   成员名单：入群、退群时间和发言数
  manifest.json        清单：每个文件的 SHA-256、每日条数（与数据库核对）、覆盖时段和机器人离线时段
  SHA256SUMS           校验：在本目录运行 sha256sum -c SHA256SUMS

注意：机器人只记录它在线时看到的消息，离线时段（见 manifest.json 的 coverage.gaps）的消息不在档案中。
`)
	if m.Redaction.Enabled {
		b.WriteString("本档案已对手机号、固定电话和身份证号脱敏。\n")
	}
	fmt.Fprintf(&b, `
Group chat archive (%s). Besides the message files listed above: members.csv
and members.jsonl, manifest.json (SHA-256 of every file, per-day counts
reconciled with the bot's database, coverage window and offline gaps) and
SHA256SUMS (run "sha256sum -c SHA256SUMS" here). The bot records only what it
sees while online; see coverage.gaps in manifest.json.
`, strings.Join(m.Formats, ", "))
	return b.Bytes()
}
