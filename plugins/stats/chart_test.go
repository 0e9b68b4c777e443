package stats_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunguan/qunguan/bot"
	"github.com/qunguan/qunguan/bot/bottest"
	"github.com/qunguan/qunguan/bot/sim"
	"github.com/qunguan/qunguan/plugins/stats"
)

// replyChart runs /stats in a group with some history and returns the PNG
// bytes the bot sent, read while the file still existed.
func replyChart(t *testing.T, cmd string) []byte {
	t.Helper()
	h := bottest.New(t, bottest.Options{Plugins: plugins})
	var png []byte
	var sent []string
	h.Sim.OnAction(func(a sim.Action) {
		sent = append(sent, a.Kind+" "+a.To)
		if a.Kind == "send_image" {
			data, err := os.ReadFile(a.Path)
			if err != nil {
				t.Errorf("read sent image: %v", err)
			}
			png = data
		}
	})
	for i := 0; i < 10; i++ {
		h.Do("alice@技术交流群: 早", "bob@技术交流群: 早上好", "image carol@技术交流群 cat.jpg")
		if i%3 == 0 {
			h.Do("+dave@技术交流群 by alice")
		}
		if i == 5 {
			h.Do("-dave@技术交流群")
		}
		h.Do("advance 1d")
	}
	h.Do(cmd)
	if png == nil {
		t.Fatalf("no image sent; actions: %v", sent)
	}
	return png
}

func TestStatsReplyImage(t *testing.T) {
	t.Parallel()
	data := replyChart(t, "王老师@技术交流群: /统计")
	if dir := os.Getenv("QUNGUAN_STATS_PNG"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "reply-30d.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reply is not a PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != stats.ChartWidth || b.Dy() != stats.ChartHeight {
		t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), stats.ChartWidth, stats.ChartHeight)
	}

	// Several distinct colours, and each series' own colour is drawn.
	colours := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			colours[rgba(img.At(x, y))]++
		}
	}
	if len(colours) < 20 {
		t.Errorf("only %d distinct colours: the chart looks blank", len(colours))
	}
	for name, c := range map[string]color.RGBA{
		"messages": {0x1f, 0x77, 0xb4, 0xff}, "active": {0xff, 0x7f, 0x0e, 0xff},
		"joins": {0x2c, 0xa0, 0x2c, 0xff}, "leaves": {0xd6, 0x27, 0x28, 0xff},
	} {
		if colours[c] < 10 {
			t.Errorf("series %s: %d pixels of its colour %v", name, colours[c], c)
		}
	}

	// The plot area is not empty: lines and the filled message area.
	ink, total := 0, 0
	for y := 80; y < 440; y++ {
		for x := 120; x < 840; x++ {
			total++
			if c := rgba(img.At(x, y)); c != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
				ink++
			}
		}
	}
	if ink*100 < total*5 {
		t.Errorf("plot area: %d of %d pixels drawn, want at least 5%%", ink, total)
	}

	// The Chinese title is drawn with real glyphs: the reply's title strip
	// is exactly what the same title renders to, and that differs from the
	// same title drawn with the font's notdef glyph (a tofu box) instead.
	font, err := stats.CJKFont()
	if err != nil {
		t.Fatal(err)
	}
	title := "技术交流群 · 近 30 天"
	if !stats.Covers(font, title) {
		t.Fatalf("the font lacks glyphs of %q", title)
	}
	tofu := strings.Map(func(r rune) rune {
		if r > 0x2e80 {
			return '\uE000' // not in the font: drawn as notdef
		}
		return r
	}, title)
	if stats.Covers(font, tofu) {
		t.Fatal("U+E000 is in the font; pick another missing rune")
	}
	want := titleStrip(t, render(t, title))
	boxes := titleStrip(t, render(t, tofu))
	got := titleStrip(t, img)
	if !bytes.Equal(got, want) {
		t.Error("the reply's title is not the Chinese title as the font draws it")
	}
	if bytes.Equal(want, boxes) {
		t.Error("the title renders the same as notdef boxes: tofu")
	}
	if inked(want) < 200 {
		t.Errorf("title strip has only %d drawn pixels", inked(want))
	}
}

