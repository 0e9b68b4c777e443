package stats

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
)

func TestValueTicks(t *testing.T) {
	cases := []struct {
		left, right int
		wantL       []int
		wantR       []int
	}{
		// Nothing yet: whole steps of one, never 0,1,1,2,2,...
		{0, 0, []int{0, 1, 2, 3, 4}, []int{0, 1, 2, 3, 4}},
		// The QA report's group: up to 5 messages and 3 people a day.
		{5, 3, []int{0, 1, 2, 3, 4, 5}, []int{0, 1, 2, 3, 4, 5}},
		{7, 5, []int{0, 2, 4, 6, 8, 10}, []int{0, 1, 2, 3, 4, 5}},
		{8, 4, []int{0, 2, 4, 6, 8}, []int{0, 1, 2, 3, 4}},
		// A 300-member group.
		{315, 59, []int{0, 100, 200, 300, 400}, []int{0, 20, 40, 60, 80}},
		{363, 60, []int{0, 100, 200, 300, 400}, []int{0, 20, 40, 60, 80}},
		{1000, 120, []int{0, 200, 400, 600, 800, 1000}, []int{0, 25, 50, 75, 100, 125}},
	}
	for _, c := range cases {
		l, r := valueTicks(c.left, c.right)
		if !slices.Equal(l, c.wantL) || !slices.Equal(r, c.wantR) {
			t.Errorf("valueTicks(%d, %d) = %v, %v; want %v, %v", c.left, c.right, l, r, c.wantL, c.wantR)
		}
	}
	// Every pair up to a busy group: whole numbers from 0, strictly
	// increasing in equal steps, the same count on both sides, the top at
	// or above the largest value and not wastefully far above it.
	for ml := 0; ml <= 1200; ml += 1 + ml/50 {
		for mr := 0; mr <= 300; mr += 1 + mr/20 {
			l, r := valueTicks(ml, mr)
			if len(l) != len(r) || len(l) < 5 || len(l) > 7 {
				t.Fatalf("valueTicks(%d, %d): %v and %v", ml, mr, l, r)
			}
			for _, side := range []struct {
				max   int
				ticks []int
			}{{ml, l}, {mr, r}} {
				ts := side.ticks
				step := ts[1] - ts[0]
				if ts[0] != 0 || step < 1 {
					t.Fatalf("valueTicks(%d, %d): %v", ml, mr, ts)
				}
				for i := 1; i < len(ts); i++ {
					if ts[i]-ts[i-1] != step {
						t.Fatalf("valueTicks(%d, %d): uneven %v", ml, mr, ts)
					}
				}
				top := ts[len(ts)-1]
				if top < side.max {
					t.Fatalf("valueTicks(%d, %d): top %d below %d", ml, mr, top, side.max)
				}
				if side.max >= 4 && top > 3*side.max {
					t.Fatalf("valueTicks(%d, %d): top %d for a largest value of %d", ml, mr, top, side.max)
				}
			}
		}
	}
}

func TestDayTicks(t *testing.T) {
	for n := 1; n <= keepDays; n++ {
		ticks := dayTicks(n)
		if len(ticks) == 0 || len(ticks) > maxDayLabels || ticks[len(ticks)-1] != n-1 {
			t.Fatalf("dayTicks(%d) = %v: want at most %d, the last one today", n, ticks, maxDayLabels)
		}
		step := n
		if len(ticks) > 1 {
			step = ticks[1] - ticks[0]
		}
		for i := 1; i < len(ticks); i++ {
			if ticks[i]-ticks[i-1] != step {
				t.Fatalf("dayTicks(%d) = %v: uneven", n, ticks)
			}
		}
		if n <= maxDayLabels && len(ticks) != n {
			t.Errorf("dayTicks(%d) = %v: want every day", n, ticks)
		}
	}
	for n, step := range map[int]int{7: 1, 14: 1, 28: 2, 30: 3, 60: 5, 90: 7} {
		if ticks := dayTicks(n); len(ticks) > 1 && ticks[1]-ticks[0] != step {
			t.Errorf("dayTicks(%d) = %v: want every %d days", n, ticks, step)
		}
	}
}

// sampleDays makes n days ending 2026-03-31 (today, partial): a small
// group (a handful of people) or a busy 300-member one, with the first
// unobserved days not yet seen by the bot.
func sampleDays(n, unobserved int, busy bool) []Day {
	start := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC).AddDate(0, 0, -(n - 1))
	out := make([]Day, n)
	for i := range out {
		t := start.AddDate(0, 0, i)
		d := Day{Date: t.Year()*10000 + int(t.Month())*100 + t.Day(), Observed: i >= unobserved}
		if d.Observed {
			weekend := t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
			if busy {
				d.Messages, d.Active, d.Joins, d.Leaves = 180+(i*37)%140, 35+(i*13)%25, (i*7)%6, (i*5)%4
				if weekend {
					d.Messages, d.Active = d.Messages*3/5, d.Active*3/5
				}
			} else {
				d.Messages, d.Active = 2+(i*7)%5, 1+(i*3)%4
				if i%9 == 0 {
					d.Joins = 1
				}
				if i%13 == 5 {
					d.Leaves = 1
				}
			}
		}
		out[i] = d
	}
	// Today has only begun.
	out[n-1].Messages /= 4
	out[n-1].Active /= 3
	return out
}

