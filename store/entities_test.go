package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qunguan/qunguan/bot"
)

func TestGroupsAndUsers(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	g := bot.GroupRecord{
		ID: "g_b", Name: "新名字", NameHistory: []bot.NameChange{{Name: "旧名字", Until: t0}},
		SessionName: "@@abc", FirstSeen: t0, LastSeen: t0.Add(time.Hour), MemberCount: 42,
		BotPresent: true, Frozen: true, Attrs: map[string]string{"fingerprint": "f1"},
	}
	for _, gr := range []bot.GroupRecord{g, {ID: "g_a", Name: "A"}} {
		if err := db.PutGroup(ctx, gr); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Group(ctx, "g_b")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(g, got); diff != "" {
		t.Errorf("group (-want +got):\n%s", diff)
	}
	all, err := db.Groups(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "g_a" || all[1].ID != "g_b" {
		t.Errorf("Groups: %+v, %v", all, err)
	}
	if _, err := db.Group(ctx, "g_none"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("missing group: %v", err)
	}

	u := bot.UserRecord{ID: "u_1", Nick: "阿明", Remark: "运营-阿明", Friend: true, SessionName: "@x",
		Fingerprint: "fp", FirstSeen: t0, LastSeen: t0}
	if err := db.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	gotU, err := db.User(ctx, "u_1")
	if err != nil || !cmp.Equal(u, gotU) {
		t.Errorf("user: %+v, %v", gotU, err)
	}
	users, err := db.Users(ctx)
	if err != nil || len(users) != 1 {
		t.Errorf("Users: %+v, %v", users, err)
	}
	if _, err := db.User(ctx, "u_none"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("missing user: %v", err)
	}
	for name, err := range map[string]error{
		"group without id":  db.PutGroup(ctx, bot.GroupRecord{Name: "x"}),
		"user without id":   db.PutUser(ctx, bot.UserRecord{Nick: "x"}),
		"member without id": db.PutMembers(ctx, []bot.MemberRecord{{Group: "g_a"}}),
		"timer without id":  db.PutTimer(ctx, bot.TimerRecord{Owner: "x"}),
		"task without id":   db.PutTask(ctx, bot.Task{Title: "x"}),
		"admin without id":  db.SetAdmin(ctx, bot.AdminGrant{Group: "g_a"}, true),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestMembersIncludeFormerOnes(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	ms := []bot.MemberRecord{
		{Group: "g_1", User: "u_c", Nick: "C", Present: true, JoinedAt: t0},
		{Group: "g_1", User: "u_a", Nick: "A", Card: "群名片", Fingerprint: "fa", Present: true, FirstSeen: t0},
		{Group: "g_1", User: "u_b", Nick: "B", Present: false, JoinedAt: t0, LeftAt: t0.Add(time.Hour)},
		{Group: "g_2", User: "u_a", Nick: "A", Present: true},
	}
	if err := db.PutMembers(ctx, ms); err != nil {
		t.Fatal(err)
	}
	got, err := db.Members(ctx, "g_1")
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.MemberRecord{ms[1], ms[2], ms[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	m, err := db.Member(ctx, "g_1", "u_a")
	if err != nil || m.DisplayName() != "群名片" {
		t.Errorf("member: %+v, %v", m, err)
	}
	if _, err := db.Member(ctx, "g_2", "u_b"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("missing member: %v", err)
	}
	if got, err := db.Members(ctx, "g_none"); err != nil || len(got) != 0 {
		t.Errorf("members of unknown group: %+v, %v", got, err)
	}
}

func TestAdmins(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	a := bot.AdminGrant{Group: "g_1", User: "u_2", GrantedBy: "u_op (运营)", At: t0}
	b := bot.AdminGrant{Group: "g_1", User: "u_1", GrantedBy: "self", At: t0}
	for _, g := range []bot.AdminGrant{a, b, {Group: "g_2", User: "u_1"}} {
		if err := db.SetAdmin(ctx, g, true); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Admins(ctx, "g_1")
	if diff := cmp.Diff([]bot.AdminGrant{b, a}, got); err != nil || diff != "" {
		t.Errorf("admins: %v (-want +got):\n%s", err, diff)
	}
	if err := db.SetAdmin(ctx, b, false); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAdmin(ctx, bot.AdminGrant{Group: "g_9", User: "u_9"}, false); err != nil {
		t.Errorf("revoking a grant that does not exist: %v", err)
	}
	got, _ = db.Admins(ctx, "g_1")
	if diff := cmp.Diff([]bot.AdminGrant{a}, got); diff != "" {
		t.Errorf("after revoke (-want +got):\n%s", diff)
	}
}

func TestTimers(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	late := bot.TimerRecord{ID: "t_late", Owner: "countdown", Kind: "dissolve", Group: "g_1",
		Due: t0.Add(72 * time.Hour), Payload: []byte(`{"step":"dissolve"}`), Missed: bot.MissedConfirm, Created: t0}
	soon := bot.TimerRecord{ID: "t_soon", Owner: "countdown", Kind: "remind", Group: "g_1",
		Due: t0.Add(time.Hour), Missed: bot.MissedRun, Created: t0, Held: true}
	for _, tr := range []bot.TimerRecord{late, soon} {
		if err := db.PutTimer(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Timers(ctx)
	if diff := cmp.Diff([]bot.TimerRecord{soon, late}, got); err != nil || diff != "" {
		t.Errorf("timers: %v (-want +got):\n%s", err, diff)
	}
	if err := db.DeleteTimer(ctx, "t_soon"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTimer(ctx, "t_soon"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	got, _ = db.Timers(ctx)
	if len(got) != 1 || got[0].ID != "t_late" {
		t.Errorf("after delete: %+v", got)
	}
}

func TestTasksNewestFirst(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	mk := func(id string, created time.Time) bot.Task {
		return bot.Task{ID: id, Owner: "countdown", Kind: "dissolve_group", Ref: "cd_1", Group: "g_1",
			Users: []bot.UserID{"u_1", "u_2"}, Title: "解散群 " + id, Steps: "1. 打开群聊\n2. 解散",
			State: bot.TaskOpen, Watch: bot.WatchGroupGone, Created: created, Updated: created,
			Expires: created.Add(48 * time.Hour)}
	}
	tasks := []bot.Task{mk("k_old", t0), mk("k_new", t0.Add(2*time.Hour)), mk("k_mid", t0.Add(time.Hour))}
	for _, tk := range tasks {
		if err := db.PutTask(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Tasks(ctx)
	if diff := cmp.Diff([]bot.Task{tasks[1], tasks[2], tasks[0]}, got); err != nil || diff != "" {
		t.Errorf("tasks: %v (-want +got):\n%s", err, diff)
	}
	done := tasks[0]
	done.State, done.Note, done.Alerted = bot.TaskVerified, "bot removed", t0.Add(3*time.Hour)
	if err := db.PutTask(ctx, done); err != nil {
		t.Fatal(err)
	}
	gotOne, err := db.Task(ctx, "k_old")
	if err != nil || !cmp.Equal(done, gotOne) {
		t.Errorf("task after update: %+v, %v", gotOne, err)
	}
	if _, err := db.Task(ctx, "k_none"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("missing task: %v", err)
	}
}

func TestSessionsCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	opts := testOptions(t, c)
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := db.Heartbeat(ctx, t0); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("heartbeat with no session: %v", err)
	}

	s1, err := db.OpenSession(ctx, t0)
	if err != nil || s1.ID != 1 {
		t.Fatalf("first session: %+v, %v", s1, err)
	}
	if err := db.Heartbeat(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.CloseSession(ctx, t0.Add(90*time.Minute), "logout"); err != nil {
		t.Fatal(err)
	}
	if err := db.CloseSession(ctx, t0.Add(91*time.Minute), "again"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("closing a closed session: %v", err)
	}

	if _, err := db.OpenSession(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Heartbeat(ctx, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The process dies: no CloseSession.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openTest(t, dir, opts)
	s3, err := db.OpenSession(ctx, t0.Add(5*time.Hour))
	if err != nil || s3.ID != 3 {
		t.Fatalf("third session: %+v, %v", s3, err)
	}
	all, err := db.Sessions(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.Session{
		{ID: 1, Start: t0, End: t0.Add(90 * time.Minute), LastAlive: t0.Add(90 * time.Minute), EndReason: "logout"},
		{ID: 2, Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour), LastAlive: t0.Add(3 * time.Hour), EndReason: "crash"},
		{ID: 3, Start: t0.Add(5 * time.Hour), LastAlive: t0.Add(5 * time.Hour)},
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []uint64
	}{
		{"window inside the first", t0.Add(10 * time.Minute), t0.Add(20 * time.Minute), []uint64{1}},
		{"gap between sessions", t0.Add(3*time.Hour + time.Minute), t0.Add(4 * time.Hour), nil},
		{"end is exclusive of a session that ends at from", t0.Add(90 * time.Minute), t0.Add(2*time.Hour + time.Minute), []uint64{2}},
		{"open session reaches the future", t0.Add(100 * time.Hour), time.Time{}, []uint64{3}},
		{"spanning all", t0.Add(-time.Hour), t0.Add(6 * time.Hour), []uint64{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.Sessions(ctx, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			var ids []uint64
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if !cmp.Equal(tc.want, ids) {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
		})
	}
}
