package wechat_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/wechat/fakewx"
	"github.com/qunguan/qunguan/plugins/export/archive"
)

// mediaFiles lists every file under the data dir's media folder, temporary
// ones included, with their modes.
func mediaFiles(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	out := map[string]fs.FileMode{}
	root := bot.MediaDir(dir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			out[p] = fi.Mode().Perm()
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

func inGroup(g bot.GroupID, text string) func(bot.Event) bool {
	return func(ev bot.Event) bool { return ev.Kind == bot.EventMessage && ev.Group == g && ev.Text() == text }
}

// records returns the group's records in the store, after the writer
// caught up.
func (r *rig) records(g bot.GroupID) []bot.Record {
	r.t.Helper()
	if err := r.db.Sync(r.t.Context()); err != nil {
		r.t.Fatal(err)
	}
	var out []bot.Record
	if err := r.db.ScanRecords(r.t.Context(), g, time.Time{}, time.Time{}, func(rec bot.Record) error {
		out = append(out, rec)
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	return out
}

func recordOf(recs []bot.Record, msgID string) (bot.Record, bool) {
	for _, rec := range recs {
		if rec.MsgID == msgID {
			return rec, true
		}
	}
	return bot.Record{}, false
}

// checkMediaFile checks that path is a 0600 file in a 0700 day folder of
// the group under the media folder, holding exactly want.
func checkMediaFile(t *testing.T, dir string, g bot.GroupID, path string, want []byte) {
	t.Helper()
	rel, err := filepath.Rel(filepath.Join(bot.MediaDir(dir), string(g)), path)
	if err != nil || strings.HasPrefix(rel, "..") || len(strings.Split(rel, string(filepath.Separator))) != 2 {
		t.Errorf("media path %s is not <media>/%s/<day>/<file>", path, g)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("media file: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s holds %d bytes, want the %d served", path, len(got), len(want))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, %v; want 0600", path, fi.Mode(), err)
	}
	for d := filepath.Dir(path); d != dir; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("folder %s mode %v, %v; want 0700", d, fi.Mode(), err)
		}
	}
}

func TestGroupMediaIsDownloaded(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	pic := pngBytes(t)
	pdf := []byte("%PDF-1.4 会议纪要 ...")
	voice := append([]byte("ID3\x03\x00\x00\x00"), bytes.Repeat([]byte{0xff, 0xfb}, 300)...)
	video := append([]byte("\x00\x00\x00\x18ftypmp42"), bytes.Repeat([]byte{7}, 2000)...)

	picID := r.s.SendImage("技术群", "carol", pic)
	// A text right behind the picture waits for its download: a group's
	// events keep their order.
	r.s.SendGroupText("技术群", "carol", "看上面的图")
	fileID := r.s.SendFile("技术群", "alice", "../纪要:v2.pdf", pdf)
	voiceID := r.s.SendVoice("技术群", "bob", voice)
	videoID := r.s.SendVideo("技术群", "alice", video)
	// Neither DMs nor unmanaged groups are downloaded.
	r.s.SendImage("", "eve", pic)

	ev := r.waitEvent("picture", inGroup(tech, "[图片]"))
	if ev.Message.ID != picID || ev.Message.Type != bot.MsgImage || ev.Group != tech {
		t.Fatalf("picture event = %+v %+v", ev, ev.Message)
	}
	if !strings.HasSuffix(ev.Message.MediaPath, picID+"_picture.png") {
		t.Errorf("picture saved as %q, want <msgid>_picture.png", ev.Message.MediaPath)
	}
	checkMediaFile(t, r.dir, tech, ev.Message.MediaPath, pic)
	text := r.waitEvent("text after the picture", isMsg("看上面的图"))

	ev = r.waitEvent("file", isMsg("../纪要:v2.pdf"))
	if ev.Message.ID != fileID || ev.Message.Type != bot.MsgFile || ev.Message.Size != int64(len(pdf)) {
		t.Fatalf("file event = %+v", ev.Message)
	}
	// "../" and ":" cannot survive in a file name.
	if base := filepath.Base(ev.Message.MediaPath); base != fileID+"__纪要_v2.pdf" {
		t.Errorf("file saved as %q, want %s__纪要_v2.pdf", base, fileID)
	}
	checkMediaFile(t, r.dir, tech, ev.Message.MediaPath, pdf)
	filePath := ev.Message.MediaPath

	ev = r.waitEvent("voice", isMsg("[语音]"))
	if ev.Message.ID != voiceID || !strings.HasSuffix(ev.Message.MediaPath, "_voice.mp3") {
		t.Errorf("voice = %+v", ev.Message)
	}
	checkMediaFile(t, r.dir, tech, ev.Message.MediaPath, voice)
	ev = r.waitEvent("video", isMsg("[视频]"))
	if ev.Message.ID != videoID || !strings.HasSuffix(ev.Message.MediaPath, "_video.mp4") {
		t.Errorf("video = %+v", ev.Message)
	}
	checkMediaFile(t, r.dir, tech, ev.Message.MediaPath, video)

	dm := r.waitEvent("DM picture", func(ev bot.Event) bool {
		return ev.Kind == bot.EventMessage && ev.Group == "" && ev.Text() == "[图片]"
	})
	if dm.Message.MediaPath != "" {
		t.Errorf("a DM picture was downloaded to %s", dm.Message.MediaPath)
	}
	if n := len(mediaFiles(t, r.dir)); n != 4 {
		t.Errorf("%d files in the media folder, want 4: %v", n, mediaFiles(t, r.dir))
	}

	// The runtime recorded the paths; the picture came before the text.
	recs := r.records(tech)
	picRec, ok1 := recordOf(recs, picID)
	fileRec, ok2 := recordOf(recs, fileID)
	textRec, ok3 := recordOf(recs, text.Message.ID)
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("records missing: %+v", recs)
	}
	if picRec.MediaPath == "" || fileRec.MediaPath != filePath || fileRec.FileName != "../纪要:v2.pdf" {
		t.Errorf("records: picture %+v, file %+v", picRec, fileRec)
	}
	if picRec.Seq > textRec.Seq {
		t.Errorf("the text (seq %d) was recorded before the picture it follows (seq %d)", textRec.Seq, picRec.Seq)
	}
	// The file came over the file host with the session's data ticket.
	calls := r.s.Calls("webwxgetmedia")
	if len(calls) != 1 || calls[0].Host != "file."+r.s.Domain() || calls[0].Query.Get("webwx_data_ticket") == "" {
		t.Errorf("webwxgetmedia calls = %+v", calls)
	}
	// Paths and names are logged only at debug level.
	for _, line := range strings.Split(r.logs.String(), "\n") {
		if !strings.Contains(line, "level=DEBUG") && (strings.Contains(line, "纪要") || strings.Contains(line, bot.MediaDir(r.dir)+"/")) {
			t.Errorf("a file name or media path logged above debug: %s", line)
		}
	}
}

func TestOversizeMediaIsSkippedAndRecorded(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{config: strings.Replace(baseConfig, "member_refresh: 0s", "member_refresh: 0s, media_max_size: 1KB", 1)})
	tech := r.group("技术群")
	// The file's declared size is over the cap: not even requested.
	big := bytes.Repeat([]byte("x"), 4096)
	fileID := r.s.SendFile("技术群", "alice", "大文件.zip", big)
	// A picture declares no size: it is cut off while streaming.
	picID := r.s.SendImage("技术群", "carol", append(pngBytes(t), big...))
	small := r.s.SendFile("技术群", "alice", "小.txt", []byte("ok"))

	ev := r.waitEvent("big file", isMsg("大文件.zip"))
	if ev.Message.MediaPath != "" || ev.Message.Size != 4096 || ev.Message.ID != fileID {
		t.Errorf("big file = %+v", ev.Message)
	}
	ev = r.waitEvent("big picture", isMsg("[图片]"))
	if ev.Message.MediaPath != "" || ev.Message.ID != picID {
		t.Errorf("big picture = %+v", ev.Message)
	}
	ev = r.waitEvent("small file", isMsg("小.txt"))
	checkMediaFile(t, r.dir, tech, ev.Message.MediaPath, []byte("ok"))
	if n := r.s.Requests("webwxgetmedia"); n != 1 {
		t.Errorf("webwxgetmedia asked %d times, want once (the small file)", n)
	}
	if files := mediaFiles(t, r.dir); len(files) != 1 {
		t.Errorf("media folder holds %v, want only the small file", files)
	}
	recs := r.records(tech)
	for _, id := range []string{fileID, picID, small} {
		rec, ok := recordOf(recs, id)
		if !ok {
			t.Errorf("message %s not recorded", id)
		} else if id != small && rec.MediaPath != "" {
			t.Errorf("record %s names %s", id, rec.MediaPath)
		}
	}
}