var testLabels = ChartLabels{Title: "技术交流群 · 近 N 天", Messages: "消息", Active: "活跃成员", Joins: "入群", Leaves: "退群",
	YLeft: "消息（条）", YRight: "人数", Today: "今天（未结束）", Unobserved: "无记录"}

// traced renders days and returns the image and what was drawn.
func traced(t *testing.T, days []Day) (image.Image, *chartTrace, []byte) {
	t.Helper()
	font, err := CJKFont()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tr := &chartTrace{}
	if err := renderChart(&buf, days, testLabels, font, tr); err != nil {
		t.Fatal(err)
	}
	raw := slices.Clone(buf.Bytes())
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return img, tr, raw
}

// axisLabels sorts the traced texts into the tick labels of the left and
// right axes (bottom up) and of the x axis (left to right).
func axisLabels(tr *chartTrace) (left, right, x []tracedText) {
	cb := tr.canvas
	for _, tx := range tr.texts {
		if tx.text == "" {
			continue // the unlabelled ticks at the ends of the x axis
		}
		b := tx.box
		mid := (b.Top + b.Bottom) / 2
		inRows := mid >= cb.Top-10 && mid <= cb.Bottom+10
		switch {
		case inRows && b.Right <= cb.Left:
			left = append(left, tx)
		case inRows && b.Left >= cb.Right:
			right = append(right, tx)
		case b.Top > cb.Bottom && b.Bottom < ChartHeight-30:
			x = append(x, tx)
		}
	}
	slices.SortFunc(left, func(a, b tracedText) int { return b.box.Top - a.box.Top })
	slices.SortFunc(right, func(a, b tracedText) int { return b.box.Top - a.box.Top })
	slices.SortFunc(x, func(a, b tracedText) int { return a.box.Left - b.box.Left })
	return left, right, x
}

// TestChartLayout renders small and busy groups over 7, 30 and 90 days
// and checks what was drawn: whole-number y ticks without repeats, dates
// once each and centred on their day, the axis titles and legend clear of
// every other text, all inside the image. QUNGUAN_STATS_PNG=DIR saves the
// PNGs to look at.
func TestChartLayout(t *testing.T) {
	dir := os.Getenv("QUNGUAN_STATS_PNG")
	for _, n := range []int{7, 30, 90} {
		for _, busy := range []bool{false, true} {
			for _, unobserved := range []int{0, n / 3} {
				name := fmt.Sprintf("%s-%dd", map[bool]string{false: "small", true: "busy"}[busy], n)
				if unobserved > 0 {
					name += "-new"
				}
				t.Run(name, func(t *testing.T) {
					days := sampleDays(n, unobserved, busy)
					_, tr, raw := traced(t, days)
					if dir != "" {
						if err := os.WriteFile(filepath.Join(dir, name+".png"), raw, 0o644); err != nil {
							t.Fatal(err)
						}
					}
					checkLayout(t, days, tr)
				})
			}
		}
	}
}

