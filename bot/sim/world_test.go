package sim

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/qunguan/qunguan/bot"
)

// TestWorldSnapshotRoundTrip checks that a persisted world, loaded again,
// has the same people, groups, ids, cards and gone groups: a crash test
// restarts the bot's process on it.
func TestWorldSnapshotRoundTrip(t *testing.T) {
	clock := bot.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	p := New(clock, "bot")
	p.AddFriend("王老师", "运营-王老师")
	p.AddUser("bob")
	p.AddGroup("技术交流群", "王老师", "bob")
	p.AddGroup("读书会", "王老师")
	p.SetCard("技术交流群", "bob", "小B")
	path := filepath.Join(t.TempDir(), "world.yaml")
	if err := p.PersistTo(path); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g1 := p.Group("技术交流群").ID
	if err := p.Rename(ctx, g1, "【已解散】技术交流群"); err != nil {
		t.Fatal(err)
	}
	if err := p.Dissolve(ctx, p.Group("读书会").ID); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := LoadWorld(clock, data)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(p.World(), q.World()); d != "" {
		t.Errorf("reloaded world differs (-saved +loaded):\n%s", d)
	}
	if g := q.Group("【已解散】技术交流群"); g == nil || g.ID != g1 || g.Cards[q.User("bob").ID] != "小B" {
		t.Errorf("renamed group not restored with its id and cards: %+v", g)
	}
	if q.Group("读书会") != nil {
		t.Error("dissolved group came back")
	}
	gs, _ := q.Groups(ctx)
	if len(gs) != 1 {
		t.Errorf("groups listed after reload = %v, want only the renamed one", gs)
	}
	// A group created after the reload gets a fresh id, as it would have.
	id, err := q.CreateGroup(ctx, "新群", q.User("王老师").ID, q.User("王老师").ID)
	if err != nil || id == g1 {
		t.Errorf("new group id %s (err %v) collides", id, err)
	}
}
