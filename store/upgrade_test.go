package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

var generateV1 = flag.Bool("generate-v1", false, "rewrite testdata/v1.db with the schema version 1 writer")

// v1File is the frozen schema version 1 database. It was written once by
// TestGenerateV1 and is never regenerated casually: the point is that it
// is what an old qunguan left on disk.
const v1File = "testdata/v1.db"

// v1Start is when the frozen database's story begins.
var v1Start = time.Date(2025, 11, 3, 7, 40, 0, 0, time.UTC)

// v1Fixture is everything written into testdata/v1.db, so the upgrade
// test can check each piece came through.
type v1Fixture struct {
	groups   []bot.GroupRecord
	users    []bot.UserRecord
	members  []bot.MemberRecord
	records  []bot.Record
	audit    []bot.AuditEntry
	timer    bot.TimerRecord
	task     bot.Task
	admin    bot.AdminGrant
	kvNS     string
	kvKey    string
	kvVal    []byte
	sessions [2]time.Time
}

func newV1Fixture() v1Fixture {
	at := func(d time.Duration) time.Time { return v1Start.Add(d) }
	f := v1Fixture{
		groups: []bot.GroupRecord{
			{ID: "g_book0club1", Name: "周末读书会", NameHistory: []bot.NameChange{{Name: "读书会(临时)", Until: at(-48 * time.Hour)}},
				FirstSeen: at(-72 * time.Hour), LastSeen: at(0), MemberCount: 5, BotPresent: true},
			{ID: "g_hike2025x", Name: "秋季徒步 2025", FirstSeen: at(-24 * time.Hour), LastSeen: at(0), MemberCount: 4,
				BotPresent: true, Attrs: map[string]string{"temporary": "true"}},
			{ID: "g_shop7news", Name: "小店上新通知", FirstSeen: at(-240 * time.Hour), LastSeen: at(0), MemberCount: 3,
				BotPresent: true},
		},
		users: []bot.UserRecord{
			{ID: "u_owner0001", Nick: "林老师", Remark: "运营-林", Friend: true, FirstSeen: at(-240 * time.Hour), LastSeen: at(0)},
			{ID: "u_amy000002", Nick: "Amy", Friend: true, FirstSeen: at(-72 * time.Hour), LastSeen: at(0)},
			{ID: "u_bob000003", Nick: "老王", Fingerprint: "fp-bob", FirstSeen: at(-72 * time.Hour), LastSeen: at(0)},
			{ID: "u_cat000004", Nick: "小猫", Fingerprint: "fp-cat", FirstSeen: at(-24 * time.Hour), LastSeen: at(0)},
			{ID: "u_spam00005", Nick: "加微信领红包", Fingerprint: "fp-spam", FirstSeen: at(2 * time.Hour), LastSeen: at(2 * time.Hour)},
		},
		kvNS: "welcome", kvKey: "template/g_book0club1", kvVal: []byte("欢迎 {name} 加入{group}！"),
	}
	for _, g := range []bot.GroupID{"g_book0club1", "g_hike2025x", "g_shop7news"} {
		for _, u := range []bot.UserID{"u_owner0001", "u_amy000002", "u_bob000003"} {
			f.members = append(f.members, bot.MemberRecord{Group: g, User: u, Nick: string(u), Present: true,
				FirstSeen: at(-24 * time.Hour), JoinedAt: at(-24 * time.Hour)})
		}
	}
	f.members = append(f.members,
		bot.MemberRecord{Group: "g_hike2025x", User: "u_spam00005", Nick: "加微信领红包", Present: false,
			FirstSeen: at(2 * time.Hour), JoinedAt: at(2 * time.Hour), LeftAt: at(2*time.Hour + 5*time.Minute)},
		bot.MemberRecord{Group: "g_book0club1", User: "u_cat000004", Nick: "小猫", Card: "猫猫", Present: true,
			FirstSeen: at(time.Hour), JoinedAt: at(time.Hour)},
	)

	// About fifty records over three groups and several hours: talk,
	// pictures, files, the bot's replies, joins, a spammer's join and
	// leave, a rename.
	texts := []string{"早上好", "今天读到第三章了", "有人一起吗？", "周六见", "👍", "好的收到", "照片发群里了", "路线发一下"}
	speakers := []bot.UserID{"u_owner0001", "u_amy000002", "u_bob000003"}
	groups := []bot.GroupID{"g_book0club1", "g_hike2025x", "g_shop7news"}
	for i := range 42 {
		g := groups[i%3]
		u := speakers[(i/3)%3]
		r := bot.Record{Group: g, Time: at(time.Duration(i) * 11 * time.Minute), Kind: bot.EventMessage,
			Sender: u, SenderName: string(u), MsgID: fmt.Sprintf("v1-%03d", i), MsgType: bot.MsgText, Text: texts[i%len(texts)]}
		switch i % 7 {
		case 3:
			r.MsgType, r.Text, r.FileName, r.Size, r.MediaPath = bot.MsgImage, "[图片]", fmt.Sprintf("IMG_%d.jpg", i), 204800, fmt.Sprintf("media/IMG_%d.jpg", i)
		case 5:
			r.Sender, r.SenderName, r.FromBot, r.Text = bot.SelfID, "群管", true, "欢迎新朋友！请先看群公告。"
		case 6:
			if g == "g_shop7news" {
				r.MsgType, r.Text, r.FileName, r.Size = bot.MsgFile, "新品目录.pdf", "新品目录.pdf", 1<<20
			}
		}
		f.records = append(f.records, r)
	}
	f.records = append(f.records,
		bot.Record{Group: "g_book0club1", Time: at(time.Hour), Kind: bot.EventMemberJoined, Sender: "u_cat000004", SenderName: "小猫"},
		bot.Record{Group: "g_hike2025x", Time: at(2 * time.Hour), Kind: bot.EventMemberJoined, Sender: "u_spam00005", SenderName: "加微信领红包"},
		bot.Record{Group: "g_hike2025x", Time: at(2*time.Hour + time.Minute), Kind: bot.EventMessage, Sender: "u_spam00005",
			SenderName: "加微信领红包", MsgID: "v1-spam", MsgType: bot.MsgText, Text: "加我微信 领红包 vx:abc123"},
		bot.Record{Group: "g_hike2025x", Time: at(2*time.Hour + 5*time.Minute), Kind: bot.EventMemberLeft, Sender: "u_spam00005", SenderName: "加微信领红包"},
		bot.Record{Group: "g_book0club1", Time: at(3 * time.Hour), Kind: bot.EventGroupRenamed, Sender: "u_owner0001", Text: "周末读书会"},
		bot.Record{Group: "g_shop7news", Time: at(4 * time.Hour), Kind: bot.EventMemberJoined, Sender: "u_cat000004", SenderName: "小猫"},
		bot.Record{Group: "g_shop7news", Time: at(5 * time.Hour), Kind: bot.EventMemberLeft, Sender: "u_cat000004", SenderName: "小猫"},
		bot.Record{Group: "g_hike2025x", Time: at(6 * time.Hour), Kind: bot.EventBotAdded},
	)
	f.audit = []bot.AuditEntry{
		{Time: at(-time.Hour), Actor: "system", Action: "config.reload", Detail: "config loaded",
			Data: map[string]string{"sha256": "9f2c1e7a"}},
		{Time: at(2*time.Hour + 2*time.Minute), Group: "g_hike2025x", GroupName: "秋季徒步 2025", Actor: "plugin:moderation",
			Action: "moderation.warn", Detail: "spam keyword matched", Evidence: "加我微信 领红包 vx:abc123",
			Data: map[string]string{"rule": "wechat-id", "user": "u_spam00005"}},
		{Time: at(2*time.Hour + 3*time.Minute), Group: "g_hike2025x", GroupName: "秋季徒步 2025", Actor: "plugin:moderation",
			Action: "moderation.task", Detail: "asked the owner to remove the member", Data: map[string]string{"task": "k_remove_spam"}},
		{Time: at(7 * time.Hour), Group: "g_hike2025x", GroupName: "秋季徒步 2025", Actor: "u_owner0001 (林老师)",
			Action: "countdown.start", Detail: "dissolve in 3 days", Data: map[string]string{"deadline": at(79 * time.Hour).Format(time.RFC3339)}},
	}
	f.timer = bot.TimerRecord{ID: "t_hike_dissolve", Owner: "countdown", Kind: "dissolve", Group: "g_hike2025x",
		Due: at(79 * time.Hour), Payload: []byte(`{"countdown":"cd_1"}`), Missed: bot.MissedConfirm, Created: at(7 * time.Hour)}
	f.task = bot.Task{ID: "k_remove_spam", Owner: "moderation", Kind: "remove_member", Ref: "warn-2", Group: "g_hike2025x",
		Users: []bot.UserID{"u_spam00005"}, Title: "请把「加微信领红包」移出秋季徒步 2025", Steps: "1. 打开群聊\n2. 点右上角…\n3. 删除成员",
		State: bot.TaskVerified, Watch: bot.WatchMembersGone, Created: at(2*time.Hour + 3*time.Minute),
		Updated: at(2*time.Hour + 5*time.Minute), Expires: at(26 * time.Hour), Note: "member left"}
	f.admin = bot.AdminGrant{Group: "g_book0club1", User: "u_amy000002", GrantedBy: "u_owner0001 (林老师)", At: at(-time.Hour)}
	f.sessions = [2]time.Time{at(-2 * time.Hour), at(8 * time.Hour)}
	return f
}