func TestFailedDownloadsLeaveNoFileAndNoPath(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	pdf := bytes.Repeat([]byte("%PDF-1.4 "), 500)
	var ids []string
	for i, f := range []fakewx.MediaFailure{fakewx.MediaHTTPError, fakewx.MediaEmpty, fakewx.MediaTruncated} {
		r.s.FailMedia(f)
		name := []string{"a.pdf", "b.pdf", "c.pdf"}[i]
		ids = append(ids, r.s.SendFile("技术群", "alice", name, pdf))
		ev := r.waitEvent(name, isMsg(name))
		if ev.Message.MediaPath != "" {
			t.Errorf("failure %d: MediaPath %s", f, ev.Message.MediaPath)
		}
		ids = append(ids, r.s.SendImage("技术群", "carol", pngBytes(t)))
		ev = r.waitEvent("picture", isMsg("[图片]"))
		if ev.Message.MediaPath != "" {
			t.Errorf("failure %d: picture MediaPath %s", f, ev.Message.MediaPath)
		}
	}
	if files := mediaFiles(t, r.dir); len(files) != 0 {
		t.Errorf("failed downloads left %v", files)
	}
	recs := r.records(tech)
	for _, id := range ids {
		if rec, ok := recordOf(recs, id); !ok || rec.MediaPath != "" {
			t.Errorf("message %s: recorded %v, record %+v", id, ok, rec)
		}
	}
	if n := strings.Count(r.logs.String(), `level=WARN msg="media download failed"`); n != 6 {
		t.Errorf("%d warnings about failed downloads, want 6", n)
	}

	// Working again, the next picture is kept.
	r.s.FailMedia(fakewx.MediaWorks)
	r.s.SendImage("技术群", "carol", pngBytes(t))
	ev := r.waitEvent("picture", isMsg("[图片]"))
	checkMediaFile(t, r.dir, tech, ev.Message.MediaPath, pngBytes(t))
}

