package store

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

// kvSpace is one plugin's namespace, the bucket kv/<namespace>. The bucket
// is created by the first write, so reading an unused namespace costs
// nothing.
type kvSpace struct {
	db *DB
	ns string
}

// KV returns the key-value space of namespace (a plugin's name).
func (db *DB) KV(namespace string) bot.KV { return &kvSpace{db: db, ns: namespace} }

func (s *kvSpace) check(ctx context.Context, key string, needKey bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.ns == "" {
		return fmt.Errorf("kv: %w: empty namespace", ErrInvalid)
	}
	if needKey && key == "" {
		return fmt.Errorf("kv %s: %w: empty key", s.ns, ErrInvalid)
	}
	return nil
}

func (s *kvSpace) bucket(tx *bolt.Tx) *bolt.Bucket {
	return tx.Bucket(bucketKV).Bucket([]byte(s.ns))
}

func (s *kvSpace) writable(tx *bolt.Tx) (*bolt.Bucket, error) {
	return tx.Bucket(bucketKV).CreateBucketIfNotExists([]byte(s.ns))
}

// Get returns a copy of key's value, or an error wrapping bot.ErrNotFound.
func (s *kvSpace) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.check(ctx, key, true); err != nil {
		return nil, err
	}
	var val []byte
	err := s.db.view(func(tx *bolt.Tx) error {
		if b := s.bucket(tx); b != nil {
			if v := b.Get([]byte(key)); v != nil {
				val = bytes.Clone(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kv %s get %q: %w", s.ns, key, err)
	}
	if val == nil {
		return nil, fmt.Errorf("kv %s get %q: %w", s.ns, key, bot.ErrNotFound)
	}
	return val, nil
}

// Put stores val under key. A nil val is stored as an empty value.
func (s *kvSpace) Put(ctx context.Context, key string, val []byte) error {
	if err := s.check(ctx, key, true); err != nil {
		return err
	}
	err := s.db.update(func(tx *bolt.Tx) error {
		b, err := s.writable(tx)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), bytes.Clone(nonNil(val)))
	})
	if err != nil {
		return fmt.Errorf("kv %s put %q: %w", s.ns, key, err)
	}
	return nil
}

// Delete removes key; removing an absent key is not an error.
func (s *kvSpace) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, key, true); err != nil {
		return err
	}
	err := s.db.update(func(tx *bolt.Tx) error {
		if b := s.bucket(tx); b != nil {
			return b.Delete([]byte(key))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("kv %s delete %q: %w", s.ns, key, err)
	}
	return nil
}

// Update replaces key's value with fn(old) in one write transaction: no
// other write can come between the read and the write. old is a copy (nil
// when absent); a nil result deletes the key; an error from fn leaves
// everything as it was. fn must not call the store: it runs inside the
// write transaction.
func (s *kvSpace) Update(ctx context.Context, key string, fn func(old []byte) ([]byte, error)) error {
	if err := s.check(ctx, key, true); err != nil {
		return err
	}
	err := s.db.update(func(tx *bolt.Tx) error {
		b, err := s.writable(tx)
		if err != nil {
			return err
		}
		var old []byte
		if v := b.Get([]byte(key)); v != nil {
			old = bytes.Clone(v)
		}
		val, err := fn(old)
		if err != nil {
			return err
		}
		if val == nil {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), bytes.Clone(val))
	})
	if err != nil {
		return fmt.Errorf("kv %s update %q: %w", s.ns, key, err)
	}
	return nil
}

// Scan calls fn for each key with prefix, in key order, with a copy of the
// value. It reads in chunks of short read transactions and calls fn
// outside them, so fn may write to the store.
func (s *kvSpace) Scan(ctx context.Context, prefix string, fn func(key string, val []byte) error) error {
	if err := s.check(ctx, "", false); err != nil {
		return err
	}
	type kv struct {
		k string
		v []byte
	}
	pre := []byte(prefix)
	var resume []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var chunk []kv
		more := false
		err := s.db.view(func(tx *bolt.Tx) error {
			b := s.bucket(tx)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			var k, v []byte
			if resume == nil {
				k, v = c.Seek(pre)
			} else if k, v = c.Seek(resume); bytes.Equal(k, resume) {
				k, v = c.Next()
			}
			for ; k != nil && bytes.HasPrefix(k, pre); k, v = c.Next() {
				if len(chunk) == scanChunk {
					more = true
					return nil
				}
				if v == nil {
					continue // not written by this package; plugins cannot make buckets
				}
				chunk = append(chunk, kv{string(k), bytes.Clone(v)})
				resume = append(resume[:0], k...)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("kv %s scan %q: %w", s.ns, prefix, err)
		}
		for _, e := range chunk {
			if err := fn(e.k, e.v); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
