package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

// A record's key is records/<group>/<unix nanos BE 8><seq BE 8>, so a
// group's records sort by time and then by Seq, and a time range is a
// cursor range. Group, Time and Seq live only in the key.
//
// A record's value is a compact binary encoding, because export streams
// hundreds of thousands of records per second and JSON would dominate:
//
//	byte 0     encoding version (recordV1)
//	byte 1     Kind
//	byte 2     MsgType
//	byte 3     flags: 1 FromBot, 2 Purged
//	varint     Size (signed)
//	6 strings  Sender, SenderName, MsgID, Text, FileName, MediaPath,
//	           each a uvarint length and the bytes
//
// Decoding converts the string area to one Go string and slices the fields
// out of it: one allocation per record.
const (
	recordV1      = 1
	recordFromBot = 1 << 0
	recordPurged  = 1 << 1

	recordKeyLen = 16
	// maxRecordSize bounds one encoded record; larger ones are refused
	// individually so they cannot fail the batch they would share.
	maxRecordSize = 1 << 20
	// scanChunk is how many keys one read transaction visits.
	scanChunk = 1000

	// maxUnixSeconds is the last second whose Unix nanoseconds fit in an
	// int64 (year 2262); record keys cannot hold later times.
	maxUnixSeconds = math.MaxInt64 / int64(time.Second)
)

// hoursV1 is the encoding version of an hours/<group>/<hour> value: the
// version byte, then Messages, Bot, Media, Joins, Leaves, Other as uvarints.
const hoursV1 = 1

func recordKey(dst []byte, t time.Time, seq uint64) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.UnixNano()))
	return binary.BigEndian.AppendUint64(dst, seq)
}

