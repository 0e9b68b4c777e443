package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

// auditDomain starts every hashed audit encoding, so an audit hash can
// never be confused with the hash of anything else.
const auditDomain = "qunguan audit v1"

// auditHash returns the hex SHA-256 of e's canonical encoding. The
// encoding is, in order, with every string written as its length (uint32
// BE) and its bytes:
//
//	auditDomain (string)
//	Seq                  uint64 BE
//	Time                 int64 BE, UTC Unix nanoseconds
//	Group, GroupName, Actor, Action, Detail, Evidence (strings)
//	len(Data)            uint32 BE
//	each Data key and value, keys in byte order (strings)
//	PrevHash (string)
//
// Length prefixes make the encoding unambiguous: no two different entries
// encode to the same bytes. Hash itself is not part of it.
func auditHash(e *bot.AuditEntry) string {
	h := sha256.New()
	var b [8]byte
	str := func(h hash.Hash, s string) {
		binary.BigEndian.PutUint32(b[:4], uint32(len(s)))
		h.Write(b[:4])
		h.Write([]byte(s))
	}
	str(h, auditDomain)
	binary.BigEndian.PutUint64(b[:], e.Seq)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(e.Time.UTC().UnixNano()))
	h.Write(b[:])
	for _, s := range []string{string(e.Group), e.GroupName, e.Actor, e.Action, e.Detail, e.Evidence} {
		str(h, s)
	}
	binary.BigEndian.PutUint32(b[:4], uint32(len(e.Data)))
	h.Write(b[:4])
	for _, k := range slices.Sorted(maps.Keys(e.Data)) {
		str(h, k)
		str(h, e.Data[k])
	}
	str(h, e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// AppendAudit chains e onto the audit log: it assigns Seq, PrevHash (the
// previous entry's Hash, "" for the first) and Hash, and stores it. A zero
// Time means now; Time is stored in UTC. Each append is its own write
// transaction, which serialises appends; the audit log is rare traffic.
func (db *DB) AppendAudit(ctx context.Context, e bot.AuditEntry) (bot.AuditEntry, error) {
	if err := ctx.Err(); err != nil {
		return bot.AuditEntry{}, err
	}
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	e.Time = e.Time.UTC()
	e.Data = maps.Clone(e.Data)
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		e.PrevHash = ""
		if k, v := b.Cursor().Last(); k != nil {
			var prev bot.AuditEntry
			if err := json.Unmarshal(v, &prev); err != nil {
				return fmt.Errorf("decode audit entry %d: %w", binary.BigEndian.Uint64(k), err)
			}
			e.PrevHash = prev.Hash
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = seq
		e.Hash = auditHash(&e)
		return putJSON(b, u64(seq), e)
	})
	if err != nil {
		return bot.AuditEntry{}, fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return e, nil
}

// VerifyAudit walks the whole chain in short read transactions and
// recomputes every hash and link. It stops at the first entry that fails
// and reports its Seq and why; Head is the hash of the last entry that
// verified. Entries removed from the end are caught by comparing the last
// Seq with the bucket's sequence.
func (db *DB) VerifyAudit(ctx context.Context) (bot.AuditReport, error) {
	var rep bot.AuditReport
	var resume []byte
	var prevHash string
	var lastSeq, bucketSeq uint64
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		type raw struct {
			k uint64
			e bot.AuditEntry
			// bad is why the entry could not be decoded, if it could not.
			bad string
		}
		var chunk []raw
		more := false
		err := db.view(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketAudit)
			bucketSeq = b.Sequence()
			c := b.Cursor()
			var k, v []byte
			if resume == nil {
				k, v = c.First()
			} else if k, v = c.Seek(resume); bytes.Equal(k, resume) {
				k, v = c.Next()
			}
			for ; k != nil; k, v = c.Next() {
				if len(chunk) == scanChunk {
					more = true
					return nil
				}
				var r raw
				if len(k) != 8 {
					r.bad = fmt.Sprintf("key %x is not a sequence number", k)
				} else {
					r.k = binary.BigEndian.Uint64(k)
					if err := json.Unmarshal(v, &r.e); err != nil {
						r.bad = "entry cannot be decoded: " + err.Error()
					}
				}
				chunk = append(chunk, r)
				resume = append(resume[:0], k...)
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("verify audit: %w", err)
		}
		for _, r := range chunk {
			rep.Entries++
			want := lastSeq + 1
			fail := func(reason string) (bot.AuditReport, error) {
				rep.BrokenAt = want
				rep.Reason = reason
				db.log.Error("audit chain broken", "seq", rep.BrokenAt, "reason", reason)
				return rep, nil
			}
			switch {
			case r.k != 0 && r.k != want:
				return fail(fmt.Sprintf("entry %d is missing (found %d next)", want, r.k))
			case r.bad != "":
				return fail(r.bad)
			case r.e.Seq != r.k:
				return fail(fmt.Sprintf("entry stored at %d says it is %d", r.k, r.e.Seq))
			case r.e.PrevHash != prevHash:
				return fail(fmt.Sprintf("prev_hash %q does not match the hash of entry %d", short(r.e.PrevHash), lastSeq))
			case auditHash(&r.e) != r.e.Hash:
				return fail("hash does not match the entry's content (the entry was changed)")
			}
			prevHash, lastSeq = r.e.Hash, r.k
			rep.Head = prevHash
		}
		if !more {
			break
		}
	}
	if bucketSeq > lastSeq {
		rep.BrokenAt = lastSeq + 1
		rep.Reason = fmt.Sprintf("entries %d to %d are missing from the end", lastSeq+1, bucketSeq)
		db.log.Error("audit chain broken", "seq", rep.BrokenAt, "reason", rep.Reason)
	}
	return rep, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "..."
	}
	return h
}

// auditClockSlack is how far out of clock order two audit entries may be
// for a Since query to still find the later-written, earlier-dated one.
const auditClockSlack = 24 * time.Hour

// AuditEntries returns the entries matching f, oldest first; with f.Limit
// only the newest Limit of them. A Since query reads back from the newest
// entry only as far as a day before Since.
func (db *DB) AuditEntries(ctx context.Context, f bot.AuditFilter) ([]bot.AuditEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []bot.AuditEntry
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		// Walk backwards so a Limit stops early.
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var e bot.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry %x: %w", k, err)
			}
			if f.Group != "" && e.Group != f.Group {
				continue
			}
			if f.Action != "" && !strings.HasPrefix(e.Action, f.Action) {
				continue
			}
			if !f.Since.IsZero() && e.Time.Before(f.Since) {
				// Entries are appended in clock order, so walking back
				// from the newest, one a day older than Since means the
				// rest are older still. The day's slack covers a clock
				// stepped back (NTP, a VM resumed) between two entries.
				if e.Time.Before(f.Since.Add(-auditClockSlack)) {
					break
				}
				continue
			}
			out = append(out, e)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}