// laterClock is the wall clock moved forward by a settable offset, so that
// a test can make what just happened old enough for retention.
type laterClock struct {
	bot.SystemClock
	mu     sync.Mutex
	offset time.Duration
}

func (c *laterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *laterClock) skip(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func TestRetentionDeletesDownloadedMedia(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := &laterClock{}
	cfg := baseConfig + "data_dir: " + dir + "\nstore: {retention: 1d}\n"
	r := start(t, rigOptions{dir: dir, config: cfg, clock: clock})
	tech := r.group("技术群")

	picID := r.s.SendImage("技术群", "carol", pngBytes(t))
	pic := r.waitEvent("picture", inGroup(tech, "[图片]")).Message.MediaPath
	fileID := r.s.SendFile("技术群", "alice", "纪要.pdf", []byte("%PDF-1.4"))
	file := r.waitEvent("file", isMsg("纪要.pdf")).Message.MediaPath
	if pic == "" || file == "" {
		t.Fatalf("not downloaded: %q %q", pic, file)
	}
	// A leftover no record names, in a day folder long past, and a file
	// outside the media folder that a record names: the first goes, the
	// second stays.
	orphan := filepath.Join(bot.MediaDir(dir), string(tech), "2020-01-01", ".download-1")
	if err := os.MkdirAll(filepath.Dir(orphan), 0o700); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(dir, "not-media.txt")
	for _, p := range []string{orphan, outside} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-r.db.AppendRecord(bot.Record{Group: tech, Time: time.Now().Add(-time.Hour), Kind: bot.EventMessage,
		MsgType: bot.MsgFile, MsgID: "elsewhere", FileName: "not-media.txt", MediaPath: outside}); err != nil {
		t.Fatal(err)
	}

	// Within the window only the leftover goes.
	r.rt.ApplyRetention(t.Context())
	if files := mediaFiles(t, dir); len(files) != 2 || files[pic] == 0 || files[file] == 0 {
		t.Fatalf("retention within the window left %v, want the picture and the file", files)
	}

	clock.skip(48 * time.Hour)
	r.rt.ApplyRetention(t.Context())
	if files := mediaFiles(t, dir); len(files) != 0 {
		t.Errorf("after retention the media folder holds %v", files)
	}
	if _, err := os.Stat(filepath.Dir(pic)); !os.IsNotExist(err) {
		t.Errorf("the emptied day folder is still there: %v", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("a file outside the media folder was deleted: %v", err)
	}
	recs := r.records(tech)
	for _, id := range []string{picID, fileID, "elsewhere"} {
		if rec, ok := recordOf(recs, id); !ok || !rec.Purged || rec.MediaPath != "" {
			t.Errorf("record %s after retention: %+v", id, rec)
		}
	}
	audit, err := r.db.AuditEntries(t.Context(), bot.AuditFilter{Group: tech})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range audit {
		if e.Action == "retention.purge" && e.Data["media_files"] == "2" && e.Data["count"] == "3" {
			found = true
		}
	}
	if !found {
		t.Errorf("no retention.purge audit entry with 3 bodies and 2 media files: %+v", audit)
	}
}

// TestExportIncludesDownloadedMedia runs the whole way: a picture and a
// file sent in a real-looking group are downloaded by the adapter, recorded
// by the runtime, and the group's export archive carries them in media/
// with their SHA-256 in the manifest, linked from the HTML page.
func TestExportIncludesDownloadedMedia(t *testing.T) {
	t.Parallel()
	r := start(t, rigOptions{})
	tech := r.group("技术群")
	pic := pngBytes(t)
	pdf := []byte("%PDF-1.4 周报 ...")
	r.s.SendImage("技术群", "carol", pic)
	r.waitEvent("picture", inGroup(tech, "[图片]"))
	r.s.SendFile("技术群", "alice", "周报.pdf", pdf)
	r.waitEvent("file", isMsg("周报.pdf"))
	if err := r.db.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}

	res, err := archive.Write(t.Context(), archive.FromStore(r.db, tech), archive.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if m.Media.Copied != 2 || len(m.Media.Missing) != 0 {
		t.Errorf("media copied %d, missing %+v; want 2 and none", m.Media.Copied, m.Media.Missing)
	}
	html, err := os.ReadFile(filepath.Join(res.Dir, archive.MessagesHTML))
	if err != nil {
		t.Fatal(err)
	}
	for what, data := range map[string][]byte{"picture": pic, "file": pdf} {
		sum := sha256.Sum256(data)
		var entry *archive.FileEntry
		for i, f := range m.Files {
			if strings.HasPrefix(f.Path, archive.MediaDir+"/") && f.SHA256 == hex.EncodeToString(sum[:]) {
				entry = &m.Files[i]
			}
		}
		if entry == nil {
			t.Errorf("no %s in media/ with its SHA-256 in the manifest: %+v", what, m.Files)
			continue
		}
		got, err := os.ReadFile(filepath.Join(res.Dir, filepath.FromSlash(entry.Path)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s in the archive: %v", what, err)
		}
		href := `href="` + archive.MediaDir + "/" + url.PathEscape(path.Base(entry.Path)) + `"`
		if !strings.Contains(string(html), href) {
			t.Errorf("the HTML does not link the %s (%s)", what, href)
		}
	}
	if _, err := archive.Verify(res.Dir); err != nil {
		t.Errorf("verify: %v", err)
	}
}
