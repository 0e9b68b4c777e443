package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

// putJSON stores v as JSON under k.
func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", k, err)
	}
	return b.Put(k, data)
}

// getJSON decodes the JSON under k into v and reports whether k exists.
// json.Unmarshal copies, so v outlives the transaction.
func getJSON(b *bolt.Bucket, k []byte, v any) (bool, error) {
	if b == nil {
		return false, nil
	}
	data := b.Get(k)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %s: %w", k, err)
	}
	return true, nil
}

// allJSON decodes every value of b (skipping nested buckets) in key order.
func allJSON[T any](b *bolt.Bucket) ([]T, error) {
	var out []T
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil
		}
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// getOne reads one JSON value from bucket top (or top/sub when sub is not
// nil), wrapping bot.ErrNotFound when it is absent.
func getOne[T any](ctx context.Context, db *DB, what string, top, sub, key []byte) (T, error) {
	var x T
	if err := ctx.Err(); err != nil {
		return x, err
	}
	var found bool
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(top)
		if sub != nil {
			b = b.Bucket(sub)
		}
		var err error
		found, err = getJSON(b, key, &x)
		return err
	})
	if err != nil {
		return x, fmt.Errorf("%s: %w", what, err)
	}
	if !found {
		return x, fmt.Errorf("%s: %w", what, bot.ErrNotFound)
	}
	return x, nil
}

// getAll reads every JSON value of bucket top (or top/sub).
func getAll[T any](ctx context.Context, db *DB, what string, top, sub []byte) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []T
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(top)
		if sub != nil {
			b = b.Bucket(sub)
		}
		var err error
		out, err = allJSON[T](b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// PutGroup stores g. LastHuman and LastSeen, which the record writer moves
// forward on its own, never go backwards here: a caller that read the
// group before the writer's latest commit must not undo it.
func (db *DB) PutGroup(ctx context.Context, g bot.GroupRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.ID == "" {
		return fmt.Errorf("put group: %w: no id", ErrInvalid)
	}
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketGroups)
		var old bot.GroupRecord
		if ok, err := getJSON(b, []byte(g.ID), &old); err != nil {
			return err
		} else if ok {
			g.LastHuman = laterOf(g.LastHuman, old.LastHuman)
			g.LastSeen = laterOf(g.LastSeen, old.LastSeen)
		}
		return putJSON(b, []byte(g.ID), g)
	})
	if err != nil {
		return fmt.Errorf("put group %s: %w", g.ID, err)
	}
	return nil
}

// Group returns the group with id, or an error wrapping bot.ErrNotFound.
func (db *DB) Group(ctx context.Context, id bot.GroupID) (bot.GroupRecord, error) {
	return getOne[bot.GroupRecord](ctx, db, "group "+string(id), bucketGroups, nil, []byte(id))
}

// Groups returns every group, ordered by id.
func (db *DB) Groups(ctx context.Context) ([]bot.GroupRecord, error) {
	return getAll[bot.GroupRecord](ctx, db, "groups", bucketGroups, nil)
}

// PutUser stores u.
func (db *DB) PutUser(ctx context.Context, u bot.UserRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if u.ID == "" {
		return fmt.Errorf("put user: %w: no id", ErrInvalid)
	}
	err := db.update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketUsers), []byte(u.ID), u)
	})
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.ID, err)
	}
	return nil
}

// User returns the user with id, or an error wrapping bot.ErrNotFound.
func (db *DB) User(ctx context.Context, id bot.UserID) (bot.UserRecord, error) {
	return getOne[bot.UserRecord](ctx, db, "user "+string(id), bucketUsers, nil, []byte(id))
}

// Users returns every user, ordered by id.
func (db *DB) Users(ctx context.Context) ([]bot.UserRecord, error) {
	return getAll[bot.UserRecord](ctx, db, "users", bucketUsers, nil)
}

// PutMembers stores ms in one transaction. LastSpoke and Messages, which
// the record writer maintains, never go backwards here (see PutGroup).
func (db *DB) PutMembers(ctx context.Context, ms []bot.MemberRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, m := range ms {
		if m.Group == "" || m.User == "" {
			return fmt.Errorf("put members: %w: a member needs a group and a user", ErrInvalid)
		}
	}
	err := db.update(func(tx *bolt.Tx) error {
		top := tx.Bucket(bucketMembers)
		for _, m := range ms {
			b, err := top.CreateBucketIfNotExists([]byte(m.Group))
			if err != nil {
				return err
			}
			var old bot.MemberRecord
			if ok, err := getJSON(b, []byte(m.User), &old); err != nil {
				return err
			} else if ok {
				m.LastSpoke = laterOf(m.LastSpoke, old.LastSpoke)
				m.Messages = max(m.Messages, old.Messages)
			}
			if err := putJSON(b, []byte(m.User), m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put members: %w", err)
	}
	return nil
}

// Member returns u's membership of g, or an error wrapping bot.ErrNotFound.
func (db *DB) Member(ctx context.Context, g bot.GroupID, u bot.UserID) (bot.MemberRecord, error) {
	return getOne[bot.MemberRecord](ctx, db, "member "+string(u)+" of "+string(g),
		bucketMembers, []byte(g), []byte(u))
}

// Members returns the present and former members of g, ordered by user id.
func (db *DB) Members(ctx context.Context, g bot.GroupID) ([]bot.MemberRecord, error) {
	return getAll[bot.MemberRecord](ctx, db, "members of "+string(g), bucketMembers, []byte(g))
}

// SetAdmin grants (on) or revokes the group admin role described by grant.
func (db *DB) SetAdmin(ctx context.Context, grant bot.AdminGrant, on bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if grant.Group == "" || grant.User == "" {
		return fmt.Errorf("set admin: %w: a grant needs a group and a user", ErrInvalid)
	}
	err := db.update(func(tx *bolt.Tx) error {
		top := tx.Bucket(bucketAdmins)
		if !on {
			if b := top.Bucket([]byte(grant.Group)); b != nil {
				return b.Delete([]byte(grant.User))
			}
			return nil
		}
		b, err := top.CreateBucketIfNotExists([]byte(grant.Group))
		if err != nil {
			return err
		}
		return putJSON(b, []byte(grant.User), grant)
	})
	if err != nil {
		return fmt.Errorf("set admin %s of %s: %w", grant.User, grant.Group, err)
	}
	return nil
}

// Admins returns the admin grants of g, ordered by user id.
func (db *DB) Admins(ctx context.Context, g bot.GroupID) ([]bot.AdminGrant, error) {
	return getAll[bot.AdminGrant](ctx, db, "admins of "+string(g), bucketAdmins, []byte(g))
}

// PutTimer stores t under its id, replacing an earlier version.
func (db *DB) PutTimer(ctx context.Context, t bot.TimerRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.ID == "" {
		return fmt.Errorf("put timer: %w: no id", ErrInvalid)
	}
	err := db.update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketTimers), []byte(t.ID), t)
	})
	if err != nil {
		return fmt.Errorf("put timer %s: %w", t.ID, err)
	}
	return nil
}

