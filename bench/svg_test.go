package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// svgLines parses data as XML, failing t if it is not well-formed or its
// root is not an SVG element, and returns the data-peer of each group that
// holds a polyline of class "series", in order.
func svgLines(t *testing.T, data []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var (
		lines []string
		group string // data-peer of the open group
		depth int
		root  bool
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, data)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				root = el.Name.Local == "svg" && el.Name.Space == "http://www.w3.org/2000/svg"
			}
			attr := func(name string) string {
				for _, a := range el.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			switch {
			case el.Name.Local == "g" && attr("data-peer") != "":
				group = attr("data-peer")
			case el.Name.Local == "polyline" && attr("class") == "series":
				if group == "" {
					t.Errorf("a series outside a peer's group")
				}
				lines = append(lines, group)
			}
		case xml.EndElement:
			depth--
			if el.Name.Local == "g" {
				group = ""
			}
		}
	}
	if !root {
		t.Fatalf("the root element is not an svg element in the SVG namespace:\n%s", data)
	}
	return lines
}

// fakeSweep is a sweep of peers at 1, 8, 64 and 256 callers, with made-up
// figures.
func fakeSweep(peers ...string) []sweepResult {
	var rs []sweepResult
	for i, p := range peers {
		for j, n := range []int{1, 8, 64, 256} {
			rs = append(rs, sweepResult{Name: p, Callers: n, CallsPerS: float64((i + 1) * (j + 1) * 9000), P99Us: 100, CPUUs: 4})
		}
	}
	return rs
}

// TestSVG checks that the chart of a sweep is well-formed XML with one line
// per peer, in order, each through its measured points, and its names,
// axes and legend in it as text.
func TestSVG(t *testing.T) {
	names := []string{"sessionrpc-tcp", "grpc-go", "raw-mux-tcp", `a&b <"peer">`}
	rs := fakeSweep(names...)
	// A point that was not measured is left out of its line.
	rs = slices.DeleteFunc(rs, func(r sweepResult) bool { return r.Name == "grpc-go" && r.Callers == 8 })
	var out bytes.Buffer
	if err := writeSVG(&out, rs, "subtitle & more"); err != nil {
		t.Fatal(err)
	}
	if got := svgLines(t, out.Bytes()); !slices.Equal(got, names) {
		t.Errorf("lines %q, want %q", got, names)
	}
	var doc struct {
		Texts  []string `xml:"text"`
		Groups []struct {
			Texts     []string `xml:"text"`
			Polylines []struct {
				Points string `xml:"points,attr"`
			} `xml:"polyline"`
		} `xml:"g"`
	}
	if err := xml.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(doc.Texts, "\n")
	for _, want := range append(names, "Throughput against callers", "subtitle & more", "concurrent callers (log scale)", "calls/s (log scale)") {
		// Each name twice: at the end of its line and in the legend.
		if n := strings.Count(text, want); n < 1 || slices.Contains(names, want) && n != 2 {
			t.Errorf("%q appears %d times in the chart's text:\n%s", want, n, text)
		}
	}
	var ticks []string
	var polylines []string
	for _, g := range doc.Groups {
		ticks = append(ticks, g.Texts...)
		for _, pl := range g.Polylines {
			polylines = append(polylines, pl.Points)
		}
	}
	for _, want := range []string{"1", "8", "64", "256", "10k", "100k"} {
		if !slices.Contains(ticks, want) {
			t.Errorf("no tick label %q in %q", want, ticks)
		}
	}
	if len(polylines) != len(names) {
		t.Fatalf("%d polylines, want %d", len(polylines), len(names))
	}
	for i, pl := range polylines {
		want := 4
		if names[i] == "grpc-go" {
			want = 3
		}
		if n := len(strings.Fields(pl)); n != want {
			t.Errorf("line of %s has %d points, want %d: %q", names[i], n, want, pl)
		}
	}
}

// TestSVGColors checks that every line of a sweep of the default peers has
// a colour of its own.
func TestSVGColors(t *testing.T) {
	var out bytes.Buffer
	if err := writeSVG(&out, fakeSweep(sweepPeers...), ""); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Polylines []struct {
			Stroke string `xml:"stroke,attr"`
		} `xml:"g>polyline"`
	}
	if err := xml.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, pl := range doc.Polylines {
		if seen[pl.Stroke] {
			t.Errorf("colour %s used twice", pl.Stroke)
		}
		seen[pl.Stroke] = true
	}
	if len(seen) != len(sweepPeers) {
		t.Errorf("%d colours for %d peers", len(seen), len(sweepPeers))
	}
}

// TestSVGEmpty checks that nothing to draw is an error, not a broken file.
func TestSVGEmpty(t *testing.T) {
	if err := writeSVG(io.Discard, nil, ""); err == nil {
		t.Error("no error for no results")
	}
}

// TestSVGNeedsSweep checks that -svg alone is refused with a clear error.
func TestSVGNeedsSweep(t *testing.T) {
	if _, err := parseFlags([]string{"-svg", "x.svg"}, io.Discard); err == nil || !strings.Contains(err.Error(), "-sweep") {
		t.Errorf("-svg without -sweep: %v", err)
	}
}