// TestGenerateV1 writes testdata/v1.db with the schema version 1 code path.
// It runs only with -generate-v1; the file it writes is committed.
func TestGenerateV1(t *testing.T) {
	if !*generateV1 {
		t.Skip("run with -generate-v1 to rewrite " + v1File)
	}
	f := newV1Fixture()
	dir := t.TempDir()
	c := &fakeClock{t: v1Start.Add(-72 * time.Hour)}
	opts := testOptions(t, c)
	opts.schemaVersion = 1
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, g := range f.groups {
		if err := db.PutGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range f.users {
		if err := db.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutMembers(ctx, f.members); err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenSession(ctx, f.sessions[0]); err != nil {
		t.Fatal(err)
	}
	appendAll(t, db, f.records...)
	for _, e := range f.audit {
		if _, err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutTimer(ctx, f.timer); err != nil {
		t.Fatal(err)
	}
	if err := db.PutTask(ctx, f.task); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAdmin(ctx, f.admin, true); err != nil {
		t.Fatal(err)
	}
	if err := db.KV(f.kvNS).Put(ctx, f.kvKey, f.kvVal); err != nil {
		t.Fatal(err)
	}
	if err := db.CloseSession(ctx, f.sessions[1], "logout"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	// Compact, so the committed file is small and holds no free pages.
	before, after, err := Compact(dir)
	if err != nil {
		t.Fatal(err)
	}
	copyTestFile(t, filepath.Join(dir, dbFileName), v1File)
	t.Logf("wrote %s (%d bytes, %d before compaction)", v1File, after, before)
}

// rawVersion reads meta/version and whether hours/ exists, with bbolt
// directly, read-only.
func rawVersion(t *testing.T, path string) (uint64, bool) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var v uint64
	var hours bool
	err = bdb.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyVersion))
		hours = tx.Bucket(bucketHours) != nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, hours
}

func TestUpgradeFromFrozenV1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, dbFileName)
	copyTestFile(t, v1File, path)
	if v, hours := rawVersion(t, path); v != 1 || hours {
		t.Fatalf("%s is version %d (hours bucket %v); want a version 1 file", v1File, v, hours)
	}

	c := &fakeClock{t: v1Start.Add(240 * time.Hour)}
	opts := testOptions(t, c)
	db := openTest(t, dir, opts)
	ctx := context.Background()
	f := newV1Fixture()

	if v, _ := rawVersionOf(t, db); v != 2 {
		t.Errorf("version after upgrade %d, want 2", v)
	}
	bs, err := ListBackups(dir)
	if err != nil || len(bs) != 1 || bs[0].Reason != "pre-upgrade-v2" || bs[0].Err != nil {
		t.Fatalf("pre-upgrade backup: %+v, %v", bs, err)
	}
	if v, hours := rawVersion(t, bs[0].Path); v != 1 || hours {
		t.Errorf("pre-upgrade backup is version %d (hours %v), want the untouched version 1 file", v, hours)
	}

	// Records: all there, and the new index agrees with them hour by hour.
	total := 0
	for _, g := range f.groups {
		recs := scanAll(t, db, g.ID)
		total += len(recs)
		want := map[time.Time]*bot.HourCount{}
		var hoursInOrder []time.Time
		for _, r := range recs {
			h := r.Time.Truncate(time.Hour)
			if want[h] == nil {
				want[h] = &bot.HourCount{Hour: h}
				hoursInOrder = append(hoursInOrder, h)
			}
			countRecord(want[h], r.Kind, r.MsgType, r.FromBot)
		}
		var wantList []bot.HourCount
		for _, h := range hoursInOrder {
			wantList = append(wantList, *want[h])
		}
		got, err := db.HourCounts(ctx, g.ID, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantList, got); diff != "" {
			t.Errorf("hour counts of %s (-from records +index):\n%s", g.ID, diff)
		}
	}
	if total != len(f.records) {
		t.Errorf("%d records after upgrade, want %d", total, len(f.records))
	}
	spam := scanAll(t, db, "g_hike2025x")
	if !spamFound(spam) {
		t.Error("the spam message is not among g_hike2025x's records")
	}

	// Everything else the old version stored is readable.
	groups, err := db.Groups(ctx)
	if err != nil || len(groups) != 3 {
		t.Errorf("groups: %d, %v", len(groups), err)
	}
	for _, g := range groups {
		if g.LastHuman.IsZero() {
			t.Errorf("group %s has no LastHuman", g.ID)
		}
	}
	if users, err := db.Users(ctx); err != nil || len(users) != len(f.users) {
		t.Errorf("users: %d, %v", len(users), err)
	}
	members, err := db.Members(ctx, "g_hike2025x")
	if err != nil || len(members) != 4 {
		t.Errorf("members of g_hike2025x: %+v, %v", members, err)
	}
	if m, err := db.Member(ctx, "g_hike2025x", "u_spam00005"); err != nil || m.Present || m.Messages != 1 {
		t.Errorf("former member: %+v, %v", m, err)
	}
	rep, err := db.VerifyAudit(ctx)
	if err != nil || !rep.OK() || rep.Entries != len(f.audit) {
		t.Errorf("audit after upgrade: %+v, %v", rep, err)
	}
	entries, _ := db.AuditEntries(ctx, bot.AuditFilter{Action: "moderation."})
	if len(entries) != 2 || entries[0].Evidence != f.audit[1].Evidence {
		t.Errorf("moderation audit entries: %+v", entries)
	}
	if ts, err := db.Timers(ctx); err != nil || len(ts) != 1 || !cmp.Equal(ts[0], f.timer) {
		t.Errorf("timers: %+v, %v", ts, err)
	}
	if tk, err := db.Task(ctx, f.task.ID); err != nil || !cmp.Equal(tk, f.task) {
		t.Errorf("task: %+v, %v", tk, err)
	}
	if as, err := db.Admins(ctx, f.admin.Group); err != nil || len(as) != 1 || !cmp.Equal(as[0], f.admin) {
		t.Errorf("admins: %+v, %v", as, err)
	}
	if v, err := db.KV(f.kvNS).Get(ctx, f.kvKey); err != nil || !bytes.Equal(v, f.kvVal) {
		t.Errorf("kv: %q, %v", v, err)
	}
	if ss, err := db.Sessions(ctx, time.Time{}, time.Time{}); err != nil || len(ss) != 1 || ss[0].EndReason != "logout" {
		t.Errorf("sessions: %+v, %v", ss, err)
	}

	// From now on the writer keeps the index.
	late := msg("g_hike2025x", "u_amy000002", v1Start.Add(200*time.Hour), "还在吗")
	appendAll(t, db, late)
	hc, err := db.HourCounts(ctx, "g_hike2025x", late.Time, time.Time{})
	if err != nil || len(hc) != 1 || hc[0].Messages != 1 {
		t.Errorf("hour of a new record: %+v, %v", hc, err)
	}
	if a, err := db.AppendAudit(ctx, bot.AuditEntry{Actor: "system", Action: "upgrade.done"}); err != nil || a.Seq != uint64(len(f.audit)+1) {
		t.Errorf("audit append after upgrade: %+v, %v", a, err)
	}

	// A second Open does not upgrade or back up again.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	openTest(t, dir, opts)
	if bs, _ := ListBackups(dir); len(bs) != 1 {
		t.Errorf("%d backups after reopening, want 1", len(bs))
	}
}

