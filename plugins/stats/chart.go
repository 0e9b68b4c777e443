package stats

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
	"unicode"

	"github.com/golang/freetype/truetype"
	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// fontGz is a GB 2312 subset of WenQuanYi Micro Hei (Apache-2.0); see
// fonts/README.md for its origin and fonts/subset.sh to rebuild it.
//
//go:embed fonts/wqy-microhei-gb2312.ttf.gz
var fontGz []byte

// CJKFont returns the embedded CJK font, parsed once.
var CJKFont = sync.OnceValues(func() (*truetype.Font, error) {
	zr, err := gzip.NewReader(bytes.NewReader(fontGz))
	if err != nil {
		return nil, fmt.Errorf("chart font: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("chart font: %w", err)
	}
	f, err := truetype.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("chart font: %w", err)
	}
	return f, nil
})

// Covers reports whether f has a glyph for every visible rune of s; a
// missing one would be drawn as the notdef box (tofu).
func Covers(f *truetype.Font, s string) bool {
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			continue
		}
		if f.Index(r) == 0 {
			return false
		}
	}
	return true
}

// ChartLabels are the chart's texts, already in the reader's language.
type ChartLabels struct {
	Title    string
	Messages string
	Active   string
	Joins    string
	Leaves   string
	// YLeft names the message axis, YRight the people axis.
	YLeft, YRight string
}

func (l ChartLabels) all() []string {
	return []string{l.Title, l.Messages, l.Active, l.Joins, l.Leaves, l.YLeft, l.YRight}
}

