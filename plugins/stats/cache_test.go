package stats

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/qunguan/qunguan/bot"
)

func TestCacheRoundTrip(t *testing.T) {
	days := []Day{
		{Date: 20260301, Messages: 3, Bot: 1, Media: 1, Joins: 2, Leaves: 1, ModHits: 4, Active: 2, Observed: true,
			Speakers: map[bot.UserID]int{"u_a": 2, "u_b": 1}},
		{Date: 20260302, Observed: true},
		{Date: 20260303, Messages: 700, Active: 1, Observed: true, Speakers: map[bot.UserID]int{"u_b": 700}},
	}
	raw := encodeCache(days, "Asia/Shanghai")
	got, err := decodeCache(raw, "Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(days, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	if _, err := decodeCache(raw, "UTC"); err == nil {
		t.Error("a value cut in another zone was accepted")
	}
	for i := 0; i < len(raw); i++ {
		if _, err := decodeCache(raw[:i], "Asia/Shanghai"); err == nil {
			t.Errorf("a value cut at %d bytes was accepted", i)
		}
	}
	if _, err := decodeCache(append([]byte{1}, raw[1:]...), "Asia/Shanghai"); err == nil {
		t.Error("a value of version 1 was accepted")
	}
}
