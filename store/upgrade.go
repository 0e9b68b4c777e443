package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

// currentVersion is the schema version this code writes. Every change to
// the layout adds an upgrade below and a frozen database of the old
// version to testdata/.
const currentVersion = 2

// upgrade brings a database from version to-1 to version to.
type upgrade struct {
	to   uint64
	name string
	run  func(tx *bolt.Tx) error
}

// upgrades are applied in order. All the steps an Open needs run in ONE
// write transaction, after a backup copy, so a failed or interrupted
// upgrade leaves the file exactly as it was.
var upgrades = []upgrade{
	{to: 2, name: "hourly counts index", run: upgradeV2},
}

// migrate brings the file from version to db.schema (normally
// currentVersion), or refuses a file written by a newer qunguan.
func (db *DB) migrate(version uint64) error {
	if version > db.schema {
		return fmt.Errorf("%w: %s has schema version %d and this qunguan supports up to %d; run a newer qunguan",
			ErrSchemaTooNew, db.path, version, db.schema)
	}
	if version == 0 {
		return fmt.Errorf("%w: %s has schema version 0", ErrDamaged, db.path)
	}
	if version >= db.schema {
		return nil
	}
	target := db.schema
	start := time.Now()
	backup, err := db.Backup(context.Background(), fmt.Sprintf("pre-upgrade-v%d", target))
	if err != nil {
		return fmt.Errorf("backup before upgrade to schema %d: %w", target, err)
	}
	err = db.update(func(tx *bolt.Tx) error {
		for _, u := range upgrades {
			if u.to <= version || u.to > target {
				continue
			}
			if err := u.run(tx); err != nil {
				return fmt.Errorf("upgrade to schema %d (%s): %w", u.to, u.name, err)
			}
		}
		return tx.Bucket(bucketMeta).Put(keyVersion, u64(target))
	})
	if err != nil {
		return fmt.Errorf("upgrade %s (the backup %s is untouched): %w", db.path, backup, err)
	}
	db.log.Info("database upgraded", "path", db.path, "version_from", version, "version_to", target,
		"backup", backup, "duration", time.Since(start))
	return nil
}

// upgradeV2 adds hours/<group>/<hour>: it counts every existing record by
// UTC hour and kind. It reads only the key and the first bytes of each
// value, and writes after reading each group, never through a cursor.
func upgradeV2(tx *bolt.Tx) error {
	hours, err := tx.CreateBucketIfNotExists(bucketHours)
	if err != nil {
		return err
	}
	recs := tx.Bucket(bucketRecords)
	var groups [][]byte
	err = recs.ForEach(func(k, v []byte) error {
		if v == nil {
			groups = append(groups, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range groups {
		counts := make(map[int64]*bot.HourCount)
		var order []int64
		err := recs.Bucket(g).ForEach(func(k, v []byte) error {
			if len(k) != recordKeyLen || len(v) < 4 || v[0] != recordV1 {
				return fmt.Errorf("record %x of %s: %w", k, g, errBadRecord)
			}
			t := time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
			h := hourOf(t)
			c := counts[h]
			if c == nil {
				c = new(bot.HourCount)
				counts[h] = c
				order = append(order, h)
			}
			countRecord(c, bot.EventKind(v[1]), bot.MsgType(v[2]), v[3]&recordFromBot != 0)
			return nil
		})
		if err != nil {
			return err
		}
		gb, err := hours.CreateBucketIfNotExists(g)
		if err != nil {
			return err
		}
		gb.FillPercent = appendFillPercent
		for _, h := range order {
			if err := gb.Put(u64(uint64(h)), encodeHour(*counts[h])); err != nil {
				return err
			}
		}
	}
	return nil
}
