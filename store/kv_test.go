package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/qunguan/qunguan/bot"
)

func TestKVBasics(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	a, b := db.KV("welcome"), db.KV("moderation")
	if _, err := a.Get(ctx, "k"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("get from an unused namespace: %v", err)
	}
	if err := a.Put(ctx, "k", []byte("欢迎")); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, err := a.Get(ctx, "k"); err != nil || string(v) != "欢迎" {
		t.Errorf("get: %q, %v", v, err)
	}
	if v, err := a.Get(ctx, "empty"); err != nil || v == nil || len(v) != 0 {
		t.Errorf("empty value: %q (nil %v), %v", v, v == nil, err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("namespaces are not separate: %v", err)
	}
	// The returned value is a copy the caller may change.
	v, _ := a.Get(ctx, "k")
	v[0] = 'X'
	if v2, _ := a.Get(ctx, "k"); string(v2) != "欢迎" {
		t.Errorf("changing a returned value changed the store: %q", v2)
	}
	if err := a.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "k"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	if err := b.Delete(ctx, "never"); err != nil {
		t.Errorf("delete in an unused namespace: %v", err)
	}
	if _, err := a.Get(ctx, "k"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	for name, err := range map[string]error{
		"empty key":       a.Put(ctx, "", []byte("x")),
		"empty namespace": db.KV("").Put(ctx, "k", []byte("x")),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestKVUpdateIsAtomic(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	kv := db.KV("counter")

	// Concurrent read-modify-write loses nothing.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				err := kv.Update(ctx, "n", func(old []byte) ([]byte, error) {
					n := 0
					if old != nil {
						var err error
						if n, err = strconv.Atoi(string(old)); err != nil {
							return nil, err
						}
					}
					return []byte(strconv.Itoa(n + 1)), nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if v, err := kv.Get(ctx, "n"); err != nil || string(v) != "200" {
		t.Errorf("after 200 increments: %q, %v", v, err)
	}

	// An error from fn changes nothing, not even other writes fn saw.
	boom := errors.New("boom")
	err := kv.Update(ctx, "n", func(old []byte) ([]byte, error) {
		old[0] = '9' // old is a copy: scribbling on it must not leak
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("fn error not returned: %v", err)
	}
	if v, _ := kv.Get(ctx, "n"); string(v) != "200" {
		t.Errorf("failed update changed the value to %q", v)
	}
	err = kv.Update(ctx, "fresh", func(old []byte) ([]byte, error) { return []byte("x"), boom })
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "fresh"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("failed update created the key: %v", err)
	}

	// A nil result deletes.
	if err := kv.Update(ctx, "n", func([]byte) ([]byte, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "n"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("nil result did not delete: %v", err)
	}
}

func TestKVScan(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	kv := db.KV("invites")
	// More than one read chunk under the prefix, and neighbours on both
	// sides of it.
	const n = scanChunk*2 + 17
	err := kv.Update(ctx, "a", func([]byte) ([]byte, error) { return []byte("before"), nil })
	if err != nil {
		t.Fatal(err)
	}
	// One transaction for the bulk: a Put each would spend the test's
	// time in fsync.
	err = db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKV).Bucket([]byte("invites"))
		for i := range n {
			if err := b.Put([]byte(fmt.Sprintf("code/%05d", i)), []byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(ctx, "code0", []byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := db.KV("other").Put(ctx, "code/x", []byte("other namespace")); err != nil {
		t.Fatal(err)
	}

	i := 0
	err = kv.Scan(ctx, "code/", func(key string, val []byte) error {
		if want := fmt.Sprintf("code/%05d", i); key != want || string(val) != strconv.Itoa(i) {
			t.Fatalf("scan item %d: %q=%q, want %q", i, key, val, want)
		}
		// fn may write: it runs outside the read transaction.
		if i%500 == 0 {
			if err := kv.Put(ctx, "seen/"+key, val); err != nil {
				return err
			}
		}
		i++
		return nil
	})
	if err != nil || i != n {
		t.Fatalf("scan: %d items, %v; want %d", i, err, n)
	}

	var all []string
	if err := kv.Scan(ctx, "", func(key string, _ []byte) error { all = append(all, key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != n+2+5 || all[0] != "a" || all[len(all)-1] != "seen/code/02000" {
		t.Errorf("scan of everything: %d keys, first %q, last %q", len(all), all[0], all[len(all)-1])
	}
	stop := errors.New("stop")
	if err := kv.Scan(ctx, "code", func(string, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn error: %v", err)
	}
	if err := db.KV("unused").Scan(ctx, "", func(string, []byte) error { return stop }); err != nil {
		t.Errorf("scan of an unused namespace: %v", err)
	}
}