// Series colours: distinct hues that stay apart for colour-blind readers.
var (
	colorMessages = drawing.Color{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	colorActive   = drawing.Color{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff} // orange
	colorJoins    = drawing.Color{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff} // green
	colorLeaves   = drawing.Color{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // red
)

// Chart geometry, also used by the tests to find the plot area.
const (
	ChartWidth  = 960
	ChartHeight = 540
)

// RenderChart draws days (oldest first) as a PNG time series: messages on
// the left axis; active members, joins and leaves on the right one. Days
// the bot had not seen are left out. font must cover every label (see
// Covers); the caller picks labels that it does.
func RenderChart(w io.Writer, days []Day, loc *time.Location, labels ChartLabels, font *truetype.Font) error {
	if len(days) == 0 {
		return fmt.Errorf("chart: no days")
	}
	start := time.Date(days[0].Date/10000, time.Month(days[0].Date/100%100), days[0].Date%100, 12, 0, 0, 0, loc)
	end := start.AddDate(0, 0, len(days)-1)
	if !end.After(start) {
		end = start.Add(24 * time.Hour)
	}
	var xs []time.Time
	var msgs, active, joins, leaves []float64
	maxLeft, maxRight := 1.0, 1.0
	for i, d := range days {
		if !d.Observed {
			continue
		}
		xs = append(xs, start.AddDate(0, 0, i))
		msgs = append(msgs, float64(d.Messages))
		active = append(active, float64(d.Active))
		joins = append(joins, float64(d.Joins))
		leaves = append(leaves, float64(d.Leaves))
		maxLeft = math.Max(maxLeft, float64(d.Messages))
		maxRight = math.Max(maxRight, float64(max(d.Active, d.Joins, d.Leaves)))
	}
	if len(xs) == 0 {
		// Nothing observed yet: one zero point keeps the axes honest.
		xs, msgs, active, joins, leaves = []time.Time{end}, []float64{0}, []float64{0}, []float64{0}, []float64{0}
	}
	line := func(c drawing.Color, width float64, dash []float64) chart.Style {
		return chart.Style{StrokeColor: c, StrokeWidth: width, StrokeDashArray: dash, DotColor: c, DotWidth: 3}
	}
	series := []chart.Series{
		chart.TimeSeries{Name: labels.Messages, XValues: xs, YValues: msgs,
			Style: chart.Style{StrokeColor: colorMessages, StrokeWidth: 3, FillColor: colorMessages.WithAlpha(48), DotColor: colorMessages, DotWidth: 3}},
		chart.TimeSeries{Name: labels.Active, XValues: xs, YValues: active, YAxis: chart.YAxisSecondary, Style: line(colorActive, 3, nil)},
		chart.TimeSeries{Name: labels.Joins, XValues: xs, YValues: joins, YAxis: chart.YAxisSecondary, Style: line(colorJoins, 2, []float64{6, 3})},
		chart.TimeSeries{Name: labels.Leaves, XValues: xs, YValues: leaves, YAxis: chart.YAxisSecondary, Style: line(colorLeaves, 2, []float64{2, 3})},
	}
	axisText := chart.Style{FontSize: 11, FontColor: drawing.ColorFromHex("333333")}
	grid := chart.Style{StrokeColor: drawing.ColorFromHex("e0e0e0"), StrokeWidth: 1}
	graph := chart.Chart{
		Title:      labels.Title,
		TitleStyle: chart.Style{FontSize: 16, FontColor: drawing.ColorFromHex("222222")},
		Width:      ChartWidth, Height: ChartHeight, Font: font,
		Background: chart.Style{Padding: chart.Box{Top: 56, Left: 24, Right: 24, Bottom: 48}, FillColor: drawing.ColorWhite},
		XAxis: chart.XAxis{
			Style: axisText, GridMajorStyle: grid,
			Range:          &chart.ContinuousRange{Min: chart.TimeToFloat64(start.Add(-12 * time.Hour)), Max: chart.TimeToFloat64(end.Add(12 * time.Hour))},
			ValueFormatter: chart.TimeValueFormatterWithFormat("01-02"),
		},
		YAxis: chart.YAxis{
			Name: labels.YLeft, NameStyle: axisText, Style: axisText, GridMajorStyle: grid,
			Range:          &chart.ContinuousRange{Min: 0, Max: niceMax(maxLeft)},
			ValueFormatter: intFormatter,
		},
		YAxisSecondary: chart.YAxis{
			Name: labels.YRight, NameStyle: axisText, Style: axisText,
			Range:          &chart.ContinuousRange{Min: 0, Max: niceMax(maxRight)},
			ValueFormatter: intFormatter,
		},
		Series: series,
	}
	graph.Elements = []chart.Renderable{bottomLegend(&graph)}
	return graph.Render(chart.PNG, w)
}

// niceMax leaves headroom above the largest value and rounds up.
func niceMax(v float64) float64 {
	v *= 1.15
	if v < 5 {
		return 5
	}
	return math.Ceil(v)
}

func intFormatter(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("%d", int(math.Round(f)))
	}
	return fmt.Sprint(v)
}

// bottomLegend draws the series names with their line styles centred under
// the x axis, where they cover nothing (go-chart's own legends sit on the
// plot or where the title goes).
func bottomLegend(c *chart.Chart) chart.Renderable {
	return func(r chart.Renderer, cb chart.Box, defaults chart.Style) {
		r.SetFont(c.GetFont())
		r.SetFontSize(11)
		r.SetFontColor(drawing.ColorFromHex("333333"))
		const gap, lineLen = 24, 28
		total := 0
		for _, s := range c.Series {
			total += r.MeasureText(s.GetName()).Width() + 6 + lineLen + gap
		}
		x := (c.GetWidth() - total + gap) / 2
		y := c.GetHeight() - 12
		for _, s := range c.Series {
			st := s.GetStyle()
			r.SetStrokeColor(st.StrokeColor)
			r.SetStrokeWidth(st.StrokeWidth)
			r.SetStrokeDashArray(st.StrokeDashArray)
			r.MoveTo(x, y-5)
			r.LineTo(x+lineLen, y-5)
			r.Stroke()
			r.SetStrokeDashArray(nil)
			x += lineLen + 6
			r.SetFontColor(drawing.ColorFromHex("333333"))
			r.Text(s.GetName(), x, y)
			x += r.MeasureText(s.GetName()).Width() + gap
		}
	}
}
