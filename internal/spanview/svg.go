package spanview

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"time"
)

// The waterfall: a row per span, each span's name indented under its
// parent on the left, and a bar from its start to its end on a common time
// axis on the right, coloured by the server that recorded it. Written as
// SVG text with the standard library only, to be read in a browser and on
// GitHub: a white background, generic fonts, no scripts, no stylesheet.

// Geometry, in SVG user units (pixels).
const (
	svgWidth  = 980
	svgTop    = 74  // the first row
	rowHeight = 40  // a row: the name, and under it kind and server
	labelLeft = 16  // the names
	indent    = 18  // per level of nesting
	barLeft   = 390 // the time axis
	barRight  = 900
	legendGap = 40 // between the last row and the legend
)

// svgColors tell servers apart, on white and from each other.
var svgColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

// WriteSVG draws one trace as a waterfall, with title and subtitle above it.
func WriteSVG(w io.Writer, roots []*Node, title, subtitle string) error {
	nodes := Flatten(roots)
	if len(nodes) == 0 {
		return fmt.Errorf("spanview: no spans to draw")
	}
	begin, end := nodes[0].Start, nodes[0].End
	var servers []string
	color := map[string]string{}
	for _, n := range nodes {
		if n.Start.Before(begin) {
			begin = n.Start
		}
		if n.End.After(end) {
			end = n.End
		}
		if _, ok := color[n.Server]; !ok {
			color[n.Server] = svgColors[len(servers)%len(svgColors)]
			servers = append(servers, n.Server)
		}
	}
	total := end.Sub(begin)
	if total <= 0 {
		total = time.Microsecond
	}
	tick := tickStep(total)
	scale := float64(barRight-barLeft) / float64(total)
	x := func(t time.Time) float64 { return barLeft + float64(t.Sub(begin))*scale }

	rowsBottom := svgTop + len(nodes)*rowHeight
	height := rowsBottom + legendGap + 40

	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	esc := html.EscapeString
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif">`+"\n", svgWidth, height, svgWidth, height)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="%d" y="28" font-size="18" font-weight="bold" fill="#222">%s</text>`+"\n", labelLeft, esc(title))
	p(`<text x="%d" y="50" font-size="12" fill="#555">%s</text>`+"\n", labelLeft, esc(subtitle))

	// The time axis: a grid line per tick, labelled at the top.
	for t := time.Duration(0); t <= total; t += tick {
		gx := barLeft + float64(t)*scale
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e4e4e4"/>`+"\n", gx, svgTop-8, gx, rowsBottom)
		p(`<text x="%.1f" y="%d" font-size="11" fill="#777" text-anchor="middle">%s</text>`+"\n", gx, svgTop-12, esc(round(t)))
	}

	for i, n := range nodes {
		top := svgTop + i*rowHeight
		if i%2 == 1 {
			p(`<rect x="0" y="%d" width="%d" height="%d" fill="#f7f7f7"/>`+"\n", top, svgWidth, rowHeight)
		}
		lx := labelLeft + n.Depth*indent
		if n.Depth > 0 {
			// An elbow from the parent's column to this name.
			ex := float64(lx) - indent/2
			p(`<path d="M%.1f %d V%d H%d" fill="none" stroke="#999"/>`+"\n", ex, top+2, top+15, lx-3)
		}
		p(`<text x="%d" y="%d" font-size="13" fill="#222">%s</text>`+"\n", lx, top+19, esc(n.Name))
		where := n.Kind
		if n.Server != "" {
			where += " on " + n.Server
		}
		if n.Kind == kindClient && n.Target != "" {
			where += " → " + n.Target
		}
		p(`<text x="%d" y="%d" font-size="11" fill="#666">%s</text>`+"\n", lx, top+33, esc(where))

		x0, x1 := x(n.Start), x(n.End)
		width := math.Max(x1-x0, 2)
		fill := color[n.Server]
		p(`<rect x="%.1f" y="%d" width="%.1f" height="16" rx="2" fill="%s"`, x0, top+12, width, fill)
		if n.Kind == kindServer {
			p(` stroke="#222" stroke-width="1"`)
		}
		p(`/>` + "\n")
		label := round(n.Duration())
		if n.Status != "" && n.Status != "OK" {
			label += " " + n.Status
		}
		// The duration right of the bar, or left of it when the bar
		// reaches the right edge.
		if x1+8+float64(7*len(label)) < svgWidth {
			p(`<text x="%.1f" y="%d" font-size="11" fill="#333">%s</text>`+"\n", x0+width+6, top+24, esc(label))
		} else {
			p(`<text x="%.1f" y="%d" font-size="11" fill="#333" text-anchor="end">%s</text>`+"\n", x0-6, top+24, esc(label))
		}
	}

	// The legend: a swatch per server; a dark outline marks server spans.
	ly := rowsBottom + legendGap
	lx := labelLeft
	for _, s := range servers {
		name := s
		if name == "" {
			name = "(unknown)"
		}
		p(`<rect x="%d" y="%d" width="14" height="14" rx="2" fill="%s"/>`+"\n", lx, ly-11, color[s])
		p(`<text x="%d" y="%d" font-size="12" fill="#333">%s</text>`+"\n", lx+20, ly, esc(name))
		lx += 40 + 8*len(name)
	}
	p(`<text x="%d" y="%d" font-size="12" fill="#555">outlined: server spans</text>`+"\n", lx+10, ly)
	p("</svg>\n")
	return bw.Flush()
}

// tickStep returns a round interval that cuts total into 4 to 10 parts.
func tickStep(total time.Duration) time.Duration {
	step := time.Duration(1)
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if total/(step*m) <= 10 {
				return step * m
			}
		}
		step *= 10
	}
}
