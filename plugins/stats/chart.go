package stats

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"

	"strconv"
	"sync"
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
	// YLeft names the message axis (left), YRight the people axis (right).
	YLeft, YRight string
	// Today explains how today, which is not over yet, is drawn.
	Today string
	// Unobserved marks the days before the bot first saw the group.
	Unobserved string
}

func (l ChartLabels) all() []string {
	return []string{l.Title, l.Messages, l.Active, l.Joins, l.Leaves, l.YLeft, l.YRight, l.Today, l.Unobserved}
}

// Series colours: distinct hues that stay apart for colour-blind readers.
var (
	colorMessages = drawing.Color{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	colorActive   = drawing.Color{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff} // orange
	colorJoins    = drawing.Color{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff} // green
	colorLeaves   = drawing.Color{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // red
	colorText     = drawing.Color{R: 0x33, G: 0x33, B: 0x33, A: 0xff}
	colorGrid     = drawing.Color{R: 0xe0, G: 0xe0, B: 0xe0, A: 0xff}
	// colorUnobserved shades the days before the bot saw the group.
	colorUnobserved = drawing.Color{R: 0x99, G: 0x99, B: 0x99, A: 0x30}
)

// Bar fills: a finished day's bar and today's paler one.
const (
	barAlpha   = 0x70
	todayAlpha = 0x28
)

// Chart geometry, also used by the tests to find the plot area.
const (
	ChartWidth  = 960
	ChartHeight = 540
)

// maxDayLabels is how many dates the x axis shows at most; at 11 px a
// date is about 35 px wide, so 14 of them leave room between.
const maxDayLabels = 14

// dayLabelSteps are the spacings (in days) the x axis' dates may have.
var dayLabelSteps = []int{1, 2, 3, 5, 7, 10, 14, 15, 30}

// dayTicks returns the indexes of the n days (oldest first, the last one
// today) that get their date on the x axis: every day when they fit, else
// every step-th day counted back from today, with the smallest step that
// keeps at most maxDayLabels dates. Dates sit on the days' own positions.
func dayTicks(n int) []int {
	step := dayLabelSteps[len(dayLabelSteps)-1]
	for _, s := range dayLabelSteps {
		if (n+s-1)/s <= maxDayLabels {
			step = s
			break
		}
	}
	var out []int
	if n < 1 {
		return out
	}
	for i := (n - 1) % step; i < n; i += step {
		out = append(out, i)
	}
	return out
}

// valueTicks returns the tick values of the two y axes (messages on the
// left, people on the right): whole numbers from 0 in equal round steps,
// each axis' top at or above its largest value, and as many steps on both
// sides so that one set of grid lines serves both. Of 4, 5 or 6 steps it
// takes the one whose tops fit the data best.
func valueTicks(maxLeft, maxRight int) (left, right []int) {
	best, bestFill := 4, -1.0
	for k := 4; k <= 6; k++ {
		if fill := fillOf(maxLeft, k) + fillOf(maxRight, k); fill > bestFill+1e-9 {
			best, bestFill = k, fill
		}
	}
	return ticksOf(maxLeft, best), ticksOf(maxRight, best)
}

// fillOf is how much of an axis of k steps the largest value v reaches.
func fillOf(v, k int) float64 {
	if v <= 0 {
		return 0
	}
	return float64(v) / float64(k*niceStep(v, k))
}

func ticksOf(v, k int) []int {
	s := niceStep(v, k)
	out := make([]int, k+1)
	for i := range out {
		out[i] = i * s
	}
	return out
}

// niceStep returns the smallest round step (1, 2, 2.5 or 5 times a power
// of ten, and a whole number) of which k reach v.
func niceStep(v, k int) int {
	if v <= k {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, tenths := range []int{10, 20, 25, 50} {
			if tenths*p%10 != 0 {
				continue // 2.5 is not a whole number of messages
			}
			if s := tenths * p / 10; s*k >= v {
				return s
			}
		}
	}
}

// RenderChart draws days (oldest first, the last one today and not over
// yet) as a PNG: messages as bars on the left axis; active members, joins
// and leaves as lines on the right one. Today is drawn apart (a pale bar,
// hollow points not joined to the lines) so that a day just begun does
// not look like a drop, and the legend says so; days before the bot first
// saw the group are shaded. font must cover every label (see Covers); the
// caller picks labels that it does.
func RenderChart(w io.Writer, days []Day, labels ChartLabels, font *truetype.Font) error {
	return renderChart(w, days, labels, font, nil)
}

// chartTrace records what a render drew, for the tests: every text with
// its box, and the plot area.
type chartTrace struct {
	texts  []tracedText
	canvas chart.Box
}

type tracedText struct {
	text string
	box  chart.Box
}

// tracer is a renderer that records the texts drawn through it.
type tracer struct {
	chart.Renderer
	tr *chartTrace
}

func (t tracer) Text(body string, x, y int) {
	b := t.Renderer.MeasureText(body)
	t.tr.texts = append(t.tr.texts, tracedText{text: body, box: chart.Box{Left: x, Top: y - b.Height(), Right: x + b.Width(), Bottom: y}})
	t.Renderer.Text(body, x, y)
}

func renderChart(w io.Writer, days []Day, labels ChartLabels, font *truetype.Font, tr *chartTrace) error {
	if len(days) == 0 {
		return fmt.Errorf("chart: no days")
	}
	n := len(days)
	maxMsgs, maxPeople, firstObserved := 0, 0, n
	for i, d := range days {
		if !d.Observed {
			continue
		}
		firstObserved = min(firstObserved, i)
		maxMsgs = max(maxMsgs, d.Messages)
		maxPeople = max(maxPeople, d.Active, d.Joins, d.Leaves)
	}
	left, right := valueTicks(maxMsgs, maxPeople)
	topLeft, topRight := float64(left[len(left)-1]), float64(right[len(right)-1])

	// Both y axes run from 0 to 1, their ticks labelled with the real
	// numbers and the series scaled to their own axis' top: go-chart
	// v2.1.2 takes the secondary axis' range from the primary axis'
	// ticks, so only a shared scale lines the two up.
	yTicks := func(vals []int) []chart.Tick {
		top := float64(vals[len(vals)-1])
		out := make([]chart.Tick, len(vals))
		for i, v := range vals {
			out[i] = chart.Tick{Value: float64(v) / top, Label: strconv.Itoa(v)}
		}
		return out
	}
	var yGrid []chart.GridLine
	for i := 1; i < len(left); i++ {
		yGrid = append(yGrid, chart.GridLine{Value: float64(i) / float64(len(left)-1)})
	}
	// The x axis counts days: day i sits at i, its date under it. go-chart
	// takes the x range from the ticks, so unlabelled ticks half a day
	// beyond either end leave room for the first and last bar.
	xTicks := []chart.Tick{{Value: -0.5}}
	var xGrid []chart.GridLine
	for _, i := range dayTicks(n) {
		xTicks = append(xTicks, chart.Tick{Value: float64(i), Label: FormatDate(days[i].Date, false)})
		xGrid = append(xGrid, chart.GridLine{Value: float64(i)})
	}
	xTicks = append(xTicks, chart.Tick{Value: float64(n) - 0.5})

	people := []lineSpec{
		{name: labels.Joins, color: colorJoins, width: 2, dash: []float64{6, 3}, dot: 2.5, value: func(d Day) int { return d.Joins }},
		{name: labels.Leaves, color: colorLeaves, width: 2, dash: []float64{2, 3}, dot: 2.5, value: func(d Day) int { return d.Leaves }},
		{name: labels.Active, color: colorActive, width: 3, dot: 3.5, value: func(d Day) int { return d.Active }},
	}
	series := []chart.Series{
		plot{name: labels.Unobserved, axis: chart.YAxisPrimary, draw: func(r chart.Renderer, cb chart.Box, x, _ func(float64) int) {
			if firstObserved > 0 {
				box(r, x(-0.5), cb.Top, x(float64(firstObserved)-0.5), cb.Bottom, colorUnobserved, drawing.ColorTransparent, nil)
			}
		}},
		plot{name: labels.Messages, axis: chart.YAxisSecondary, draw: func(r chart.Renderer, _ chart.Box, x, y func(float64) int) {
			drawBars(r, days, x, y, topLeft)
		}},
	}
	for _, l := range people {
		series = append(series, plot{name: l.name, axis: chart.YAxisPrimary, draw: func(r chart.Renderer, _ chart.Box, x, y func(float64) int) {
			l.draw(r, days, x, y, topRight)
		}})
	}

	axisText := chart.Style{FontSize: 11, FontColor: colorText}
	grid := chart.Style{StrokeColor: colorGrid, StrokeWidth: 1}
	graph := chart.Chart{
		Title:      labels.Title,
		TitleStyle: chart.Style{FontSize: 16, FontColor: drawing.ColorFromHex("222222")},
		Width:      ChartWidth, Height: ChartHeight, Font: font,
		Background: chart.Style{Padding: chart.Box{Top: 64, Left: 24, Right: 24, Bottom: 48}, FillColor: drawing.ColorWhite},
		XAxis:      chart.XAxis{Style: axisText, GridMajorStyle: grid, Ticks: xTicks, GridLines: xGrid},
		YAxis: chart.YAxis{Style: axisText, GridMajorStyle: grid, Range: &chart.ContinuousRange{Min: 0, Max: 1},
			Ticks: yTicks(right), GridLines: yGrid},
		YAxisSecondary: chart.YAxis{Style: axisText, Range: &chart.ContinuousRange{Min: 0, Max: 1}, Ticks: yTicks(left)},
		Series:         series,
	}
	legend := []legendItem{{name: labels.Messages, swatch: barSwatch(colorMessages.WithAlpha(barAlpha), colorMessages, nil)}}
	for _, l := range people[2:] {
		legend = append(legend, legendItem{name: l.name, swatch: l.swatch})
	}
	for _, l := range people[:2] {
		legend = append(legend, legendItem{name: l.name, swatch: l.swatch})
	}
	if days[n-1].Observed {
		legend = append(legend, legendItem{name: labels.Today, swatch: todaySwatch})
	}
	if firstObserved > 0 {
		legend = append(legend, legendItem{name: labels.Unobserved, swatch: barSwatch(colorUnobserved, drawing.ColorTransparent, nil)})
	}
	graph.Elements = []chart.Renderable{axisTitles(font, labels, tr), bottomLegend(font, legend)}
	rp := chart.PNG
	if tr != nil {
		rp = func(w, h int) (chart.Renderer, error) {
			r, err := chart.PNG(w, h)
			return tracer{Renderer: r, tr: tr}, err
		}
	}
	return graph.Render(rp, w)
}

// plot is a series drawn by a function: go-chart's own series join every
// point and know nothing of bars or of a day that is not over.
type plot struct {
	name string
	axis chart.YAxisType
	// draw gets the plot area and the pixel positions of a day index and
	// of a value scaled to 0..1.
	draw func(r chart.Renderer, cb chart.Box, x, y func(float64) int)
}

func (p plot) GetName() string           { return p.name }
func (p plot) GetYAxis() chart.YAxisType { return p.axis }
func (p plot) GetStyle() chart.Style     { return chart.Style{} }
func (p plot) Validate() error           { return nil }

func (p plot) Render(r chart.Renderer, cb chart.Box, xr, yr chart.Range, _ chart.Style) {
	p.draw(r, cb, func(v float64) int { return cb.Left + xr.Translate(v) }, func(v float64) int { return cb.Bottom - yr.Translate(v) })
}

// box fills and outlines a rectangle; a transparent stroke draws none.
func box(r chart.Renderer, x0, y0, x1, y1 int, fill, stroke drawing.Color, dash []float64) {
	r.SetFillColor(fill)
	r.SetStrokeColor(stroke)
	r.SetStrokeWidth(1)
	r.SetStrokeDashArray(dash)
	r.MoveTo(x0, y0)
	r.LineTo(x1, y0)
	r.LineTo(x1, y1)
	r.LineTo(x0, y1)
	r.Close()
	if stroke.IsTransparent() {
		r.Fill()
	} else {
		r.FillStroke()
	}
	r.SetStrokeDashArray(nil)
}

// drawBars draws a bar of messages per observed day; today's is pale with
// a dashed outline.
func drawBars(r chart.Renderer, days []Day, x, y func(float64) int, top float64) {
	for i, d := range days {
		if !d.Observed || d.Messages == 0 {
			continue
		}
		x0, x1 := x(float64(i)-0.35), x(float64(i)+0.35)
		if x1-x0 < 2 {
			x1 = x0 + 2
		}
		fill, dash := colorMessages.WithAlpha(barAlpha), []float64(nil)
		if i == len(days)-1 {
			fill, dash = colorMessages.WithAlpha(todayAlpha), []float64{3, 2}
		}
		box(r, x0, y(float64(d.Messages)/top), x1, y(0), fill, colorMessages, dash)
	}
}

// lineSpec is one series of people drawn as a line.
type lineSpec struct {
	name  string
	color drawing.Color
	width float64
	dash  []float64
	// dot is the radius of the points.
	dot   float64
	value func(Day) int
}

// draw joins the finished observed days with a line (points on each when
// there is room) and marks today with a hollow point, not joined.
func (l lineSpec) draw(r chart.Renderer, days []Day, x, y func(float64) int, top float64) {
	last := len(days) - 1
	at := func(i int) (int, int) { return x(float64(i)), y(float64(l.value(days[i])) / top) }
	r.SetStrokeColor(l.color)
	r.SetStrokeWidth(l.width)
	r.SetStrokeDashArray(l.dash)
	started := false
	for i := 0; i < last; i++ {
		if !days[i].Observed {
			continue
		}
		px, py := at(i)
		if started {
			r.LineTo(px, py)
		} else {
			r.MoveTo(px, py)
			started = true
		}
	}
	if started {
		r.Stroke()
	}
	r.SetStrokeDashArray(nil)
	if x(1)-x(0) >= 12 {
		for i := 0; i < last; i++ {
			if days[i].Observed {
				px, py := at(i)
				dot(r, px, py, l.dot, l.color, l.color)
			}
		}
	}
	if last >= 0 && days[last].Observed {
		px, py := at(last)
		r.SetStrokeWidth(2)
		dot(r, px, py, l.dot+1, drawing.ColorWhite, l.color)
	}
}

func (l lineSpec) swatch(r chart.Renderer, x, y int) int {
	const length = 28
	r.SetStrokeColor(l.color)
	r.SetStrokeWidth(l.width)
	r.SetStrokeDashArray(l.dash)
	r.MoveTo(x, y)
	r.LineTo(x+length, y)
	r.Stroke()
	r.SetStrokeDashArray(nil)
	dot(r, x+length/2, y, l.dot, l.color, l.color)
	return length
}

func dot(r chart.Renderer, x, y int, radius float64, fill, stroke drawing.Color) {
	r.SetFillColor(fill)
	r.SetStrokeColor(stroke)
	r.Circle(radius, x, y)
	r.FillStroke()
}

// barSwatch is a small bar for the legend.
func barSwatch(fill, stroke drawing.Color, dash []float64) func(chart.Renderer, int, int) int {
	return func(r chart.Renderer, x, y int) int {
		box(r, x, y-5, x+16, y+5, fill, stroke, dash)
		return 16
	}
}

// todaySwatch is a pale dashed bar with a hollow point, as today is drawn.
func todaySwatch(r chart.Renderer, x, y int) int {
	barSwatch(colorMessages.WithAlpha(todayAlpha), colorMessages, []float64{3, 2})(r, x, y)
	r.SetStrokeWidth(2)
	dot(r, x+26, y, 4.5, drawing.ColorWhite, colorActive)
	return 31
}

// legendItem is one entry of the legend: a swatch that returns its width,
// and a name.
type legendItem struct {
	name   string
	swatch func(r chart.Renderer, x, y int) int
}

// bottomLegend draws the legend centred under the x axis, where it covers
// nothing (go-chart's own legends sit on the plot or where the title goes).
func bottomLegend(font *truetype.Font, items []legendItem) chart.Renderable {
	return func(r chart.Renderer, _ chart.Box, _ chart.Style) {
		r.SetFont(font)
		r.SetFontSize(11)
		const gap, pad = 24, 6
		// Measure the swatches by drawing them off the image.
		total := 0
		for _, it := range items {
			total += it.swatch(r, -100, -100) + pad + r.MeasureText(it.name).Width() + gap
		}
		x := (ChartWidth - total + gap) / 2
		y := ChartHeight - 14
		for _, it := range items {
			x += it.swatch(r, x, y-5) + pad
			r.SetFontColor(colorText)
			r.Text(it.name, x, y)
			x += r.MeasureText(it.name).Width() + gap
		}
	}
}

// axisTitles names the y axes above their top ticks, level, where they
// cannot run into the tick labels (go-chart turns axis names on their
// side next to the ticks); the message axis' name is in the bars' colour.
func axisTitles(font *truetype.Font, labels ChartLabels, tr *chartTrace) chart.Renderable {
	return func(r chart.Renderer, cb chart.Box, _ chart.Style) {
		if tr != nil {
			tr.canvas = cb
		}
		r.SetFont(font)
		r.SetFontSize(11)
		y := cb.Top - 16
		lw := r.MeasureText(labels.YLeft).Width()
		r.SetFontColor(colorMessages)
		r.Text(labels.YLeft, max(8, cb.Left-lw), y)
		rw := r.MeasureText(labels.YRight).Width()
		r.SetFontColor(colorText)
		r.Text(labels.YRight, min(cb.Right, ChartWidth-8-rw), y)
	}
}