// DeleteTimer removes the timer with id; removing an absent timer is not
// an error, so a fired timer can be deleted twice after a crash.
func (db *DB) DeleteTimer(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("delete timer: %w: no id", ErrInvalid)
	}
	err := db.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTimers).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("delete timer %s: %w", id, err)
	}
	return nil
}

// Timers returns every timer, soonest first.
func (db *DB) Timers(ctx context.Context) ([]bot.TimerRecord, error) {
	ts, err := getAll[bot.TimerRecord](ctx, db, "timers", bucketTimers, nil)
	slices.SortStableFunc(ts, func(a, b bot.TimerRecord) int { return a.Due.Compare(b.Due) })
	return ts, err
}

// PutTask stores t under its id, replacing an earlier version.
func (db *DB) PutTask(ctx context.Context, t bot.Task) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.ID == "" {
		return fmt.Errorf("put task: %w: no id", ErrInvalid)
	}
	err := db.update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketTasks), []byte(t.ID), t)
	})
	if err != nil {
		return fmt.Errorf("put task %s: %w", t.ID, err)
	}
	return nil
}

// Task returns the task with id, or an error wrapping bot.ErrNotFound.
func (db *DB) Task(ctx context.Context, id string) (bot.Task, error) {
	return getOne[bot.Task](ctx, db, "task "+id, bucketTasks, nil, []byte(id))
}

// Tasks returns every task, newest first (by Created, then id).
func (db *DB) Tasks(ctx context.Context) ([]bot.Task, error) {
	ts, err := getAll[bot.Task](ctx, db, "tasks", bucketTasks, nil)
	slices.SortFunc(ts, func(a, b bot.Task) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return ts, err
}

// OpenSession records that the bot came online at at. A session left open
// by a crash is first closed at its last heartbeat with reason "crash",
// so coverage reports show the real gap.
func (db *DB) OpenSession(ctx context.Context, at time.Time) (bot.Session, error) {
	if err := ctx.Err(); err != nil {
		return bot.Session{}, err
	}
	var s bot.Session
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		open, err := allJSON[bot.Session](b)
		if err != nil {
			return err
		}
		for _, o := range open {
			if !o.End.IsZero() {
				continue
			}
			o.End = o.LastAlive
			if o.End.IsZero() {
				o.End = o.Start
			}
			o.EndReason = "crash"
			if err := putJSON(b, u64(o.ID), o); err != nil {
				return err
			}
			db.log.Warn("session closed after crash", "session_id", o.ID, "last_alive", o.End)
		}
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		s = bot.Session{ID: id, Start: at, LastAlive: at}
		return putJSON(b, u64(id), s)
	})
	if err != nil {
		return bot.Session{}, fmt.Errorf("open session: %w", err)
	}
	return s, nil
}

// lastOpenSession applies fn to the newest session if it is open.
func (db *DB) lastOpenSession(what string, fn func(s *bot.Session)) error {
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		k, v := b.Cursor().Last()
		var s bot.Session
		if k == nil {
			return fmt.Errorf("no session: %w", bot.ErrNotFound)
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("decode session %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if !s.End.IsZero() {
			return fmt.Errorf("no open session: %w", bot.ErrNotFound)
		}
		fn(&s)
		return putJSON(b, u64(s.ID), s)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Heartbeat marks the open session alive at at.
func (db *DB) Heartbeat(ctx context.Context, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.lastOpenSession("heartbeat", func(s *bot.Session) {
		s.LastAlive = laterOf(s.LastAlive, at)
	})
}

// CloseSession ends the open session at at for reason.
func (db *DB) CloseSession(ctx context.Context, at time.Time, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.lastOpenSession("close session", func(s *bot.Session) {
		s.End = at
		s.LastAlive = laterOf(s.LastAlive, at)
		s.EndReason = reason
	})
}

// Sessions returns the sessions that overlap [from, to), oldest first; a
// zero to means no end, and an open session reaches into the future.
func (db *DB) Sessions(ctx context.Context, from, to time.Time) ([]bot.Session, error) {
	all, err := getAll[bot.Session](ctx, db, "sessions", bucketSessions, nil)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, s := range all {
		if !to.IsZero() && !s.Start.Before(to) {
			continue
		}
		if !s.End.IsZero() && !s.End.After(from) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}
