package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

func TestAuditChainVerifies(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	// More than one read chunk, so verification resumes across
	// transactions.
	const n = scanChunk + 50
	var last bot.AuditEntry
	for i := range n {
		c.Advance(time.Second)
		e, err := db.AppendAudit(ctx, bot.AuditEntry{
			Group: "g_a", GroupName: "群", Actor: "plugin:moderation", Action: "moderation.warn",
			Detail: fmt.Sprintf("warned %d", i), Evidence: "加我微信 领红包",
			Data: map[string]string{"rule": "spam", "count": fmt.Sprint(i)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i+1) || e.PrevHash != last.Hash || len(e.Hash) != 64 {
			t.Fatalf("entry %d: seq %d prev %q hash %q (previous hash %q)", i, e.Seq, e.PrevHash, e.Hash, last.Hash)
		}
		if !e.Time.Equal(c.Now()) || e.Time.Location() != time.UTC {
			t.Fatalf("entry %d: time %v, want the clock's %v in UTC", i, e.Time, c.Now())
		}
		last = e
	}
	rep, err := db.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Entries != n || rep.Head != last.Hash {
		t.Errorf("report %+v, want OK with %d entries and head %s", rep, n, last.Hash)
	}
}

func TestAuditHashCoversEveryField(t *testing.T) {
	base := bot.AuditEntry{
		Seq: 7, Time: t0, Group: "g_1", GroupName: "n", Actor: "a", Action: "x.y", Detail: "d",
		Evidence: "e", Data: map[string]string{"k": "v", "k2": "v2"}, PrevHash: "p",
	}
	h := auditHash(&base)
	same := base
	same.Time = t0.In(time.FixedZone("CST", 8*3600))
	same.Hash = "ignored"
	same.Data = map[string]string{"k2": "v2", "k": "v"}
	if auditHash(&same) != h {
		t.Error("hash depends on the time zone, on Hash or on map order")
	}
	for name, change := range map[string]func(e *bot.AuditEntry){
		"Seq":       func(e *bot.AuditEntry) { e.Seq++ },
		"Time":      func(e *bot.AuditEntry) { e.Time = e.Time.Add(time.Nanosecond) },
		"Group":     func(e *bot.AuditEntry) { e.Group = "g_2" },
		"GroupName": func(e *bot.AuditEntry) { e.GroupName = "m" },
		"Actor":     func(e *bot.AuditEntry) { e.Actor = "b" },
		"Action":    func(e *bot.AuditEntry) { e.Action = "x.z" },
		"Detail":    func(e *bot.AuditEntry) { e.Detail = "D" },
		"Evidence":  func(e *bot.AuditEntry) { e.Evidence = "" },
		"Data key":  func(e *bot.AuditEntry) { e.Data = map[string]string{"k": "v", "k3": "v2"} },
		"Data val":  func(e *bot.AuditEntry) { e.Data = map[string]string{"k": "v", "k2": "v3"} },
		"Data len":  func(e *bot.AuditEntry) { e.Data = map[string]string{"k": "v"} },
		"PrevHash":  func(e *bot.AuditEntry) { e.PrevHash = "q" },
		// Length prefixes: moving a byte between fields changes the hash.
		"boundary": func(e *bot.AuditEntry) { e.Actor, e.Action = "ax", ".y" },
	} {
		e := base
		change(&e)
		if auditHash(&e) == h {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
}

// tamper closes db, applies fn to the raw audit bucket, and reopens.
func tamper(t *testing.T, db *DB, opts Options, fn func(b *bolt.Bucket) error) *DB {
	t.Helper()
	dir := db.Dir()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(filepath.Join(dir, dbFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketAudit)) }); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	return openTest(t, dir, opts)
}

func TestAuditTamperingIsFound(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fn     func(b *bolt.Bucket) error
		broken uint64
		reason string
	}{
		{
			name: "byte of Detail flipped",
			fn: func(b *bolt.Bucket) error {
				v := bytes.Clone(b.Get(u64(3)))
				i := bytes.Index(v, []byte("kicked u_3"))
				if i < 0 {
					return fmt.Errorf("detail not found in %s", v)
				}
				v[i] = 'K'
				return b.Put(u64(3), v)
			},
			broken: 3, reason: "content",
		},
		{
			name: "entry rewritten with a recomputed hash",
			fn: func(b *bolt.Bucket) error {
				var e bot.AuditEntry
				if err := json.Unmarshal(b.Get(u64(3)), &e); err != nil {
					return err
				}
				e.Evidence = "innocent"
				e.Hash = auditHash(&e)
				return putJSON(b, u64(3), e)
			},
			broken: 4, reason: "prev_hash",
		},
		{
			name:   "entry removed from the middle",
			fn:     func(b *bolt.Bucket) error { return b.Delete(u64(2)) },
			broken: 2, reason: "missing",
		},
		{
			name:   "entry removed from the end",
			fn:     func(b *bolt.Bucket) error { return b.Delete(u64(5)) },
			broken: 5, reason: "missing from the end",
		},
		{
			name:   "entry not JSON",
			fn:     func(b *bolt.Bucket) error { return b.Put(u64(4), []byte("{garbage")) },
			broken: 4, reason: "cannot be decoded",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			opts := testOptions(t, c)
			db := openTest(t, t.TempDir(), opts)
			ctx := context.Background()
			for i := 1; i <= 5; i++ {
				c.Advance(time.Minute)
				_, err := db.AppendAudit(ctx, bot.AuditEntry{
					Actor: "u_op (运营)", Action: "moderation.kick", Detail: fmt.Sprintf("kicked u_%d", i),
					Evidence: "spam text", Data: map[string]string{"user": fmt.Sprint("u_", i)},
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if rep, err := db.VerifyAudit(ctx); err != nil || !rep.OK() {
				t.Fatalf("before tampering: %+v, %v", rep, err)
			}
			db = tamper(t, db, opts, tc.fn)
			rep, err := db.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || rep.BrokenAt != tc.broken || !strings.Contains(rep.Reason, tc.reason) {
				t.Errorf("report %+v, want broken at %d with a reason mentioning %q", rep, tc.broken, tc.reason)
			}
		})
	}
}

func TestAuditEntriesFilter(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	add := func(g bot.GroupID, action string) {
		c.Advance(time.Hour)
		if _, err := db.AppendAudit(ctx, bot.AuditEntry{Group: g, Actor: "system", Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	add("g_1", "countdown.start")    // 1
	add("g_2", "countdown.start")    // 2
	add("g_1", "moderation.warn")    // 3
	add("g_1", "countdown.remind")   // 4
	add("", "config.reload")         // 5
	add("g_1", "countdown.dissolve") // 6

	seqs := func(es []bot.AuditEntry) []uint64 {
		var out []uint64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    bot.AuditFilter
		want []uint64
	}{
		{"all", bot.AuditFilter{}, []uint64{1, 2, 3, 4, 5, 6}},
		{"group", bot.AuditFilter{Group: "g_1"}, []uint64{1, 3, 4, 6}},
		{"action prefix", bot.AuditFilter{Action: "countdown."}, []uint64{1, 2, 4, 6}},
		{"group and action", bot.AuditFilter{Group: "g_1", Action: "countdown"}, []uint64{1, 4, 6}},
		{"since", bot.AuditFilter{Since: t0.Add(4 * time.Hour)}, []uint64{4, 5, 6}},
		{"newest two, oldest first", bot.AuditFilter{Group: "g_1", Limit: 2}, []uint64{4, 6}},
		{"no match", bot.AuditFilter{Group: "g_9"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.AuditEntries(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(seqs(got)) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", seqs(got), tc.want)
			}
		})
	}
}

// TestAuditSinceToleratesAClockSteppedBack: a Since query stops reading at
// entries a day older than Since, but finds an entry written after a
// clock step back of less than a day.
func TestAuditSinceToleratesAClockSteppedBack(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	add := func(at time.Time, action string) {
		c.Advance(at.Sub(c.Now()))
		if _, err := db.AppendAudit(ctx, bot.AuditEntry{Actor: "system", Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 { // a long history before the window
		add(t0.Add(time.Duration(i)*time.Minute), "old")
	}
	add(t0.Add(72*time.Hour), "in window")
	add(t0.Add(70*time.Hour), "clock stepped back 2h, still in window")
	add(t0.Add(60*time.Hour), "clock stepped back 12h, before the window")
	add(t0.Add(73*time.Hour), "newest")
	es, err := db.AuditEntries(ctx, bot.AuditFilter{Since: t0.Add(69 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action)
	}
	want := []string{"in window", "clock stepped back 2h, still in window", "newest"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