func checkLayout(t *testing.T, days []Day, tr *chartTrace) {
	t.Helper()
	n := len(days)
	cb := tr.canvas
	if cb.Width() < ChartWidth/2 || cb.Height() < ChartHeight/2 {
		t.Fatalf("plot area %+v", cb)
	}
	left, right, xs := axisLabels(tr)
	// Y ticks: whole numbers from 0, no repeats, as many on both sides and
	// level with each other (one set of grid lines).
	for side, ticks := range map[string][]tracedText{"left": left, "right": right} {
		prev := -1
		for _, tx := range ticks {
			v, err := strconv.Atoi(tx.text)
			if err != nil || v <= prev {
				t.Errorf("%s axis labels %v: %q is not a whole number above %d", side, strs(ticks), tx.text, prev)
			}
			prev = v
		}
	}
	if len(left) != len(right) || len(left) < 5 {
		t.Errorf("y labels: left %v, right %v", strs(left), strs(right))
	} else {
		for i := range left {
			if d := left[i].box.Bottom - right[i].box.Bottom; d < -1 || d > 1 {
				t.Errorf("y labels %q and %q are not level", left[i].text, right[i].text)
			}
		}
	}
	// The largest values fit under the top ticks.
	maxMsgs, maxPeople := 0, 0
	for _, d := range days {
		maxMsgs, maxPeople = max(maxMsgs, d.Messages), max(maxPeople, d.Active, d.Joins, d.Leaves)
	}
	if top, _ := strconv.Atoi(left[len(left)-1].text); top < maxMsgs {
		t.Errorf("left top %d under %d messages", top, maxMsgs)
	}
	if top, _ := strconv.Atoi(right[len(right)-1].text); top < maxPeople {
		t.Errorf("right top %d under %d people", top, maxPeople)
	}
	// X ticks: dates in order, each once, centred on its day.
	want := dayTicks(n)
	if len(xs) != len(want) {
		t.Fatalf("x labels %v, want %d", strs(xs), len(want))
	}
	dayWidth := float64(cb.Width()) / float64(n)
	for k, i := range want {
		tx := xs[k]
		if tx.text != FormatDate(days[i].Date, false) {
			t.Errorf("x label %d is %q, want %s", k, tx.text, FormatDate(days[i].Date, false))
		}
		centre := float64(tx.box.Left+tx.box.Right) / 2
		if at := float64(cb.Left) + (float64(i)+0.5)*dayWidth; centre < at-2 || centre > at+2 {
			t.Errorf("x label %q centred at %.0f, its day at %.0f", tx.text, centre, at)
		}
	}
	if n <= maxDayLabels && len(xs) != n {
		t.Errorf("%d days, %d dates: want one per day", n, len(xs))
	}
	// Axis titles above the plot; no two texts overlap; all inside.
	for _, title := range []string{testLabels.YLeft, testLabels.YRight, testLabels.Today} {
		if !slices.Contains(strs(tr.texts), title) {
			t.Errorf("%q not drawn", title)
		}
	}
	for i, a := range tr.texts {
		b := a.box
		if b.Left < 0 || b.Top < 0 || b.Right > ChartWidth || b.Bottom > ChartHeight {
			t.Errorf("%q at %+v is outside the image", a.text, b)
		}
		if (a.text == testLabels.YLeft || a.text == testLabels.YRight) && b.Bottom > cb.Top-8 {
			t.Errorf("axis title %q at %+v runs into the plot (top %d)", a.text, b, cb.Top)
		}
		for _, c := range tr.texts[i+1:] {
			if a.text != "" && c.text != "" && overlap(b, c.box) {
				t.Errorf("%q at %+v overlaps %q at %+v", a.text, b, c.text, c.box)
			}
		}
	}
}

func strs(ts []tracedText) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.text
	}
	return out
}

func overlap(a, b chart.Box) bool {
	return a.Left < b.Right && b.Left < a.Right && a.Top < b.Bottom && b.Top < a.Bottom
}

// TestChartPoints checks the pixels of a 7-day chart where messages and
// active members are equal: each day's point is drawn in the active
// colour where its value is, on its date, and a bar of messages stands
// under it in the messages' colour (the series stay apart); today's bar
// is paler and its point hollow.
func TestChartPoints(t *testing.T) {
	days := make([]Day, 7)
	for i := range days {
		v := []int{3, 1, 2, 3, 2, 1, 2}[i]
		days[i] = Day{Date: 20260305 + i, Messages: v, Active: v, Observed: true}
	}
	img, tr, _ := traced(t, days)
	cb := tr.canvas
	_, right, xs := axisLabels(tr)
	top, _ := strconv.Atoi(right[len(right)-1].text)
	if len(xs) != 7 {
		t.Fatalf("x labels %v", strs(xs))
	}
	orange := color.RGBA{0xff, 0x7f, 0x0e, 0xff}
	for i, d := range days {
		x := (xs[i].box.Left + xs[i].box.Right) / 2
		y := cb.Bottom - int(float64(d.Active)/float64(top)*float64(cb.Height())+0.5)
		if i < 6 {
			if c := rgbaAt(img, x, y); !near(c, orange, 40) {
				t.Errorf("%s: %v at the point (%d,%d), want orange", xs[i].text, c, x, y)
			}
		} else if c := rgbaAt(img, x, y); c.R != 0xff || c.G != 0xff || c.B != 0xff {
			t.Errorf("today: %v inside the point (%d,%d), want it hollow", c, x, y)
		}
		// Halfway down the bar: the bar's fill, a blend of blue on white.
		bar := rgbaAt(img, x+8, (y+cb.Bottom)/2)
		if bar.B <= bar.R+20 || bar.B < 0xc0 {
			t.Errorf("%s: %v inside the bar, want pale blue", xs[i].text, bar)
		}
		if i == 6 {
			if past := rgbaAt(img, (xs[0].box.Left+xs[0].box.Right)/2+8, (y+cb.Bottom)/2); bar.R <= past.R {
				t.Errorf("today's bar %v is not paler than a finished day's %v", bar, past)
			}
		}
	}
}

func rgbaAt(img image.Image, x, y int) color.RGBA {
	r, g, b, a := img.At(x, y).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) <= tol && d(a.G, b.G) <= tol && d(a.B, b.B) <= tol
}
