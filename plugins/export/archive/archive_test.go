package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/plugins/export/archive/internal/encode"
)

func writeCorpus(t *testing.T, mutate func(*Options)) (*memSource, *Result, string) {
	t.Helper()
	src := corpus(t, t.TempDir())
	dir := t.TempDir()
	opts := testOptions(dir)
	if mutate != nil {
		mutate(&opts)
	}
	res, err := Write(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return src, res, dir
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteLayoutAndVerify(t *testing.T) {
	_, res, dir := writeCorpus(t, nil)
	const name = "测试群-Test-g_test0000001-20260301T210000Z" // 05:00 Shanghai
	if res.Name != name {
		t.Errorf("Name = %q, want %q", res.Name, name)
	}
	if got, want := listDir(t, dir), []string{name, name + ".zip"}; !slices.Equal(got, want) {
		t.Errorf("parent holds %q, want %q", got, want)
	}
	wantFiles := []string{
		"README.txt", "SHA256SUMS", "config.yaml", "media/5_photo_1.png", "media/6_报告_终稿_.pdf",
		"members.csv", "members.jsonl", "messages.csv", "messages.html", "messages.jsonl", "messages.xlsx",
	}
	var got []string
	for _, f := range res.Manifest.Files {
		got = append(got, f.Path)
	}
	if !slices.Equal(got, wantFiles) {
		t.Errorf("manifest files\n got %q\nwant %q", got, wantFiles)
	}
	raw := readFile(t, filepath.Join(res.Dir, ManifestFile))
	sum := sha256.Sum256(raw)
	if hex.EncodeToString(sum[:]) != res.ManifestSHA256 {
		t.Error("Result.ManifestSHA256 is not the hash of manifest.json")
	}
	rep, err := Verify(res.Dir)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if rep.ManifestSHA256 != res.ManifestSHA256 || rep.Files != len(wantFiles) || rep.Recounted != MessagesJSONL || rep.Records != 12 {
		t.Errorf("Verify report = %+v", rep)
	}
	zrep, err := VerifyZip(res.Zip)
	if err != nil {
		t.Fatalf("VerifyZip: %v", err)
	}
	if zrep.ManifestSHA256 != res.ManifestSHA256 || zrep.Files != rep.Files || zrep.Bytes != rep.Bytes {
		t.Errorf("VerifyZip report = %+v, folder %+v", zrep, rep)
	}
	// SHA256SUMS checks like `sha256sum -c` would.
	for _, line := range strings.Split(strings.TrimSpace(string(readFile(t, filepath.Join(res.Dir, SumsFile)))), "\n") {
		want, rel, _ := strings.Cut(line, "  ")
		sum := sha256.Sum256(readFile(t, filepath.Join(res.Dir, rel)))
		if hex.EncodeToString(sum[:]) != want {
			t.Errorf("SHA256SUMS: %s does not match", rel)
		}
	}
	if fi, err := os.Stat(res.Dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("archive folder mode = %v, %v; want 0700", fi.Mode(), err)
	}
}

func TestManifestContents(t *testing.T) {
	_, res, _ := writeCorpus(t, nil)
	m := res.Manifest
	if m.Format != FormatVersion || m.BotVersion != "v0.1.0-test" || m.Timezone != "Asia/Shanghai" || !m.Created.Equal(exportNow) {
		t.Errorf("header = format %d, version %q, tz %q, created %v", m.Format, m.BotVersion, m.Timezone, m.Created)
	}
	if m.Group.ID != testGroup || m.Group.Name != "测试群 / Test" || len(m.Group.NameHistory) != 1 {
		t.Errorf("group = %+v", m.Group)
	}
	cfg := sha256.Sum256([]byte("groups:\n  - name: 测试群\n"))
	if m.ConfigSHA256 != hex.EncodeToString(cfg[:]) {
		t.Errorf("config hash = %s", m.ConfigSHA256)
	}
	want := Tally{Records: 12, Messages: 8, Bot: 1, Media: 3, Joins: 1, Leaves: 1, Other: 1}
	if m.Counts.Written != want || m.Counts.Expected != want || !m.Counts.Reconciled || !res.Reconciled {
		t.Errorf("counts = %+v, want %+v reconciled", m.Counts, want)
	}
	// 09:00 and 00:00 next day, Shanghai: two days.
	if len(m.Days) != 2 || m.Days[0].Day != "2026-03-01" || m.Days[0].Written.Records != 10 ||
		m.Days[1].Day != "2026-03-02" || m.Days[1].Written.Records != 2 || !m.Days[0].Reconciled || !m.Days[1].Reconciled {
		t.Errorf("days = %+v", m.Days)
	}
	c := m.Coverage
	// exportNow is on the hour: the scan covers that whole hour, so records
	// of the creation instant are in.
	if !c.WindowStart.Equal(t0.Add(-time.Hour)) || !c.WindowEnd.Equal(exportNow) ||
		!c.FirstRecord.Equal(t0.Add(123456789)) || !c.ScanTo.Equal(exportNow.Add(time.Hour)) || !c.ScanFrom.IsZero() {
		t.Errorf("coverage = %+v", c)
	}
	wantGaps := []Gap{{From: t0.Add(5 * time.Hour), To: t0.Add(7 * time.Hour), Seconds: 7200}}
	if diff := cmp.Diff(wantGaps, c.Gaps); diff != "" || c.OfflineSeconds != 7200 {
		t.Errorf("gaps (-want +got):\n%s", diff)
	}
	if m.Media.Copied != 2 || m.Media.Bytes != int64(len(pngBytes)+len(pdfBytes)) || len(m.Media.Missing) != 1 ||
		m.Media.Missing[0].Seq != 7 || m.Media.Missing[0].Reason != "not found" {
		t.Errorf("media = %+v", m.Media)
	}
	if m.Members.Total != 2 || m.Members.Present != 1 {
		t.Errorf("members = %+v", m.Members)
	}
	if m.XLSX == nil || len(m.XLSX.Files) != 1 || m.XLSX.Files[0].Path != MessagesXLSX ||
		!slices.Equal(m.XLSX.Files[0].Sheets, []string{"消息1", "成员"}) || m.HTML == nil || m.HTML.Pages != 1 {
		t.Errorf("xlsx %+v html %+v", m.XLSX, m.HTML)
	}
	if !slices.Equal(m.Formats, []string{"jsonl", "csv", "xlsx", "html", "media"}) || m.Redaction.Enabled {
		t.Errorf("formats %q redaction %+v", m.Formats, m.Redaction)
	}
	raw := string(readFile(t, filepath.Join(res.Dir, ManifestFile)))
	if strings.Contains(raw, "+08:00") || !strings.Contains(raw, `"window_start": "2026-03-01T00:00:00Z"`) {
		t.Error("manifest instants are not all in UTC")
	}
}

// TestArchiveGoesByTheGivenName: a group renamed with a freeze prefix is
// archived under the name it had; the manifest keeps the current one.
func TestArchiveGoesByTheGivenName(t *testing.T) {
	_, res, _ := writeCorpus(t, func(o *Options) { o.GroupName = "课程一群" })
	if !strings.HasPrefix(filepath.Base(res.Dir), "课程一群-") {
		t.Errorf("archive folder %s does not carry the given name", res.Dir)
	}
	if g := res.Manifest.Group; g.Name != "课程一群" || g.CurrentName != "测试群 / Test" {
		t.Errorf("manifest group = %+v", g)
	}
	if html := string(readFile(t, filepath.Join(res.Dir, MessagesHTML))); !strings.Contains(html, "<title>课程一群") {
		t.Error("chat page title does not carry the given name")
	}
	_, res, _ = writeCorpus(t, nil)
	if res.Manifest.Group.CurrentName != "" {
		t.Errorf("current_name set without a given name: %+v", res.Manifest.Group)
	}
}

func TestJSONLRoundTripsEveryField(t *testing.T) {
	src, res, _ := writeCorpus(t, nil)
	f, err := os.Open(filepath.Join(res.Dir, MessagesJSONL))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Message
	if err := ReadMessages(f, func(m Message) error { got = append(got, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(src.records) {
		t.Fatalf("read %d records, want %d", len(got), len(src.records))
	}
	for i, want := range src.records {
		if diff := cmp.Diff(want, got[i].Record); diff != "" {
			t.Errorf("record %d (-want +got):\n%s", want.Seq, diff)
		}
	}
	if got[4].ArchivePath != "media/5_photo_1.png" || got[4].Missing || got[6].ArchivePath != "" || !got[6].Missing {
		t.Errorf("media paths: %+v / %+v", got[4], got[6])
	}
	// Every line is plain JSON that encoding/json accepts too.
	for i, line := range bytes.Split(bytes.TrimSuffix(readFile(t, filepath.Join(res.Dir, MessagesJSONL)), []byte("\n")), []byte("\n")) {
		if !json.Valid(line) {
			t.Errorf("line %d is not valid JSON: %s", i+1, line)
		}
	}
}

func TestCSVHasBOMHeaderAndGuard(t *testing.T) {
	src, res, _ := writeCorpus(t, nil)
	raw := readFile(t, filepath.Join(res.Dir, MessagesCSV))
	const header = "\ufeff序号,时间,时间戳,类型,发送者,发送者ID,机器人,内容,文件名,大小(字节),媒体文件,消息ID,已清除\r\n"
	if !bytes.HasPrefix(raw, []byte(header)) {
		t.Fatalf("CSV starts %q, want %q", raw[:min(len(raw), len(header)+20)], header)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw[len(encode.BOM):])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(src.records)+1 {
		t.Fatalf("%d rows, want %d", len(rows), len(src.records)+1)
	}
	first := rows[2] // seq 2
	wantFirst := []string{"2", "2026-03-01 09:01:00", "1772326860", "文本", "张三 <admin>", "u_alice", "",
		"<script>alert(\"x\")</script> & '单引号' \"双引号\" 😀\n第二行, 有逗号", "", "", "", "m1", ""}
	if diff := cmp.Diff(wantFirst, first); diff != "" {
		t.Errorf("row 2 (-want +got):\n%s", diff)
	}
	if got := rows[3][7]; got != "'=HYPERLINK(\"http://evil\",\"点我\")" {
		t.Errorf("formula cell = %q, want a leading apostrophe", got)
	}
	if rows[5][10] != "media/5_photo_1.png" || rows[7][10] != encode.MissingMediaLabel || rows[8][6] != encode.Yes || rows[9][12] != encode.Yes {
		t.Errorf("media/bot/purged cells: %q %q %q %q", rows[5][10], rows[7][10], rows[8][6], rows[9][12])
	}
	members := readFile(t, filepath.Join(res.Dir, MembersCSV))
	const mheader = "\ufeff用户ID,昵称,群昵称,显示名,在群,首次出现,入群时间,退群时间,最后发言,累计消息数,本档案消息数\r\n"
	if !bytes.HasPrefix(members, []byte(mheader)) {
		t.Errorf("members.csv starts %q", members[:min(len(members), 80)])
	}
	mrows, err := csv.NewReader(bytes.NewReader(members[len(encode.BOM):])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantAlice := []string{"u_alice", "张三 <admin>", "三哥", "三哥", "是", "2026-03-01 08:00:00", "2026-03-01 08:00:00", "", "2026-03-02 00:00:00", "40", "5"}
	if len(mrows) != 3 || !slices.Equal(mrows[1], wantAlice) || mrows[2][4] != "否" || mrows[2][10] != "3" {
		t.Errorf("members rows = %q", mrows)
	}
}

func TestXLSXContents(t *testing.T) {
	src, res, _ := writeCorpus(t, nil)
	f, err := excelize.OpenFile(filepath.Join(res.Dir, MessagesXLSX))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"消息1", "成员"}) {
		t.Errorf("sheets = %q", got)
	}
	rows, err := f.GetRows("消息1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(src.records)+1 || !slices.Equal(rows[0], encode.MessageColumns) {
		t.Fatalf("%d rows, header %q", len(rows), rows[0])
	}
	if rows[2][7] != src.records[1].Text {
		t.Errorf("text cell = %q, want %q", rows[2][7], src.records[1].Text)
	}
	// Inline strings are never formulas, so no apostrophe here.
	if rows[3][7] != src.records[2].Text {
		t.Errorf("formula-like cell = %q", rows[3][7])
	}
	mrows, err := f.GetRows("成员")
	if err != nil {
		t.Fatal(err)
	}
	if len(mrows) != 3 || mrows[1][0] != "u_alice" || mrows[1][10] != "5" {
		t.Errorf("member sheet = %q", mrows)
	}
}

func TestHTMLReadsLikeChatAndEscapes(t *testing.T) {
	_, res, _ := writeCorpus(t, nil)
	page := string(readFile(t, filepath.Join(res.Dir, MessagesHTML)))
	for _, want := range []string{
		`<html lang="zh-CN">`, `<meta charset="utf-8">`,
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;单引号&#39;`,
		`<span class="from">张三 &lt;admin&gt;</span>`,
		`<a href="media/5_photo_1.png"><img src="media/5_photo_1.png" alt="photo 1.png" loading="lazy"></a>`,
		`<a class="file" href="media/6_%E6%8A%A5%E5%91%8A_%E7%BB%88%E7%A8%BF_.pdf">📎 报告 (终稿).pdf</a>`,
		`gone.jpg（文件缺失，未能存入档案）`,
		`<div class="msg bot" id="m8">`,
		`Bob 🐟 加入了群聊`, `张三 修改群名为“新群名”`, `（内容已按保留期限清除）`,
		`<div class="day">2026-03-02 星期一</div>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", `src="http`, `href="http`, `src="//`, `href="//`, "<link", "@import", "url(", "\x00"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: not self-contained or not escaped", bad)
		}
	}
}

func TestHTMLPagination(t *testing.T) {
	src := &memSource{group: bot.GroupRecord{ID: testGroup, Name: "分页"}}
	for i := range 25 {
		src.records = append(src.records, bot.Record{Group: testGroup, Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Minute),
			Kind: bot.EventMessage, Sender: "u_a", SenderName: "A", MsgType: bot.MsgText, Text: "第" + string(rune('a'+i)) + "条"})
	}
	opts := testOptions(t.TempDir())
	opts.Formats = JSONL | HTML
	opts.htmlPageSize = 10
	res, err := Write(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.HTML.Pages != 3 {
		t.Fatalf("pages = %d, want 3", res.Manifest.HTML.Pages)
	}
	p1 := string(readFile(t, filepath.Join(res.Dir, "messages.html")))
	p2 := string(readFile(t, filepath.Join(res.Dir, "messages2.html")))
	p3 := string(readFile(t, filepath.Join(res.Dir, "messages3.html")))
	if strings.Contains(p1, "上一页") || !strings.Contains(p1, `<a href="messages2.html">下一页 →</a>`) {
		t.Error("page 1 navigation wrong")
	}
	if !strings.Contains(p2, `<a href="messages.html">← 上一页</a>`) || !strings.Contains(p2, `<a href="messages3.html">下一页 →</a>`) {
		t.Error("page 2 navigation wrong")
	}
	if !strings.Contains(p3, `<a href="messages2.html">← 上一页</a>`) || strings.Contains(p3, "下一页") {
		t.Error("page 3 navigation wrong")
	}
	if n := strings.Count(p1, `class="msg"`) + strings.Count(p2, `class="msg"`) + strings.Count(p3, `class="msg"`); n != 25 {
		t.Errorf("%d messages over the pages, want 25", n)
	}
	if strings.Count(p3, `class="msg"`) != 5 {
		t.Error("last page should hold the last 5")
	}
}

func TestEmptyHistoryStillMakesAnArchive(t *testing.T) {
	src := &memSource{group: bot.GroupRecord{ID: testGroup, Name: "空群"}}
	res, err := Write(context.Background(), src, testOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Counts.Written.Records != 0 || !res.Reconciled {
		t.Errorf("counts = %+v", res.Manifest.Counts)
	}
	if !strings.Contains(string(readFile(t, filepath.Join(res.Dir, MessagesHTML))), "（没有记录）") {
		t.Error("empty page does not say so")
	}
	f, err := excelize.OpenFile(filepath.Join(res.Dir, MessagesXLSX))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"消息1", "成员"}) {
		t.Errorf("sheets = %q", got)
	}
	if _, err := Verify(res.Dir); err != nil {
		t.Error(err)
	}
}

func TestXLSXSplitsSheetsAndTruncatesCells(t *testing.T) {
	if encode.MaxSheetRows != 1048576 || excelize.TotalRows != 1048576 {
		t.Fatalf("sheet row limit = %d / %d, want 1048576", encode.MaxSheetRows, excelize.TotalRows)
	}
	if encode.MaxCellChars != 32767 {
		t.Fatalf("cell limit = %d, want 32767", encode.MaxCellChars)
	}
	long := strings.Repeat("长", 40000)
	src := &memSource{group: bot.GroupRecord{ID: testGroup, Name: "分表"}}
	for i := range 10 {
		text := "消息" + string(rune('0'+i))
		if i == 4 {
			text = long
		}
		src.records = append(src.records, bot.Record{Group: testGroup, Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Second),
			Kind: bot.EventMessage, Sender: "u_a", SenderName: "A", MsgType: bot.MsgText, Text: text})
	}
	opts := testOptions(t.TempDir())
	opts.Formats = JSONL | XLSX
	opts.xlsxRowLimit = 4 // a header and three rows per sheet
	res, err := Write(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Three message sheets fill a workbook; the fourth starts messages2.xlsx,
	// which also takes the member sheet.
	wantFiles := []XLSXFile{
		{Path: "messages.xlsx", Sheets: []string{"消息1", "消息2", "消息3"}},
		{Path: "messages2.xlsx", Sheets: []string{"消息4", "成员"}},
	}
	if diff := cmp.Diff(wantFiles, res.Manifest.XLSX.Files); diff != "" || res.Manifest.XLSX.TruncatedCells != 1 {
		t.Fatalf("xlsx files (-want +got):\n%s\ntruncated %d", diff, res.Manifest.XLSX.TruncatedCells)
	}
	var seqs []string
	for _, wb := range wantFiles {
		f, err := excelize.OpenFile(filepath.Join(res.Dir, wb.Path))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.GetSheetList(); !slices.Equal(got, wb.Sheets) {
			t.Errorf("%s has sheets %q", wb.Path, got)
		}
		for _, sheet := range wb.Sheets {
			if sheet == memberSheet {
				continue
			}
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if rows[0][0] != "序号" {
				t.Errorf("%s has no header", sheet)
			}
			for _, r := range rows[1:] {
				seqs = append(seqs, r[0])
			}
		}
		f.Close()
	}
	if !slices.Equal(seqs, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}) {
		t.Errorf("rows over sheets = %q", seqs)
	}
	f, err := excelize.OpenFile(filepath.Join(res.Dir, MessagesXLSX))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cell, err := f.GetCellValue("消息2", "H3") // seq 5
	if err != nil {
		t.Fatal(err)
	}
	// The marker takes 13 units, so 32,754 of the 40,000 characters stay.
	if !strings.HasSuffix(cell, "…[已截断 7246 字]") || !strings.HasPrefix(cell, strings.Repeat("长", 32754)) {
		t.Errorf("truncated cell ends %q, %d units", cell[len(cell)-40:], utf16Len(cell))
	}
	if utf16Len(cell) != 32767 {
		t.Errorf("truncated cell is %d units, want exactly the limit", utf16Len(cell))
	}
	// JSONL keeps the whole text.
	var got string
	fj, _ := os.Open(filepath.Join(res.Dir, MessagesJSONL))
	defer fj.Close()
	_ = ReadMessages(fj, func(m Message) error {
		if m.Seq == 5 {
			got = m.Text
		}
		return nil
	})
	if got != long {
		t.Errorf("JSONL text is %d runes, want %d", len([]rune(got)), 40000)
	}
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func TestReconciliationFlagsMismatch(t *testing.T) {
	src := corpus(t, t.TempDir())
	src.adjustHours = func(hs []bot.HourCount) []bot.HourCount {
		hs[len(hs)-1].Messages++ // the store claims one more message on 03-02
		return hs
	}
	res, err := Write(context.Background(), src, testOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Reconciled || res.Manifest.Counts.Reconciled {
		t.Error("a mismatch was reported reconciled")
	}
	days := res.Manifest.Days
	if !days[0].Reconciled || days[1].Reconciled || days[1].Expected.Messages != days[1].Written.Messages+1 {
		t.Errorf("days = %+v", days)
	}
	if _, err := Verify(res.Dir); err != nil {
		t.Errorf("the archive itself is sound: %v", err)
	}
}

func TestSourceChangedDuringExport(t *testing.T) {
	src := corpus(t, t.TempDir())
	calls := 0
	src.adjustHours = func(hs []bot.HourCount) []bot.HourCount {
		calls++
		if calls == 2 {
			hs[0].Messages++ // a record arrived between the two reads
		}
		return hs
	}
	res, err := Write(context.Background(), src, testOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Reconciled || !res.Manifest.Counts.SourceChanged {
		t.Errorf("counts = %+v", res.Manifest.Counts)
	}
}

func TestFromToSelectsWholeHours(t *testing.T) {
	src := corpus(t, t.TempDir())
	opts := testOptions(t.TempDir())
	opts.From = t0.Add(30 * time.Second) // widened to 09:00
	opts.To = t0.Add(2 * time.Hour)
	res, err := Write(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Manifest.Coverage
	if !c.ScanFrom.Equal(t0) || !c.ScanTo.Equal(t0.Add(2*time.Hour)) || !c.RequestedFrom.Equal(opts.From) {
		t.Errorf("coverage = %+v", c)
	}
	if res.Manifest.Counts.Written.Records != 10 || !res.Reconciled {
		t.Errorf("counts = %+v", res.Manifest.Counts)
	}
	if len(c.Gaps) != 0 {
		t.Errorf("gaps = %+v, want none inside 09:00-11:00", c.Gaps)
	}
}

func TestZipIsDeterministic(t *testing.T) {
	src := corpus(t, t.TempDir())
	var sums []string
	for range 2 {
		res, err := Write(context.Background(), src, testOptions(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(readFile(t, res.Zip))
		sums = append(sums, hex.EncodeToString(sum[:]))
	}
	if sums[0] != sums[1] {
		t.Error("two exports of the same history at the same time differ")
	}
	_, res, _ := writeCorpus(t, nil)
	zr, err := zip.OpenReader(res.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, strings.TrimPrefix(f.Name, res.Name+"/"))
		if f.Name == res.Name+"/messages.xlsx" && f.Method != zip.Store {
			t.Error("xlsx is deflated twice")
		}
	}
	if names[0] != ManifestFile || !slices.IsSorted(names[1:]) {
		t.Errorf("zip order = %q", names)
	}
}

func TestProgressAndFormats(t *testing.T) {
	src := corpus(t, t.TempDir())
	var calls [][2]int
	opts := testOptions(t.TempDir())
	opts.Formats = CSV
	opts.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
	res, err := Write(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != [2]int{12, 12} {
		t.Errorf("progress calls = %v", calls)
	}
	for _, f := range res.Manifest.Files {
		if strings.HasPrefix(f.Path, "messages.") && f.Path != MessagesCSV || strings.HasPrefix(f.Path, "media/") {
			t.Errorf("unrequested file %s", f.Path)
		}
	}
	rep, err := Verify(res.Dir)
	if err != nil || rep.Recounted != MessagesCSV || rep.Records != 12 {
		t.Errorf("Verify = %+v, %v; want a CSV recount", rep, err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	src := corpus(t, t.TempDir())
	for name, mutate := range map[string]func(*Options){
		"no dir":        func(o *Options) { o.Dir = "" },
		"missing dir":   func(o *Options) { o.Dir = filepath.Join(o.Dir, "nope") },
		"local zone":    func(o *Options) { o.Location = time.Local },
		"fixed zone":    func(o *Options) { o.Location = time.FixedZone("X", 3600) },
		"bad recipient": func(o *Options) { o.Recipients = []string{"age1notakey"} },
		"from after to": func(o *Options) { o.From, o.To = t0, t0.Add(-time.Hour) },
		"bad format":    func(o *Options) { o.Formats = 0x80 },
	} {
		t.Run(name, func(t *testing.T) {
			opts := testOptions(t.TempDir())
			mutate(&opts)
			if _, err := Write(context.Background(), src, opts); err == nil {
				t.Error("Write accepted bad options")
			}
		})
	}
	dir := t.TempDir()
	if _, err := Write(context.Background(), src, testOptions(dir)); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(context.Background(), src, testOptions(dir)); err == nil || !strings.Contains(err.Error(), ErrExists.Error()) {
		t.Errorf("second export with the same name: %v", err)
	}
}

func TestParseFormats(t *testing.T) {
	f, err := ParseFormats("jsonl, CSV,xlsx")
	if err != nil || f != JSONL|CSV|XLSX || f.String() != "jsonl,csv,xlsx" {
		t.Errorf("ParseFormats = %v, %v", f, err)
	}
	if f, err := ParseFormats("all"); err != nil || f != AllFormats {
		t.Errorf("all = %v, %v", f, err)
	}
	if _, err := ParseFormats("pdf"); err == nil {
		t.Error("pdf accepted")
	}
}

func TestMediaNames(t *testing.T) {
	for _, c := range []struct {
		seq       uint64
		name, ext string
		want      string
	}{
		{1, "photo.JPG", ".jpg", "1_photo.jpg"},
		{2, "../../etc/passwd", "", "2_.._.._etc_passwd"},
		{3, "报告 (终稿).pdf", ".pdf", "3_报告_终稿_.pdf"},
		{4, "no extension", ".png", "4_no_extension.png"},
		{5, ".hidden", "", "5_.hidden"},
		{6, strings.Repeat("长", 100) + ".txt", "", "6_" + strings.Repeat("长", 38) + ".txt"},
		{7, "a<b>:c|d?.exe\x00", "", "7_a_b_c_d_"},
	} {
		if got := mediaName(c.seq, c.name, c.ext); got != c.want {
			t.Errorf("mediaName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSlug(t *testing.T) {
	if got := archiveName("g_x", "周末 活动群!!🎉", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); got != "周末-活动群-g_x-20260102T030405Z" {
		t.Errorf("archiveName = %q", got)
	}
	if got := archiveName("g_x", "🎉🎉", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); got != "g_x-20260102T030405Z" {
		t.Errorf("archiveName of a symbol-only name = %q", got)
	}
}
