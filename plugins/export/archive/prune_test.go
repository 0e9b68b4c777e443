package archive

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qunguan/qunguan/bot"
)

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	stamp := func(age time.Duration) string { return now.Add(-age).Format(nameTimeLayout) }
	day := 24 * time.Hour
	mkdir := func(name string, manifest bool) {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if manifest {
			os.WriteFile(filepath.Join(p, ManifestFile), []byte("{}"), 0o600)
		}
	}
	touch := func(name string) { os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600) }

	mkdir("群-g_a-"+stamp(40*day), true)      // old archive: goes
	touch("群-g_a-" + stamp(40*day) + ".zip") // its zip: goes
	touch("群-g_b-" + stamp(31*day) + ".zip.age")
	mkdir("群-g_c-"+stamp(29*day), true)                      // young: stays
	touch("群-g_c-" + stamp(29*day) + ".zip")                 // stays
	mkdir("群-g_d-"+stamp(40*day), false)                     // no manifest: not ours, stays
	mkdir("群-g_e-"+stamp(40*day)+partialSuffix, false)       // crash leftover: goes
	mkdir("群-g_f-"+stamp(time.Hour)+partialSuffix, false)    // being written: stays
	touch("群-g_g-" + stamp(40*day) + ".zip" + partialSuffix) // goes
	touch("notes-" + stamp(40*day) + ".txt")                 // not an archive name: stays
	touch("random.zip")                                      // stays
	mkdir("g_h-"+stamp(40*day)+".zip", true)                 // a folder named like a zip: stays

	removed, err := Prune(dir, 0, now) // 0 means DefaultRetention
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range removed {
		got = append(got, filepath.Base(p))
	}
	slices.Sort(got)
	want := []string{
		"群-g_a-" + stamp(40*day),
		"群-g_a-" + stamp(40*day) + ".zip",
		"群-g_b-" + stamp(31*day) + ".zip.age",
		"群-g_e-" + stamp(40*day) + partialSuffix,
		"群-g_g-" + stamp(40*day) + ".zip" + partialSuffix,
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	left := listDir(t, dir)
	for _, w := range want {
		if slices.Contains(left, w) {
			t.Errorf("%s still there", w)
		}
	}
	if len(left) != 7 {
		t.Errorf("left %q", left)
	}
}

func TestPruneShortWindowSparesPartials(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	name := "g_x-" + now.Add(-2*time.Hour).Format(nameTimeLayout)
	os.Mkdir(filepath.Join(dir, name+partialSuffix), 0o700)
	os.WriteFile(filepath.Join(dir, name+".zip"), nil, 0o600)
	removed, err := Prune(dir, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || filepath.Base(removed[0]) != name+".zip" {
		t.Errorf("removed %q; a partial younger than a day must stay", removed)
	}
}

func TestPruneRealArchive(t *testing.T) {
	_, _, dir := writeCorpus(t, nil)
	if removed, _ := Prune(dir, DefaultRetention, exportNow.Add(29*24*time.Hour)); len(removed) != 0 {
		t.Errorf("pruned a young archive: %q", removed)
	}
	removed, err := Prune(dir, DefaultRetention, exportNow.Add(31*24*time.Hour))
	if err != nil || len(removed) != 2 {
		t.Fatalf("Prune = %q, %v", removed, err)
	}
	if len(listDir(t, dir)) != 0 {
		t.Errorf("left %q", listDir(t, dir))
	}
}

func TestOfflineGaps(t *testing.T) {
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	now := h(100)
	for _, c := range []struct {
		name       string
		start, end time.Time
		sessions   []bot.Session
		want       []Gap
	}{
		{"no sessions: all offline", h(0), h(10), nil, []Gap{newGap(h(0), h(10))}},
		{"covered", h(0), h(10), []bot.Session{{Start: h(-1), End: h(11)}}, nil},
		{"hole in the middle", h(0), h(10), []bot.Session{{Start: h(-1), End: h(3)}, {Start: h(5), End: h(12)}},
			[]Gap{newGap(h(3), h(5))}},
		{"overlapping and unsorted", h(0), h(10), []bot.Session{{Start: h(4), End: h(10)}, {Start: h(0), End: h(2)}, {Start: h(1), End: h(5)}}, nil},
		{"late start and early end", h(0), h(10), []bot.Session{{Start: h(2), End: h(8)}},
			[]Gap{newGap(h(0), h(2)), newGap(h(8), h(10))}},
		{"crashed session counts to its last heartbeat", h(0), h(10), []bot.Session{{Start: h(0), LastAlive: h(6)}},
			[]Gap{newGap(h(6), h(10))}},
		{"running session counts to now", h(90), h(100), []bot.Session{{Start: h(90), LastAlive: now.Add(-time.Minute)}}, nil},
		{"sessions outside the window", h(0), h(10), []bot.Session{{Start: h(-5), End: h(-1)}, {Start: h(11), End: h(12)}},
			[]Gap{newGap(h(0), h(10))}},
		{"empty window", h(5), h(5), nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, offlineGaps(c.start, c.end, now, c.sessions)); diff != "" {
				t.Errorf("gaps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGapsComeFromSessionsInTheManifest(t *testing.T) {
	src := corpus(t, t.TempDir())
	src.sessions = []bot.Session{
		{Start: t0.Add(-3 * time.Hour), End: t0.Add(time.Hour)},
		{Start: t0.Add(3 * time.Hour), End: t0.Add(4 * time.Hour)},
		{Start: t0.Add(10 * time.Hour), LastAlive: t0.Add(12 * time.Hour)}, // crashed, never closed
	}
	res, err := Write(context.Background(), src, testOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	want := []Gap{newGap(t0.Add(time.Hour), t0.Add(3*time.Hour)), newGap(t0.Add(4*time.Hour), t0.Add(10*time.Hour)), newGap(t0.Add(12*time.Hour), exportNow)}
	if diff := cmp.Diff(want, res.Manifest.Coverage.Gaps); diff != "" {
		t.Errorf("gaps (-want +got):\n%s", diff)
	}
	if res.Manifest.Coverage.OfflineSeconds != int64((2+6+8)*3600) {
		t.Errorf("offline = %d s", res.Manifest.Coverage.OfflineSeconds)
	}
}