func rgba(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// render draws a small chart with the given title and default labels.
func render(t *testing.T, title string) image.Image {
	t.Helper()
	font, err := stats.CJKFont()
	if err != nil {
		t.Fatal(err)
	}
	days := []stats.Day{{Date: 20260301, Messages: 3, Active: 2, Observed: true}, {Date: 20260302, Messages: 5, Active: 3, Observed: true}}
	var buf bytes.Buffer
	labels := stats.ChartLabels{Title: title, Messages: "消息", Active: "活跃成员", Joins: "入群", Leaves: "退群", YLeft: "消息（条）", YRight: "人数", Today: "今天（未结束）", Unobserved: "无记录"}
	if err := stats.RenderChart(&buf, days, labels, font); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// titleStrip returns the pixels of the band the title is drawn in, short
// of the corners where the axis titles are.
func titleStrip(t *testing.T, img image.Image) []byte {
	t.Helper()
	var out []byte
	for y := 0; y < 48; y++ {
		for x := 160; x < stats.ChartWidth-160; x++ {
			c := rgba(img.At(x, y))
			out = append(out, c.R, c.G, c.B)
		}
	}
	return out
}

func inked(strip []byte) int {
	n := 0
	for i := 0; i+2 < len(strip); i += 3 {
		if strip[i] < 0xc0 || strip[i+1] < 0xc0 || strip[i+2] < 0xc0 {
			n++
		}
	}
	return n
}

// TestChartLabelsNeverTofu checks every chart label in both languages is
// covered by the embedded font, and that labels it cannot draw fall back.
func TestChartLabelsNeverTofu(t *testing.T) {
	font, err := stats.CJKFont()
	if err != nil {
		t.Fatal(err)
	}
	covers := func(s string) bool { return stats.Covers(font, s) }
	cat := stats.New().Texts()
	for _, lang := range []bot.Lang{bot.LangZH, bot.LangEN} {
		for key, tx := range cat {
			if strings.HasPrefix(key, "stats.chart.") && !covers(tx.In(lang)) {
				t.Errorf("%s (%s): %q has characters the font lacks", key, lang, tx.In(lang))
			}
		}
	}
	render := func(over map[string]string) func(string, map[string]string) string {
		return func(key string, vars map[string]string) string {
			if s, ok := over[key]; ok {
				return bot.Render(s, vars)
			}
			return bot.Render(cat[key].In(bot.LangZH), vars)
		}
	}
	english := func(key string, vars map[string]string) string { return bot.Render(cat[key].In(bot.LangEN), vars) }

	// An emoji in the group name is dropped, the rest kept.
	l, notes := stats.ChartLabelsFor(render(nil), english, "🎉技术交流群", "g_0001", 30, covers)
	if l.Title != "技术交流群 · 近 30 天" || len(notes) != 1 {
		t.Errorf("emoji name: title %q notes %v", l.Title, notes)
	}
	// A name of nothing but emoji falls back to the id.
	l, _ = stats.ChartLabelsFor(render(nil), english, "🎉🎉", "g_0001", 7, covers)
	if l.Title != "g_0001 · 近 7 天" {
		t.Errorf("emoji-only name: title %q", l.Title)
	}
	// An operator's override the font cannot draw falls back to English.
	l, notes = stats.ChartLabelsFor(render(map[string]string{"stats.chart.messages": "消息😀"}), english, "读书会", "g_0002", 30, covers)
	if l.Messages != "messages" || l.Title != "读书会 · last 30 days" || len(notes) != 1 {
		t.Errorf("override: %+v notes %v", l, notes)
	}
	for _, s := range []string{l.Title, l.Messages, l.Active, l.Joins, l.Leaves, l.YLeft, l.YRight, l.Today, l.Unobserved} {
		if !covers(s) {
			t.Errorf("label %q would draw boxes", s)
		}
	}
}

// TestChartEdgeCases: a single day, only zeros, nothing observed yet and a
// day with a thousand messages all draw a valid PNG.
func TestChartEdgeCases(t *testing.T) {
	font, err := stats.CJKFont()
	if err != nil {
		t.Fatal(err)
	}
	labels := stats.ChartLabels{Title: "读书会 · 近 1 天", Messages: "消息", Active: "活跃成员", Joins: "入群", Leaves: "退群", YLeft: "消息（条）", YRight: "人数", Today: "今天（未结束）", Unobserved: "无记录"}
	for name, days := range map[string][]stats.Day{
		"one day":      {{Date: 20260302, Messages: 4, Active: 2, Observed: true}},
		"zeros":        {{Date: 20260301, Observed: true}, {Date: 20260302, Observed: true}},
		"not observed": {{Date: 20260301}, {Date: 20260302}},
		"busy":         {{Date: 20260301, Messages: 1000, Active: 120, Joins: 40, Observed: true}, {Date: 20260302, Messages: 3, Observed: true}},
	} {
		var buf bytes.Buffer
		if err := stats.RenderChart(&buf, days, labels, font); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := png.Decode(&buf); err != nil {
			t.Errorf("%s: not a PNG: %v", name, err)
		}
	}
	if err := stats.RenderChart(&bytes.Buffer{}, nil, labels, font); err == nil {
		t.Error("no days drew a chart")
	}
}