func spamFound(rs []bot.Record) bool {
	for _, r := range rs {
		if strings.Contains(r.Text, "领红包") && r.Sender == "u_spam00005" {
			return true
		}
	}
	return false
}

// rawVersionOf reads meta/version through an open DB.
func rawVersionOf(t *testing.T, db *DB) (uint64, error) {
	t.Helper()
	var v uint64
	err := db.view(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyVersion))
		return nil
	})
	return v, err
}

// TestFailedUpgradeChangesNothing breaks one record of a v1 copy so the
// upgrade fails half way; the single transaction must leave the file at
// version 1 without an hours bucket.
func TestFailedUpgradeChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, dbFileName)
	copyTestFile(t, v1File, path)
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords).Bucket([]byte("g_shop7news"))
		k, v := b.Cursor().Last()
		v = bytes.Clone(v)
		v[0] = 77
		return b.Put(bytes.Clone(k), v)
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir, testOptions(t, newClock()))
	if err == nil {
		db.Close()
		t.Fatal("upgrade of a file with a bad record succeeded")
	}
	if !errors.Is(err, errBadRecord) || !strings.Contains(err.Error(), "upgrade to schema 2") {
		t.Errorf("error %v, want the upgrade step and the bad record", err)
	}
	if v, hours := rawVersion(t, path); v != 1 || hours {
		t.Errorf("after a failed upgrade: version %d, hours bucket %v; want 1, none", v, hours)
	}
}

func TestGeneratorWritesVersion1(t *testing.T) {
	// The v1 code path itself: a fresh version 1 database has no index,
	// and its writer does not keep one.
	dir := t.TempDir()
	opts := testOptions(t, newClock())
	opts.schemaVersion = 1
	db := openTest(t, dir, opts)
	appendAll(t, db, msg("g_1", "u_1", t0, "v1"))
	if hc, err := db.HourCounts(context.Background(), "g_1", time.Time{}, time.Time{}); err != nil || len(hc) != 0 {
		t.Errorf("version 1 hour counts: %+v, %v", hc, err)
	}
	if v, err := rawVersionOf(t, db); err != nil || v != 1 {
		t.Errorf("version %d, %v", v, err)
	}
}
