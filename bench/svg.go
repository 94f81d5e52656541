package main

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// The sweep's chart: calls/s against callers, one line per peer, both axes
// on log scales (callers double or more from one level to the next, and
// throughputs differ by more than 10× between peers, so that on a linear
// scale most lines would lie on the floor). Written as SVG text by hand,
// with nothing but the standard library, to be read in a browser and on
// GitHub: a white background (GitHub shows images on a dark page in dark
// mode), generic fonts, no scripts, no CSS classes that need a stylesheet.

// Geometry of the chart, in SVG user units (pixels).
const (
	svgWidth   = 960
	plotLeft   = 90  // the y axis
	plotRight  = 760 // the end of the plot area; line labels go right of it
	plotTop    = 70
	plotBottom = 450 // the x axis
	xPad       = 28  // between the axis ends and the first and last level
	legendTop  = 515 // the first row of the legend
	legendCols = 4
	labelGap   = 13 // the least vertical distance between two line labels
)

// svgColors are distinct on white and from each other (D3's category10,
// reordered so that the first few, which sessionrpc's peers get, are the
// most distinct); more peers than colours reuse them with another dash.
var svgColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

// floorPeers are the peers drawn dashed: the floors the others are measured
// against.
var floorPeers = []string{"raw-mux-tcp", "raw-mux-tcp-go", "raw-tcp-pingpong", "nats-request"}

// svgSeries is one peer's line.
type svgSeries struct {
	name   string
	color  string
	dash   string // stroke-dasharray, or ""
	width  float64
	points []sweepResult // with calls/s > 0, by callers
}

