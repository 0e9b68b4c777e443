package bottest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot/simbot"
)

// BenchmarkThousandGroups measures the runtime's memory with 1,000
// simulated groups of 50 members after login and some traffic, and the
// cost of handling one group message end to end (identity bookkeeping,
// recording, command check, plugins, durable commit in sync mode).
func BenchmarkThousandGroups(b *testing.B) {
	const groups, members = 1000, 50
	var w strings.Builder
	w.WriteString("self: 群管机器人\nusers:\n  - {nick: 王老师, remark: 运营-王老师, friend: true}\ngroups:\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&w, "  - name: 群%04d\n    members: [王老师", g)
		for m := 0; m < members; m++ {
			fmt.Fprintf(&w, ", m%d_%d", g, m)
		}
		w.WriteString("]\n")
	}
	cfg := "platform: sim\noperators: [运营-王老师]\nmanage_all_groups: true\n"
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	bt, err := simbot.New(b.TempDir(), simbot.Options{World: w.String(), Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	defer bt.Close()
	for g := 0; g < groups; g++ {
		bt.Sim.Say(fmt.Sprintf("群%04d", g), fmt.Sprintf("m%d_0", g), "大家好")
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	heapMB := float64(after.HeapInuse-before.HeapInuse) / (1 << 20)
	if n := len(bt.RT.ManagedGroups()); n != groups {
		b.Fatalf("managed groups = %d", n)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g := i % groups
		bt.Sim.Say(fmt.Sprintf("群%04d", g), fmt.Sprintf("m%d_%d", g, i%members), "今天的作业是什么？")
	}
	b.StopTimer()
	if err := bt.Store.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(heapMB, "heap-MB")
}
