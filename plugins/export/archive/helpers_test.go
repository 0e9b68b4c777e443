package archive

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
)

// memSource is a Source over records held in a slice; its hour counts are
// computed from the records, as the store's are, unless adjustHours
// changes them.
type memSource struct {
	group       bot.GroupRecord
	members     []bot.MemberRecord
	records     []bot.Record
	sessions    []bot.Session
	adjustHours func([]bot.HourCount) []bot.HourCount
	// scanHook runs before each record is passed on; an error stops the scan.
	scanHook func(i int) error
}

func (s *memSource) Group(context.Context) (bot.GroupRecord, error) { return s.group, nil }

func (s *memSource) Members(context.Context) ([]bot.MemberRecord, error) {
	return append([]bot.MemberRecord(nil), s.members...), nil
}

func (s *memSource) Scan(ctx context.Context, from, to time.Time, fn func(bot.Record) error) error {
	for i, r := range s.records {
		if r.Time.Before(from) || (!to.IsZero() && !r.Time.Before(to)) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.scanHook != nil {
			if err := s.scanHook(i); err != nil {
				return err
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *memSource) HourCounts(_ context.Context, from, to time.Time) ([]bot.HourCount, error) {
	byHour := map[time.Time]*bot.HourCount{}
	for _, r := range s.records {
		if r.Time.Before(from) || (!to.IsZero() && !r.Time.Before(to)) {
			continue
		}
		h := r.Time.UTC().Truncate(time.Hour)
		c := byHour[h]
		if c == nil {
			c = &bot.HourCount{Hour: h}
			byHour[h] = c
		}
		switch r.Kind {
		case bot.EventMessage:
			if r.FromBot {
				c.Bot++
			} else {
				c.Messages++
			}
			if r.MsgType == bot.MsgImage || r.MsgType == bot.MsgFile {
				c.Media++
			}
		case bot.EventMemberJoined:
			c.Joins++
		case bot.EventMemberLeft:
			c.Leaves++
		default:
			c.Other++
		}
	}
	out := make([]bot.HourCount, 0, len(byHour))
	for _, c := range byHour {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hour.Before(out[j].Hour) })
	if s.adjustHours != nil {
		out = s.adjustHours(out)
	}
	return out, nil
}

func (s *memSource) Sessions(context.Context, time.Time, time.Time) ([]bot.Session, error) {
	return s.sessions, nil
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// t0 is 2026-03-01 09:00 in Shanghai.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, shanghai)

const testGroup bot.GroupID = "g_test0000001"

// corpus builds a small history exercising every field and format: Chinese,
// emoji, quotes, HTML and CSV specials, formulas, control characters,
// attachments present and missing, service records, bot messages, a purged
// record. mediaDir receives the attachment files.
func corpus(t *testing.T, mediaDir string) *memSource {
	t.Helper()
	png := filepath.Join(mediaDir, "photo 1.png")
	pdf := filepath.Join(mediaDir, "report.pdf")
	if err := os.WriteFile(png, []byte(pngBytes), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pdf, []byte(pdfBytes), 0o600); err != nil {
		t.Fatal(err)
	}
	alice, bob := bot.UserID("u_alice"), bot.UserID("u_bob")
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute).Add(123456789) }
	recs := []bot.Record{
		{Seq: 1, Time: at(0), Kind: bot.EventMemberJoined, Sender: bob, SenderName: "Bob 🐟"},
		{Seq: 2, Time: at(1), Kind: bot.EventMessage, Sender: alice, SenderName: "张三 <admin>", MsgID: "m1", MsgType: bot.MsgText,
			Text: "<script>alert(\"x\")</script> & '单引号' \"双引号\" 😀\n第二行, 有逗号"},
		{Seq: 3, Time: at(2), Kind: bot.EventMessage, Sender: bob, SenderName: "Bob 🐟", MsgID: "m2", MsgType: bot.MsgText,
			Text: "=HYPERLINK(\"http://evil\",\"点我\")"},
		{Seq: 4, Time: at(3), Kind: bot.EventMessage, Sender: bob, SenderName: "Bob 🐟", MsgID: "m3", MsgType: bot.MsgText,
			Text: "ctrl \x00\x01\x1f tab\t cr\r ls\u2028 ps\u2029 end"},
		{Seq: 5, Time: at(4), Kind: bot.EventMessage, Sender: alice, SenderName: "张三 <admin>", MsgID: "m4", MsgType: bot.MsgImage,
			Text: "[图片]", FileName: "photo 1.png", Size: int64(len(pngBytes)), MediaPath: png},
		{Seq: 6, Time: at(5), Kind: bot.EventMessage, Sender: alice, SenderName: "张三 <admin>", MsgID: "m5", MsgType: bot.MsgFile,
			Text: "报告 (终稿).pdf", FileName: "报告 (终稿).pdf", Size: int64(len(pdfBytes)), MediaPath: pdf},
		{Seq: 7, Time: at(6), Kind: bot.EventMessage, Sender: bob, SenderName: "Bob 🐟", MsgID: "m6", MsgType: bot.MsgImage,
			Text: "[图片]", FileName: "gone.jpg", Size: 999, MediaPath: filepath.Join(mediaDir, "gone.jpg")},
		{Seq: 8, Time: at(7), Kind: bot.EventMessage, Sender: bot.SelfID, SenderName: "群管", FromBot: true, MsgID: "m7", MsgType: bot.MsgText,
			Text: "欢迎 Bob 🐟 入群！"},
		{Seq: 9, Time: at(8), Kind: bot.EventMessage, Sender: alice, SenderName: "张三 <admin>", MsgID: "m8", MsgType: bot.MsgText, Purged: true},
		{Seq: 10, Time: at(9), Kind: bot.EventGroupRenamed, Sender: alice, SenderName: "张三 <admin>", Text: "张三 修改群名为“新群名”"},
		{Seq: 11, Time: at(60 * 15), Kind: bot.EventMessage, Sender: alice, SenderName: "张三 <admin>", MsgID: "m9", MsgType: bot.MsgOther,
			Text: "[语音]"},
		{Seq: 12, Time: at(60 * 15), Kind: bot.EventMemberLeft, Sender: bob, SenderName: "Bob 🐟"},
	}
	for i := range recs {
		recs[i].Group = testGroup
	}
	return &memSource{
		group: bot.GroupRecord{ID: testGroup, Name: "测试群 / Test", FirstSeen: t0.Add(-time.Hour), MemberCount: 2, BotPresent: true,
			NameHistory: []bot.NameChange{{Name: "旧群名", Until: at(9)}}},
		members: []bot.MemberRecord{
			{Group: testGroup, User: alice, Nick: "张三 <admin>", Card: "三哥", Present: true, FirstSeen: t0.Add(-time.Hour), JoinedAt: t0.Add(-time.Hour), LastSpoke: at(60 * 15), Messages: 40},
			{Group: testGroup, User: bob, Nick: "Bob 🐟", Present: false, FirstSeen: at(0), JoinedAt: at(0), LeftAt: at(60 * 15), LastSpoke: at(6), Messages: 3},
		},
		records: recs,
		sessions: []bot.Session{
			{ID: 1, Start: t0.Add(-2 * time.Hour), End: t0.Add(5 * time.Hour), LastAlive: t0.Add(5 * time.Hour), EndReason: "network"},
			{ID: 2, Start: t0.Add(7 * time.Hour), LastAlive: t0.Add(20 * time.Hour)},
		},
	}
}

// The attachments of corpus.
const (
	pngBytes = "\x89PNG\r\n\x1a\nfake image bytes"
	pdfBytes = "%PDF-1.4 fake"
)

// exportNow is the export time used with corpus: after its last record.
var exportNow = t0.Add(20 * time.Hour)

func fixedNow() time.Time { return exportNow }

// testOptions are the options most tests start from.
func testOptions(dir string) Options {
	return Options{
		Dir:            dir,
		Location:       shanghai,
		BotVersion:     "v0.1.0-test",
		ConfigSnapshot: []byte("groups:\n  - name: 测试群\n"),
		Now:            fixedNow,
	}
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// faultFS is OSFS with failures injected: after a byte budget, on the
// Nth call of an operation, or for files whose name contains a string.
type faultFS struct {
	OSFS
	mu          sync.Mutex
	budget      int64 // bytes that may be written; < 0 means unlimited
	written     int64
	err         error  // what a failing write returns
	failCreate  string // Create fails for paths containing this
	failRename  string // Rename fails when the new path ends with this
	failSync    string // File.Sync fails for paths containing this
	failSyncDir string // SyncDir fails for paths ending with this
	failRmAll   bool   // RemoveAll fails
}

var errInjected = errors.New("injected failure")

func newFaultFS() *faultFS { return &faultFS{budget: -1, err: errInjected} }

func (f *faultFS) Create(path string) (File, error) {
	if f.failCreate != "" && strings.Contains(path, f.failCreate) {
		return nil, &fs.PathError{Op: "create", Path: path, Err: f.err}
	}
	file, err := f.OSFS.Create(path)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, path: path}, nil
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if f.failRename != "" && strings.HasSuffix(newpath, f.failRename) {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: f.err}
	}
	return f.OSFS.Rename(oldpath, newpath)
}