// timeKey is the 8-byte key prefix of the first record at or after t.
// Times before 1970 have no key; they map to the start.
func timeKey(t time.Time) []byte {
	if t.IsZero() || t.Unix() < 0 {
		return u64(0)
	}
	if t.Unix() >= maxUnixSeconds {
		return u64(math.MaxInt64)
	}
	return u64(uint64(t.UnixNano()))
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// encodeRecord appends r's value encoding to dst.
func encodeRecord(dst []byte, r *bot.Record) []byte {
	var flags byte
	if r.FromBot {
		flags |= recordFromBot
	}
	if r.Purged {
		flags |= recordPurged
	}
	dst = append(dst, recordV1, byte(r.Kind), byte(r.MsgType), flags)
	dst = binary.AppendVarint(dst, r.Size)
	dst = appendString(dst, string(r.Sender))
	dst = appendString(dst, r.SenderName)
	dst = appendString(dst, r.MsgID)
	dst = appendString(dst, r.Text)
	dst = appendString(dst, r.FileName)
	return appendString(dst, r.MediaPath)
}

var errBadRecord = errors.New("malformed record")

// decodeRecord decodes the record stored under k with value v into r. The
// strings are copies, so r outlives the transaction.
func decodeRecord(g bot.GroupID, k, v []byte, r *bot.Record) error {
	if len(k) != recordKeyLen {
		return fmt.Errorf("%w: key is %d bytes", errBadRecord, len(k))
	}
	if len(v) < 5 {
		return fmt.Errorf("%w: value is %d bytes", errBadRecord, len(v))
	}
	if v[0] != recordV1 {
		return fmt.Errorf("%w: unknown encoding version %d", errBadRecord, v[0])
	}
	size, n := binary.Varint(v[4:])
	if n <= 0 {
		return fmt.Errorf("%w: bad size", errBadRecord)
	}
	base := 4 + n
	s := string(v[base:])
	var f [6]string
	off := base
	for i := range f {
		l, n := binary.Uvarint(v[off:])
		if n <= 0 || l > uint64(len(v)-off-n) {
			return fmt.Errorf("%w: field %d overruns the value", errBadRecord, i)
		}
		off += n
		f[i] = s[off-base : off-base+int(l)]
		off += int(l)
	}
	*r = bot.Record{
		Group:      g,
		Seq:        binary.BigEndian.Uint64(k[8:]),
		Time:       time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(),
		Kind:       bot.EventKind(v[1]),
		MsgType:    bot.MsgType(v[2]),
		FromBot:    v[3]&recordFromBot != 0,
		Purged:     v[3]&recordPurged != 0,
		Size:       size,
		Sender:     bot.UserID(f[0]),
		SenderName: f[1],
		MsgID:      f[2],
		Text:       f[3],
		FileName:   f[4],
		MediaPath:  f[5],
	}
	return nil
}

// hourOf returns the start of t's UTC hour in unix seconds.
func hourOf(t time.Time) int64 {
	s := t.Unix()
	return s - s%3600
}

// countRecord adds one record to an hour's counts (see bot.HourCount).
func countRecord(h *bot.HourCount, kind bot.EventKind, mt bot.MsgType, fromBot bool) {
	switch kind {
	case bot.EventMessage:
		if fromBot {
			h.Bot++
		} else {
			h.Messages++
		}
		if mt == bot.MsgImage || mt == bot.MsgFile {
			h.Media++
		}
	case bot.EventMemberJoined:
		h.Joins++
	case bot.EventMemberLeft:
		h.Leaves++
	default:
		h.Other++
	}
}

func encodeHour(h bot.HourCount) []byte {
	b := []byte{hoursV1}
	for _, n := range []int{h.Messages, h.Bot, h.Media, h.Joins, h.Leaves, h.Other} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

func decodeHour(k, v []byte) (bot.HourCount, error) {
	if len(k) != 8 || len(v) < 1 || v[0] != hoursV1 {
		return bot.HourCount{}, errors.New("malformed hour count")
	}
	var n [6]int
	off := 1
	for i := range n {
		x, w := binary.Uvarint(v[off:])
		if w <= 0 {
			return bot.HourCount{}, errors.New("malformed hour count")
		}
		n[i] = int(x)
		off += w
	}
	return bot.HourCount{
		Hour:     time.Unix(int64(binary.BigEndian.Uint64(k)), 0).UTC(),
		Messages: n[0], Bot: n[1], Media: n[2], Joins: n[3], Leaves: n[4], Other: n[5],
	}, nil
}

func addHour(dst *bot.HourCount, d bot.HourCount) {
	dst.Messages += d.Messages
	dst.Bot += d.Bot
	dst.Media += d.Media
	dst.Joins += d.Joins
	dst.Leaves += d.Leaves
	dst.Other += d.Other
}

// writeReq is one item on the writer's queue: a record with the channel
// that gets its commit result, or (sync != nil) a Sync marker.
type writeReq struct {
	rec  bot.Record
	done chan error
	sync chan error
}

// AppendRecord queues r for the group-commit writer. The returned channel
// yields nil once r is durable, or the error that kept it from being
// stored. After Close it yields ErrClosed. The store assigns r.Seq; a zero
// r.Time means now.
//
// A record waits up to BatchDelay for its batch to fill, so a caller that
// blocks on every channel pays that delay per record (see the closed-loop
// benchmark); callers that need a record durable at once call Sync, which
// commits what is queued without waiting. AppendRecord blocks only when
// the queue (2*BatchSize) is full.
func (db *DB) AppendRecord(r bot.Record) <-chan error {
	done := make(chan error, 1)
	db.wmu.RLock()
	defer db.wmu.RUnlock()
	if db.wclosed {
		done <- ErrClosed
		return done
	}
	db.in <- writeReq{rec: r, done: done}
	return done
}

// Sync waits until every record queued before it is committed. It returns
// the error of the commit it waited for, if that failed.
func (db *DB) Sync(ctx context.Context) error {
	ch := make(chan error, 1)
	db.wmu.RLock()
	if db.wclosed {
		db.wmu.RUnlock()
		return ErrClosed
	}
	select {
	case db.in <- writeReq{sync: ch}:
		db.wmu.RUnlock()
	case <-ctx.Done():
		db.wmu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runWriter is the single writer goroutine. It collects records until it
// has BatchSize of them, BatchDelay has passed since the first, or a Sync
// asks, and commits them in one transaction. It exits when Close closes
// the queue, after committing what was queued.
func (db *DB) runWriter() {
	defer close(db.writerDone)
	w := &writer{db: db, batch: make([]writeReq, 0, db.opts.BatchSize)}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		req, ok := <-db.in
		if !ok {
			return
		}
		w.add(req)
		if len(w.syncs) == 0 && len(w.batch) < db.opts.BatchSize {
			timer.Reset(db.opts.BatchDelay)
		collect:
			for len(w.syncs) == 0 && len(w.batch) < db.opts.BatchSize {
				select {
				case req, ok := <-db.in:
					if !ok {
						timer.Stop()
						w.flush()
						return
					}
					w.add(req)
				case <-timer.C:
					break collect
				}
			}
			timer.Stop()
		}
		w.flush()
	}
}

// writer is the writer goroutine's state between commits.
type writer struct {
	db    *DB
	batch []writeReq
	syncs []chan error
	arena []byte
}

func (w *writer) add(req writeReq) {
	if req.sync != nil {
		w.syncs = append(w.syncs, req.sync)
		return
	}
	r := &req.rec
	if r.Time.IsZero() {
		r.Time = w.db.now()
	}
	switch {
	case r.Group == "":
		req.done <- fmt.Errorf("append record: %w: no group", ErrInvalid)
		return
	case r.Time.Unix() < 0 || r.Time.Unix() >= maxUnixSeconds:
		req.done <- fmt.Errorf("append record: %w: time %s out of range", ErrInvalid, r.Time)
		return
	case recordSizeBound(r) > maxRecordSize:
		req.done <- fmt.Errorf("append record: %w: larger than %d bytes", ErrInvalid, maxRecordSize)
		return
	}
	w.batch = append(w.batch, req)
}

// recordSizeBound is an upper bound of r's encoded size.
func recordSizeBound(r *bot.Record) int {
	return 4 + binary.MaxVarintLen64*7 + len(r.Sender) + len(r.SenderName) + len(r.MsgID) +
		len(r.Text) + len(r.FileName) + len(r.MediaPath)
}

// flush commits the batch and answers its callers and any Sync waiters.
func (w *writer) flush() {
	var err error
	if len(w.batch) > 0 {
		start := time.Now()
		err = w.db.commitRecords(w.batch, &w.arena)
		if err != nil {
			w.db.log.Error("record batch commit failed", "records", len(w.batch), "error", err)
		} else {
			w.db.log.Debug("record batch committed", "records", len(w.batch), "duration", time.Since(start))
		}
		for _, req := range w.batch {
			req.done <- err
		}
	}
	for _, ch := range w.syncs {
		ch <- err
	}
	clear(w.batch)
	w.batch = w.batch[:0]
	w.syncs = w.syncs[:0]
}

// memberDelta is what one batch adds to a member's statistics.
type memberDelta struct {
	name      string
	lastSpoke time.Time
	messages  int64
}

type memberKey struct {
	g bot.GroupID
	u bot.UserID
}

type hourKey struct {
	g    bot.GroupID
	hour int64
}

// commitRecords stores a batch in one write transaction: it assigns each
// record's Seq from the records bucket's sequence, appends it to its
// group's bucket, adds it to the hourly counts (schema 2), and brings the
// speakers' member records and their groups' LastHuman/LastSeen up to date.
// arena is reused between batches; bbolt keeps references to keys and
// values until the commit, so nothing in it is overwritten before that.
func (db *DB) commitRecords(batch []writeReq, arena *[]byte) error {
	return db.update(func(tx *bolt.Tx) error {
		recs := tx.Bucket(bucketRecords)
		var hours *bolt.Bucket
		if db.schema >= 2 {
			if hours = tx.Bucket(bucketHours); hours == nil {
				return fmt.Errorf("schema %d without an hours bucket", db.schema)
			}
		}
		buckets := make(map[bot.GroupID]*bolt.Bucket)
		hourDeltas := make(map[hourKey]*bot.HourCount)
		members := make(map[memberKey]*memberDelta)
		humans := make(map[bot.GroupID]time.Time)

		buf := (*arena)[:0]
		for i := range batch {
			r := &batch[i].rec
			gb := buckets[r.Group]
			if gb == nil {
				var err error
				gb, err = recs.CreateBucketIfNotExists([]byte(r.Group))
				if err != nil {
					return fmt.Errorf("records bucket of %s: %w", r.Group, err)
				}
				gb.FillPercent = appendFillPercent
				buckets[r.Group] = gb
			}
			seq, err := recs.NextSequence()
			if err != nil {
				return err
			}
			r.Seq = seq
			start := len(buf)
			buf = recordKey(buf, r.Time, seq)
			key := buf[start:len(buf):len(buf)]
			start = len(buf)
			buf = encodeRecord(buf, r)
			val := buf[start:len(buf):len(buf)]
			if err := gb.Put(key, val); err != nil {
				return fmt.Errorf("put record: %w", err)
			}

			if hours != nil {
				hk := hourKey{r.Group, hourOf(r.Time)}
				h := hourDeltas[hk]
				if h == nil {
					h = new(bot.HourCount)
					hourDeltas[hk] = h
				}
				countRecord(h, r.Kind, r.MsgType, r.FromBot)
			}
			if r.Kind == bot.EventMessage && !r.FromBot {
				if t, ok := humans[r.Group]; !ok || r.Time.After(t) {
					humans[r.Group] = r.Time
				}
				if r.Sender != "" {
					mk := memberKey{r.Group, r.Sender}
					m := members[mk]
					if m == nil {
						m = &memberDelta{}
						members[mk] = m
					}
					m.messages++
					if r.Time.After(m.lastSpoke) {
						m.lastSpoke = r.Time
						m.name = r.SenderName
					}
				}
			}
		}
		*arena = buf

		for hk, d := range hourDeltas {
			if err := addHourCount(hours, hk, *d); err != nil {
				return err
			}
		}
		for mk, d := range members {
			if err := noteSpeaker(tx, mk, d); err != nil {
				return err
			}
		}
		for g, t := range humans {
			if err := noteHuman(tx, g, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// addHourCount adds d to hours/<group>/<hour>.
func addHourCount(hours *bolt.Bucket, hk hourKey, d bot.HourCount) error {
	gb, err := hours.CreateBucketIfNotExists([]byte(hk.g))
	if err != nil {
		return fmt.Errorf("hours bucket of %s: %w", hk.g, err)
	}
	gb.FillPercent = appendFillPercent
	k := u64(uint64(hk.hour))
	var cur bot.HourCount
	if v := gb.Get(k); v != nil {
		if cur, err = decodeHour(k, v); err != nil {
			return fmt.Errorf("hour %d of %s: %w", hk.hour, hk.g, err)
		}
	}
	addHour(&cur, d)
	return gb.Put(k, encodeHour(cur))
}

// noteSpeaker adds a batch's messages to a member's record, creating it
// (present) when the recorder sees someone it has no record of.
func noteSpeaker(tx *bolt.Tx, mk memberKey, d *memberDelta) error {
	gb, err := tx.Bucket(bucketMembers).CreateBucketIfNotExists([]byte(mk.g))
	if err != nil {
		return fmt.Errorf("members bucket of %s: %w", mk.g, err)
	}
	var m bot.MemberRecord
	if v := gb.Get([]byte(mk.u)); v != nil {
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("member %s of %s: %w", mk.u, mk.g, err)
		}
	} else {
		m = bot.MemberRecord{Group: mk.g, User: mk.u, Nick: d.name, Present: true, FirstSeen: d.lastSpoke}
	}
	if d.lastSpoke.After(m.LastSpoke) {
		m.LastSpoke = d.lastSpoke
	}
	m.Messages += d.messages
	return putJSON(gb, []byte(mk.u), m)
}

// noteHuman moves a group's LastHuman and LastSeen forward to t, creating
// the group record when the recorder sees a group it has no record of.
func noteHuman(tx *bolt.Tx, g bot.GroupID, t time.Time) error {
	b := tx.Bucket(bucketGroups)
	var gr bot.GroupRecord
	if v := b.Get([]byte(g)); v != nil {
		if err := json.Unmarshal(v, &gr); err != nil {
			return fmt.Errorf("group %s: %w", g, err)
		}
	} else {
		gr = bot.GroupRecord{ID: g, FirstSeen: t, BotPresent: true}
	}
	if t.After(gr.LastHuman) {
		gr.LastHuman = t
	}
	if t.After(gr.LastSeen) {
		gr.LastSeen = t
	}
	return putJSON(b, []byte(g), gr)
}

// releaseEvery is how many bytes a scan reads between releases of the
// file's memory map (see releaseMapped).
const releaseEvery = 16 << 20

// ScanRecords calls fn for each record of g with from <= Time < to (a zero
// to means no end), in time order. It reads scanChunk records per read
// transaction and calls fn between transactions, so a slow consumer (an
// export writing files) never holds a transaction open.
func (db *DB) ScanRecords(ctx context.Context, g bot.GroupID, from, to time.Time, fn func(bot.Record) error) error {
	var end []byte
	if !to.IsZero() {
		end = timeKey(to)
	}
	name := []byte(g)
	var resume []byte
	chunk := make([]bot.Record, 0, scanChunk)
	// scanned counts bytes read since the map was last released; a long
	// scan releases it every releaseEvery bytes to keep its RSS flat.
	scanned := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk = chunk[:0]
		var more bool
		err := db.view(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRecords).Bucket(name)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			var k, v []byte
			if resume == nil {
				k, v = c.Seek(timeKey(from))
			} else if k, v = c.Seek(resume); bytes.Equal(k, resume) {
				k, v = c.Next()
			}
			for ; k != nil; k, v = c.Next() {
				if end != nil && bytes.Compare(k, end) >= 0 {
					return nil
				}
				if len(chunk) == scanChunk {
					more = true
					return nil
				}
				chunk = append(chunk, bot.Record{})
				if err := decodeRecord(g, k, v, &chunk[len(chunk)-1]); err != nil {
					return fmt.Errorf("record %x of %s: %w", k, g, err)
				}
				scanned += len(k) + len(v)
			}
			return nil
		})
		if scanned >= releaseEvery {
			scanned = 0
			_ = db.view(func(tx *bolt.Tx) error { releaseMapped(tx); return nil })
		}
		if err != nil {
			return fmt.Errorf("scan records: %w", err)
		}
		for _, r := range chunk {
			if err := fn(r); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		last := chunk[len(chunk)-1]
		resume = recordKey(resume[:0], last.Time, last.Seq)
	}
}

// HourCounts returns the non-empty hours of g that overlap [from, to), in
// order; a zero to means no end.
func (db *DB) HourCounts(ctx context.Context, g bot.GroupID, from, to time.Time) ([]bot.HourCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []bot.HourCount
	start := uint64(0)
	if !from.IsZero() && from.Unix() > 0 {
		start = uint64(hourOf(from))
	}
	err := db.view(func(tx *bolt.Tx) error {
		hb := tx.Bucket(bucketHours)
		if hb == nil {
			return nil
		}
		b := hb.Bucket([]byte(g))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(u64(start)); k != nil; k, v = c.Next() {
			h, err := decodeHour(k, v)
			if err != nil {
				return fmt.Errorf("hour %x of %s: %w", k, g, err)
			}
			if !to.IsZero() && !h.Hour.Before(to) {
				break
			}
			out = append(out, h)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hour counts: %w", err)
	}
	return out, nil
}

// PurgeBodies blanks Text and MediaPath and sets Purged on g's records
// older than before that are not purged yet, and returns how many it
// changed. If media is not nil it is called after each committed chunk
// with the MediaPaths that chunk blanked, so that the caller deletes the
// files only once no record names them any more. It works in chunks of one write transaction each, collecting the
// keys before rewriting them (never writing through a moving cursor), so a
// big purge does not hold the record writer for long. A crash mid-way
// leaves a partial purge that the next call finishes.
func (db *DB) PurgeBodies(ctx context.Context, g bot.GroupID, before time.Time, media func(paths []string)) (int, error) {
	end := timeKey(before)
	name := []byte(g)
	var resume []byte
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var changed int
		var more bool
		var paths []string
		err := db.update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRecords).Bucket(name)
			if b == nil {
				return nil
			}
			b.FillPercent = appendFillPercent
			type rewrite struct{ k, v []byte }
			var todo []rewrite
			c := b.Cursor()
			var k, v []byte
			if resume == nil {
				k, v = c.First()
			} else if k, v = c.Seek(resume); bytes.Equal(k, resume) {
				k, v = c.Next()
			}
			visited := 0
			for ; k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
				if len(todo) == scanChunk || visited == 10*scanChunk {
					more = true
					break
				}
				visited++
				resume = append(resume[:0], k...)
				var r bot.Record
				if err := decodeRecord(g, k, v, &r); err != nil {
					return fmt.Errorf("record %x of %s: %w", k, g, err)
				}
				if r.Purged {
					continue
				}
				if r.MediaPath != "" {
					paths = append(paths, r.MediaPath)
				}
				r.Text, r.MediaPath, r.Purged = "", "", true
				todo = append(todo, rewrite{bytes.Clone(k), encodeRecord(nil, &r)})
			}
			for _, rw := range todo {
				if err := b.Put(rw.k, rw.v); err != nil {
					return err
				}
			}
			changed = len(todo)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("purge bodies of %s: %w", g, err)
		}
		total += changed
		if media != nil && len(paths) > 0 {
			media(paths)
		}
		if !more {
			if total > 0 {
				db.log.Info("record bodies purged", "group_id", g, "records", total, "before", before)
			}
			return total, nil
		}
	}
}