// writeSVG draws rs, the points of a sweep, as calls/s against callers:
// one line per peer, in the order the peers first appear in rs. subtitle is
// printed under the title (what was run, and where).
func writeSVG(w io.Writer, rs []sweepResult, subtitle string) error {
	var series []*svgSeries
	byName := map[string]*svgSeries{}
	var levels []int
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		s := byName[r.Name]
		if s == nil {
			i := len(series)
			s = &svgSeries{name: r.Name, color: svgColors[i%len(svgColors)], width: 2}
			if slices.Contains(floorPeers, r.Name) {
				s.dash = "7 4"
			} else if i >= len(svgColors) {
				s.dash = "2 3"
			}
			if strings.HasPrefix(r.Name, "sessionrpc-") {
				s.width = 3.5
			}
			byName[r.Name] = s
			series = append(series, s)
		}
		if r.CallsPerS <= 0 || r.Callers < 1 {
			continue // a point not measured
		}
		s.points = append(s.points, r)
		if !slices.Contains(levels, r.Callers) {
			levels = append(levels, r.Callers)
		}
		minY, maxY = min(minY, r.CallsPerS), max(maxY, r.CallsPerS)
	}
	if len(series) == 0 {
		return fmt.Errorf("no sweep results to draw")
	}
	slices.Sort(levels)
	for _, s := range series {
		slices.SortFunc(s.points, func(a, b sweepResult) int { return a.Callers - b.Callers })
	}
	if len(levels) == 0 { // nothing measured: draw empty axes
		levels, minY, maxY = []int{1}, 1, 10
	}

	// Axes: x is log2 of callers over the levels measured; y is log10 of
	// calls/s from the tick at or under the least value to the tick at or
	// over the greatest, ticks being 1, 2 and 5 times a power of ten.
	x := func(callers int) float64 {
		lo, hi := math.Log2(float64(levels[0])), math.Log2(float64(levels[len(levels)-1]))
		if hi == lo {
			return (plotLeft + plotRight) / 2
		}
		return plotLeft + xPad + (math.Log2(float64(callers))-lo)/(hi-lo)*(plotRight-plotLeft-2*xPad)
	}
	yLo, yHi := tickBelow(minY), tickAbove(maxY)
	if yHi <= yLo {
		yHi = tickAbove(yLo * 1.01)
	}
	y := func(v float64) float64 {
		return plotBottom - (math.Log10(v)-math.Log10(yLo))/(math.Log10(yHi)-math.Log10(yLo))*(plotBottom-plotTop)
	}

	svgHeight := legendTop + (len(series)+legendCols-1)/legendCols*22 + 12
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13">`+"\n", svgWidth, svgHeight, svgWidth, svgHeight)
	p("<title>Throughput against callers</title>\n")
	p(`<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", svgWidth, svgHeight)
	p(`<text x="%d" y="30" font-size="18" font-weight="bold" fill="#222222">Throughput against callers</text>`+"\n", plotLeft)
	if subtitle != "" {
		p(`<text x="%d" y="50" fill="#555555">%s</text>`+"\n", plotLeft, esc(subtitle))
	}

	// Grid and y ticks: every 1, 2 and 5 of each decade; labels on all
	// when the chart spans few decades, on the decades alone otherwise.
	decades := math.Log10(yHi / yLo)
	p(`<g stroke="#e3e3e3" stroke-width="1">` + "\n")
	var yTicks []float64
	for v := yLo; v <= yHi*1.001; v = tickAbove(v * 1.01) {
		yTicks = append(yTicks, v)
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`+"\n", plotLeft, y(v), plotRight, y(v))
	}
	for _, l := range levels {
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`+"\n", x(l), plotTop, x(l), plotBottom)
	}
	p("</g>\n")
	p(`<g fill="#333333">` + "\n")
	for _, v := range yTicks {
		if decades > 3.5 && v != math.Pow(10, math.Round(math.Log10(v))) {
			continue
		}
		p(`<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", plotLeft-8, y(v), siFormat(v))
	}
	for _, l := range levels {
		p(`<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x(l), plotBottom+20, l)
	}
	p("</g>\n")
	// Axes and their titles.
	p(`<g stroke="#333333" stroke-width="1.2">`+"\n"+`<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n"+`<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", plotLeft, plotTop, plotLeft, plotBottom, plotLeft, plotBottom, plotRight, plotBottom)
	for _, v := range yTicks {
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`+"\n", plotLeft-4, y(v), plotLeft, y(v))
	}
	for _, l := range levels {
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`+"\n", x(l), plotBottom, x(l), plotBottom+4)
	}
	p("</g>\n")
	p(`<text x="%d" y="%d" text-anchor="middle" fill="#222222">concurrent callers (log scale)</text>`+"\n", (plotLeft+plotRight)/2, plotBottom+42)
	p(`<text transform="translate(24 %d) rotate(-90)" text-anchor="middle" fill="#222222">calls/s (log scale)</text>`+"\n", (plotTop+plotBottom)/2)

	// The lines, each with its points (hover shows the figures).
	for _, s := range series {
		p(`<g class="peer" data-peer="%s">`+"\n", esc(s.name))
		var pts []string
		for _, r := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(r.Callers), y(r.CallsPerS)))
		}
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		p(`<polyline class="series" points="%s" fill="none" stroke="%s" stroke-width="%g" stroke-linejoin="round"%s/>`+"\n", strings.Join(pts, " "), s.color, s.width, dash)
		for _, r := range s.points {
			p(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %d callers: %s calls/s, p99 %.0f µs, %.1f µs CPU per call</title></circle>`+"\n",
				x(r.Callers), y(r.CallsPerS), s.color, esc(s.name), r.Callers, thousands(r.CallsPerS), r.P99Us, r.CPUUs)
		}
		p("</g>\n")
	}

	// Labels at the end of each line, moved apart where they would
	// overlap.
	type label struct {
		s *svgSeries
		y float64
	}
	var labels []label
	for _, s := range series {
		if n := len(s.points); n > 0 {
			labels = append(labels, label{s, y(s.points[n-1].CallsPerS)})
		}
	}
	slices.SortStableFunc(labels, func(a, b label) int { return cmp.Compare(a.y, b.y) })
	for i := 1; i < len(labels); i++ {
		labels[i].y = max(labels[i].y, labels[i-1].y+labelGap)
	}
	if n := len(labels); n > 0 && labels[n-1].y > plotBottom {
		shift := labels[n-1].y - plotBottom
		for i := range labels {
			labels[i].y -= shift
		}
	}
	for _, l := range labels {
		p(`<text x="%d" y="%.1f" dominant-baseline="middle" fill="%s" font-weight="bold">%s</text>`+"\n", plotRight+8, l.y, l.s.color, esc(l.s.name))
	}

	// The legend, in rows under the axis title.
	colWidth := (svgWidth - 2*plotLeft + 60) / legendCols
	for i, s := range series {
		lx := plotLeft + (i%legendCols)*colWidth
		ly := legendTop + (i/legendCols)*22
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="%g"%s/>`+"\n", lx, ly, lx+30, ly, s.color, s.width, dash)
		p(`<text x="%d" y="%d" dominant-baseline="middle" fill="#222222">%s</text>`+"\n", lx+38, ly, esc(s.name))
	}
	p("</svg>\n")
	return b.Flush()
}

// writeSVGFile draws rs into the file name, as [writeSVG] does.
func writeSVGFile(name string, rs []sweepResult, subtitle string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := writeSVG(f, rs, subtitle); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}

// ticks are the mantissas of the y axis's ticks.
var ticks = []float64{1, 2, 5, 10}

// tickBelow returns the greatest tick at or under v > 0.
func tickBelow(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for i := len(ticks) - 1; i >= 0; i-- {
		if t := ticks[i] * d; t <= v*(1+1e-9) {
			return t
		}
	}
	return d
}

// tickAbove returns the least tick at or over v > 0.
func tickAbove(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range ticks {
		if t := m * d; t >= v*(1-1e-9) {
			return t
		}
	}
	return 10 * d
}

// esc escapes s for SVG text and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// siFormat writes an axis value shortly: 500, 2k, 10k, 1M.
func siFormat(v float64) string {
	switch {
	case v >= 1e6:
		return trimZero(v/1e6) + "M"
	case v >= 1e3:
		return trimZero(v/1e3) + "k"
	default:
		return trimZero(v)
	}
}

func trimZero(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}

// thousands writes v rounded, with thin spaces between thousands.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u2009")
		}
		b.WriteRune(c)
	}
	return b.String()
}