func (f *faultFS) RemoveAll(path string) error {
	if f.failRmAll {
		return &fs.PathError{Op: "removeall", Path: path, Err: f.err}
	}
	return f.OSFS.RemoveAll(path)
}

func (f *faultFS) SyncDir(path string) error {
	if f.failSyncDir != "" && strings.HasSuffix(path, f.failSyncDir) {
		return &fs.PathError{Op: "sync", Path: path, Err: f.err}
	}
	return f.OSFS.SyncDir(path)
}

// take grants up to n bytes of the budget.
func (f *faultFS) take(n int) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.budget < 0 {
		f.written += int64(n)
		return n, true
	}
	left := f.budget - f.written
	if int64(n) <= left {
		f.written += int64(n)
		return n, true
	}
	f.written += left
	return int(left), false
}

type faultFile struct {
	File
	fs   *faultFS
	path string
}

func (f *faultFile) Write(p []byte) (int, error) {
	n, ok := f.fs.take(len(p))
	if n > 0 {
		if m, err := f.File.Write(p[:n]); err != nil {
			return m, err
		}
	}
	if !ok {
		return n, &fs.PathError{Op: "write", Path: f.path, Err: f.fs.err}
	}
	return n, nil
}

func (f *faultFile) Sync() error {
	if f.fs.failSync != "" && strings.Contains(f.path, f.fs.failSync) {
		return &fs.PathError{Op: "sync", Path: f.path, Err: f.fs.err}
	}
	return f.File.Sync()
}
