package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qunguan/qunguan/bot"
)

func TestRecordsRoundTripEveryField(t *testing.T) {
	db, _ := newTestDB(t)
	at := t0.In(time.FixedZone("CST", 8*3600))
	want := []bot.Record{
		{
			Group: "g_rt", Time: at, Kind: bot.EventMessage, Sender: "u_1", SenderName: "小明 (card)",
			MsgID: "4983748123", MsgType: bot.MsgText, Text: "你好，世界 👋\nsecond line\x00nul",
		},
		{
			Group: "g_rt", Time: at.Add(time.Nanosecond), Kind: bot.EventMessage, Sender: bot.SelfID,
			SenderName: "bot", FromBot: true, MsgID: "m2", MsgType: bot.MsgFile, Text: "[文件] 报告.pdf",
			FileName: "报告.pdf", Size: 1<<40 + 3, MediaPath: "/var/lib/qunguan/media/报告.pdf",
		},
		{
			Group: "g_rt", Time: at.Add(time.Hour), Kind: bot.EventMessage, Sender: "u_2", MsgType: bot.MsgImage,
			Text: "[图片]", Size: -1, Purged: true,
		},
		{Group: "g_rt", Time: at.Add(2 * time.Hour), Kind: bot.EventMemberJoined, Sender: "u_3", SenderName: "新人"},
		{Group: "g_rt", Time: at.Add(2 * time.Hour), Kind: bot.EventMemberLeft, Sender: "u_3"},
		{Group: "g_rt", Time: at.Add(3 * time.Hour), Kind: bot.EventGroupRenamed, Text: strings.Repeat("长", 5000)},
		{Group: "g_rt", Time: at.Add(4 * time.Hour), Kind: bot.EventKind(200), MsgType: bot.MsgType(99)},
	}
	appendAll(t, db, want...)
	got := scanAll(t, db, "g_rt")
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if i > 0 && got[i].Seq <= got[i-1].Seq {
			t.Errorf("record %d: Seq %d not after %d", i, got[i].Seq, got[i-1].Seq)
		}
		if got[i].Time.Location() != time.UTC {
			t.Errorf("record %d: time in %v, want UTC", i, got[i].Time.Location())
		}
		w := want[i]
		w.Seq = got[i].Seq
		w.Time = w.Time.UTC()
		if diff := cmp.Diff(w, got[i]); diff != "" {
			t.Errorf("record %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestScanRecordsRangesAndChunks(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	// 2,500 records in five blocks of 500 sharing one timestamp each, so
	// chunks (1,000 per transaction) end in the middle of equal times and
	// resuming must go by time and Seq.
	var rs []bot.Record
	for i := range 2500 {
		rs = append(rs, msg("g_scan", "u_1", t0.Add(time.Duration(i/500)*time.Minute), fmt.Sprint(i)))
	}
	appendAll(t, db, rs...)
	appendAll(t, db, msg("g_other", "u_1", t0, "elsewhere"))

	all := scanAll(t, db, "g_scan")
	if len(all) != 2500 {
		t.Fatalf("scan returned %d records, want 2500", len(all))
	}
	for i, r := range all {
		if r.Text != fmt.Sprint(i) {
			t.Fatalf("record %d has text %q: out of order or repeated", i, r.Text)
		}
	}

	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"everything", time.Time{}, time.Time{}, 2500},
		{"from is inclusive", t0.Add(2 * time.Minute), time.Time{}, 1500},
		{"to is exclusive", time.Time{}, t0.Add(2 * time.Minute), 1000},
		{"one block", t0.Add(3 * time.Minute), t0.Add(3*time.Minute + 1), 500},
		{"empty window", t0.Add(30 * time.Second), t0.Add(50 * time.Second), 0},
		{"before 1970", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), t0.Add(time.Minute), 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			err := db.ScanRecords(ctx, "g_scan", tc.from, tc.to, func(r bot.Record) error {
				if r.Time.Before(tc.from) || (!tc.to.IsZero() && !r.Time.Before(tc.to)) {
					t.Errorf("record at %v outside [%v, %v)", r.Time, tc.from, tc.to)
				}
				n++
				return nil
			})
			if err != nil || n != tc.want {
				t.Errorf("got %d records, err %v; want %d", n, err, tc.want)
			}
		})
	}

	stop := errors.New("stop")
	n := 0
	err := db.ScanRecords(ctx, "g_scan", time.Time{}, time.Time{}, func(bot.Record) error {
		n++
		if n == 1200 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 1200 {
		t.Errorf("fn error: got %v after %d records, want stop after 1200", err, n)
	}

	if got := scanAll(t, db, "g_missing"); len(got) != 0 {
		t.Errorf("unknown group returned %d records", len(got))
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.ScanRecords(cctx, "g_scan", time.Time{}, time.Time{}, func(bot.Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled scan: %v", err)
	}
}

func TestSyncMakesQueuedRecordsVisible(t *testing.T) {
	c := newClock()
	opts := testOptions(t, c)
	// Nothing but Sync (or a full batch) commits within the test.
	opts.BatchDelay = time.Hour
	opts.BatchSize = 10_000
	db := openTest(t, t.TempDir(), opts)

	var chs []<-chan error
	for i := range 300 {
		chs = append(chs, db.AppendRecord(msg("g_sync", "u_1", t0.Add(time.Duration(i)*time.Second), "x")))
	}
	if err := db.Sync(context.Background()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got := len(scanAll(t, db, "g_sync")); got != 300 {
		t.Errorf("after Sync %d records visible, want 300", got)
	}
	for i, ch := range chs {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("record %d: %v", i, err)
			}
		default:
			t.Fatalf("record %d not answered after Sync", i)
		}
	}
	// Sync with nothing queued returns at once.
	if err := db.Sync(context.Background()); err != nil {
		t.Errorf("empty Sync: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Sync(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Sync with canceled context: %v", err)
	}
}

func TestAppendRecordRejectsBadRecordsAlone(t *testing.T) {
	db, _ := newTestDB(t)
	bad := []bot.Record{
		{Time: t0, Kind: bot.EventMessage, Text: "no group"},
		{Group: "g_bad", Time: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), Kind: bot.EventMessage},
		{Group: "g_bad", Time: t0, Kind: bot.EventMessage, Text: strings.Repeat("x", maxRecordSize)},
	}
	var badChs []<-chan error
	for _, r := range bad {
		badChs = append(badChs, db.AppendRecord(r))
	}
	good := db.AppendRecord(msg("g_bad", "u_1", t0, "fine"))
	for i, ch := range badChs {
		if err := <-ch; !errors.Is(err, ErrInvalid) {
			t.Errorf("bad record %d: %v, want ErrInvalid", i, err)
		}
	}
	if err := <-good; err != nil {
		t.Errorf("good record in the same batch: %v", err)
	}
	if got := len(scanAll(t, db, "g_bad")); got != 1 {
		t.Errorf("%d records stored, want 1", got)
	}
}

func TestZeroTimeMeansNow(t *testing.T) {
	db, c := newTestDB(t)
	c.Advance(time.Hour)
	r := msg("g_now", "u_1", time.Time{}, "when?")
	appendAll(t, db, r)
	got := scanAll(t, db, "g_now")
	if len(got) != 1 || !got[0].Time.Equal(c.Now()) {
		t.Errorf("got %+v, want one record at %v", got, c.Now())
	}
}

func TestAppendDuringAndAfterClose(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, newClock())
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for p := range 4 {
		wg.Go(func() {
			for i := range 200 {
				err := <-db.AppendRecord(msg("g_close", bot.UserID(fmt.Sprint("u_", p)), t0.Add(time.Duration(i)*time.Millisecond), "x"))
				switch {
				case err == nil:
					mu.Lock()
					stored++
					mu.Unlock()
				case errors.Is(err, ErrClosed):
				default:
					t.Errorf("append: %v", err)
				}
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := <-db.AppendRecord(msg("g_close", "u_1", t0, "late")); !errors.Is(err, ErrClosed) {
		t.Errorf("append after Close: %v, want ErrClosed", err)
	}
	if err := db.Sync(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close: %v, want ErrClosed", err)
	}
	if _, err := db.Groups(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close: %v, want ErrClosed", err)
	}

	db = openTest(t, dir, opts)
	if got := len(scanAll(t, db, "g_close")); got != stored {
		t.Errorf("%d records after reopen, but %d were acknowledged", got, stored)
	}
}

func TestCommitFailureIsReportedAndWriterSurvives(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, newClock())
	opts.MaxSize = 1 << 20
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	acked := 0
	var failure error
	text := strings.Repeat("磁盘满了 ", 100)
	for batch := 0; failure == nil && batch < 1000; batch++ {
		var chs []<-chan error
		for i := range 50 {
			chs = append(chs, db.AppendRecord(msg("g_full", "u_1", t0.Add(time.Duration(batch*50+i)*time.Second), text)))
		}
		for _, ch := range chs {
			if err := <-ch; err != nil {
				failure = err
			} else {
				acked++
			}
		}
	}
	if !errors.Is(failure, ErrFull) {
		t.Fatalf("no ErrFull after %d records: %v", acked, failure)
	}
	// The writer is still there: it answers appends and syncs.
	select {
	case err := <-db.AppendRecord(msg("g_full", "u_1", t0.Add(-time.Hour), "small")):
		if err == nil {
			acked++
		} else if !errors.Is(err, ErrFull) {
			t.Errorf("append after failure: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writer did not answer after a failed commit")
	}
	if err := db.Sync(context.Background()); err != nil {
		t.Errorf("Sync after failure: %v", err)
	}
	if got := len(scanAll(t, db, "g_full")); got != acked {
		t.Errorf("%d records stored, %d acknowledged", got, acked)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	opts.MaxSize = 0
	db = openTest(t, dir, opts)
	if got := len(scanAll(t, db, "g_full")); got != acked {
		t.Errorf("after reopen %d records, %d acknowledged", got, acked)
	}
	appendAll(t, db, msg("g_full", "u_1", t0.Add(time.Hour), "room again"))
}

func TestRecorderMaintainsMembersAndGroups(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	if err := db.PutGroup(ctx, bot.GroupRecord{ID: "g_m", Name: "读书会", FirstSeen: t0, BotPresent: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMembers(ctx, []bot.MemberRecord{{Group: "g_m", User: "u_known", Nick: "Known", Present: true, JoinedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	fromBot := msg("g_m", bot.SelfID, t0.Add(10*time.Hour), "bot says")
	fromBot.FromBot = true
	joined := bot.Record{Group: "g_m", Time: t0.Add(11 * time.Hour), Kind: bot.EventMemberJoined, Sender: "u_join"}
	appendAll(t, db,
		msg("g_m", "u_known", t0.Add(time.Hour), "one"),
		msg("g_m", "u_known", t0.Add(3*time.Hour), "two"),
		msg("g_m", "u_known", t0.Add(2*time.Hour), "late arrival"),
		msg("g_m", "u_new", t0.Add(4*time.Hour), "hi"),
		fromBot, joined,
		msg("g_unknown", "u_new", t0.Add(5*time.Hour), "a group the runtime never stored"),
	)
	m, err := db.Member(ctx, "g_m", "u_known")
	if err != nil {
		t.Fatal(err)
	}
	if m.Messages != 3 || !m.LastSpoke.Equal(t0.Add(3*time.Hour)) || m.Nick != "Known" || !m.JoinedAt.Equal(t0) {
		t.Errorf("known member: %+v", m)
	}
	m, err = db.Member(ctx, "g_m", "u_new")
	if err != nil {
		t.Fatal(err)
	}
	if m.Messages != 1 || !m.Present || m.Nick != "name-u_new" || !m.FirstSeen.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("new member: %+v", m)
	}
	for _, u := range []bot.UserID{bot.SelfID, "u_join"} {
		if _, err := db.Member(ctx, "g_m", u); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("member %s from a non-human-message record: %v", u, err)
		}
	}
	g, err := db.Group(ctx, "g_m")
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "读书会" || !g.LastHuman.Equal(t0.Add(4*time.Hour)) || !g.LastSeen.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("group: %+v", g)
	}
	g2, err := db.Group(ctx, "g_unknown")
	if err != nil || !g2.BotPresent || !g2.LastHuman.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("group created by the recorder: %+v, %v", g2, err)
	}

	// A caller that read before the writer's commit does not undo it.
	stale := bot.GroupRecord{ID: "g_m", Name: "读书会 2", LastHuman: t0, LastSeen: t0}
	if err := db.PutGroup(ctx, stale); err != nil {
		t.Fatal(err)
	}
	staleMember := bot.MemberRecord{Group: "g_m", User: "u_known", Nick: "Renamed", Present: false, LastSpoke: t0, Messages: 1}
	if err := db.PutMembers(ctx, []bot.MemberRecord{staleMember}); err != nil {
		t.Fatal(err)
	}
	g, _ = db.Group(ctx, "g_m")
	m, _ = db.Member(ctx, "g_m", "u_known")
	if g.Name != "读书会 2" || !g.LastHuman.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("group after stale put: %+v", g)
	}
	if m.Nick != "Renamed" || m.Present || m.Messages != 3 || !m.LastSpoke.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("member after stale put: %+v", m)
	}
}

func TestHourCounts(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	h0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	image := msg("g_h", "u_1", h0.Add(10*time.Minute), "[图片]")
	image.MsgType = bot.MsgImage
	botFile := msg("g_h", bot.SelfID, h0.Add(20*time.Minute), "[文件]")
	botFile.MsgType, botFile.FromBot = bot.MsgFile, true
	ev := func(k bot.EventKind, at time.Time) bot.Record {
		return bot.Record{Group: "g_h", Time: at, Kind: k, Sender: "u_2"}
	}
	appendAll(t, db,
		msg("g_h", "u_1", h0, "a"),
		msg("g_h", "u_2", h0.Add(59*time.Minute), "b"),
		image, botFile,
		ev(bot.EventMemberJoined, h0.Add(30*time.Minute)),
		ev(bot.EventMemberLeft, h0.Add(2*time.Hour)),
		ev(bot.EventGroupRenamed, h0.Add(2*time.Hour+time.Minute)),
		msg("g_h", "u_1", h0.Add(5*time.Hour), "later"),
		msg("g_other", "u_1", h0, "other group"),
	)
	want := []bot.HourCount{
		{Hour: h0, Messages: 3, Bot: 1, Media: 2, Joins: 1},
		{Hour: h0.Add(2 * time.Hour), Leaves: 1, Other: 1},
		{Hour: h0.Add(5 * time.Hour), Messages: 1},
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []bot.HourCount
	}{
		{"all", time.Time{}, time.Time{}, want},
		{"hour containing from is included", h0.Add(30 * time.Minute), h0.Add(3 * time.Hour), want[:2]},
		{"to is exclusive", h0.Add(2 * time.Hour), h0.Add(5 * time.Hour), want[1:2]},
		{"nothing", h0.Add(6 * time.Hour), time.Time{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.HourCounts(ctx, "g_h", tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPurgeBodies(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	var rs []bot.Record
	for i := range 2500 {
		r := msg("g_p", "u_1", t0.Add(time.Duration(i)*time.Second), fmt.Sprint("secret ", i))
		if i%10 == 0 {
			r.MsgType, r.FileName, r.Size, r.MediaPath = bot.MsgFile, "f.pdf", 1234, fmt.Sprintf("/media/f%d.pdf", i)
		}
		rs = append(rs, r)
	}
	appendAll(t, db, rs...)
	appendAll(t, db, msg("g_keep", "u_1", t0, "other group keeps its text"))
	hoursBefore, err := db.HourCounts(ctx, "g_p", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	cut := t0.Add(2200 * time.Second)
	var blanked []string
	n, err := db.PurgeBodies(ctx, "g_p", cut, func(paths []string) {
		// Called after the chunk is committed: no record names them now.
		named := map[string]bool{}
		for _, r := range scanAll(t, db, "g_p") {
			named[r.MediaPath] = true
		}
		for _, p := range paths {
			if named[p] {
				t.Errorf("media %s reported while a record still names it", p)
			}
		}
		blanked = append(blanked, paths...)
	})
	if err != nil || n != 2200 {
		t.Fatalf("PurgeBodies: %d, %v; want 2200", n, err)
	}
	var want []string
	for i := 0; i < 2200; i += 10 {
		want = append(want, fmt.Sprintf("/media/f%d.pdf", i))
	}
	if diff := cmp.Diff(want, blanked); diff != "" {
		t.Errorf("media paths reported (-want +got):\n%s", diff)
	}
	got := scanAll(t, db, "g_p")
	if len(got) != 2500 {
		t.Fatalf("%d records after purge, want 2500 (skeletons kept)", len(got))
	}
	for i, r := range got {
		old := rs[i]
		if i < 2200 {
			if !r.Purged || r.Text != "" || r.MediaPath != "" {
				t.Fatalf("record %d not purged: %+v", i, r)
			}
			if r.Sender != old.Sender || r.FileName != old.FileName || r.Size != old.Size || r.MsgID != old.MsgID {
				t.Fatalf("record %d lost its skeleton: %+v", i, r)
			}
		} else if r.Purged || r.Text != old.Text || r.MediaPath != old.MediaPath {
			t.Fatalf("record %d after the cut changed: %+v", i, r)
		}
	}
	if n, err := db.PurgeBodies(ctx, "g_p", cut, func([]string) { t.Error("second purge reported media") }); err != nil || n != 0 {
		t.Errorf("second purge: %d, %v; want 0", n, err)
	}
	if got := scanAll(t, db, "g_keep"); len(got) != 1 || got[0].Purged {
		t.Errorf("other group touched: %+v", got)
	}
	hoursAfter, _ := db.HourCounts(ctx, "g_p", time.Time{}, time.Time{})
	if diff := cmp.Diff(hoursBefore, hoursAfter); diff != "" {
		t.Errorf("purge changed hour counts:\n%s", diff)
	}
	if n, err := db.PurgeBodies(ctx, "g_nothing", cut, nil); err != nil || n != 0 {
		t.Errorf("purge of unknown group: %d, %v", n, err)
	}
}
