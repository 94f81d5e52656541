package spanview_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/internal/spanview"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func at(us int) time.Time { return t0.Add(time.Duration(us) * time.Microsecond) }

// A call from connector-1 to game-1, whose handler calls connector-1 twice,
// and a span of another trace.
var spans = []spanview.Span{
	{TraceID: "t1", SpanID: "4", ParentID: "3", Name: "sys.sessionRemote.push", Kind: "server", Server: "connector-1", Start: at(700), End: at(760), Status: "OK"},
	{TraceID: "t1", SpanID: "1", Name: "connector: room.join", Kind: "internal", Server: "connector-1", Start: at(0), End: at(1500)},
	{TraceID: "t1", SpanID: "2", ParentID: "1", Name: "game.room.join", Kind: "client", Server: "connector-1", Target: "game-1", Start: at(10), End: at(1400), Status: "OK"},
	{TraceID: "t1", SpanID: "3", ParentID: "5", Name: "sys.sessionRemote.push", Kind: "client", Server: "game-1", Target: "connector-1", Start: at(650), End: at(800), Status: "OK"},
	{TraceID: "t1", SpanID: "5", ParentID: "2", Name: "game.room.join", Kind: "server", Server: "game-1", Start: at(100), End: at(1300), Status: "OK"},
	{TraceID: "t1", SpanID: "6", ParentID: "5", Name: "sys.sessionRemote.getBackendSessionBySid", Kind: "client", Server: "game-1", Target: "connector-1", Start: at(200), End: at(600), Status: "NOT_FOUND"},
	{TraceID: "t2", SpanID: "9", ParentID: "gone", Name: "orphan <&>", Kind: "server", Server: "x", Start: at(5000), End: at(5001)},
}

func TestTraces(t *testing.T) {
	traces := spanview.Traces(spans)
	if len(traces) != 2 {
		t.Fatalf("%d traces, want 2", len(traces))
	}
	var got []string
	for _, n := range spanview.Flatten(traces[0]) {
		got = append(got, strings.Repeat(" ", n.Depth)+n.SpanID)
	}
	want := []string{"1", " 2", "  5", "   6", "   3", "    4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trace t1 in display order (-want +got):\n%s", diff)
	}
	if len(traces[1]) != 1 || traces[1][0].SpanID != "9" {
		t.Errorf("a span whose parent was not recorded should be a root of its trace: %+v", traces[1])
	}
}

func TestWriteTree(t *testing.T) {
	var b strings.Builder
	if err := spanview.WriteTree(&b, spanview.Traces(spans)[0]); err != nil {
		t.Fatal(err)
	}
	want := `trace t1: 6 spans
connector: room.join                                internal on connector-1          +0s      1.5ms    -
└─ game.room.join                                   client on connector-1 → game-1   +10µs    1.39ms   OK
   └─ game.room.join                                server on game-1                 +100µs   1.2ms    OK
      ├─ sys.sessionRemote.getBackendSessionBySid   client on game-1 → connector-1   +200µs   400µs    NOT_FOUND
      └─ sys.sessionRemote.push                     client on game-1 → connector-1   +650µs   150µs    OK
         └─ sys.sessionRemote.push                  server on connector-1            +700µs   60µs     OK
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

// The waterfall is well-formed SVG with a bar and a name per span, names
// escaped.
func TestWriteSVG(t *testing.T) {
	for _, trace := range spanview.Traces(spans) {
		var b bytes.Buffer
		if err := spanview.WriteSVG(&b, trace, "a <title> & more", "subtitle"); err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(&b)
		var root string
		var texts []string
		bars := 0
		depth := 0
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("not well-formed XML: %v", err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				if depth == 0 {
					root = tok.Name.Local
					if tok.Name.Space != "http://www.w3.org/2000/svg" {
						t.Errorf("root element in namespace %q", tok.Name.Space)
					}
				}
				depth++
				if tok.Name.Local == "rect" {
					for _, a := range tok.Attr {
						if a.Name.Local == "height" && a.Value == "16" {
							bars++
						}
					}
				}
			case xml.EndElement:
				depth--
			case xml.CharData:
				texts = append(texts, string(tok))
			}
		}
		if root != "svg" || depth != 0 {
			t.Fatalf("root element %q, unclosed depth %d", root, depth)
		}
		nodes := spanview.Flatten(trace)
		if bars != len(nodes) {
			t.Errorf("%d bars for %d spans", bars, len(nodes))
		}
		all := strings.Join(texts, "\n")
		for _, n := range nodes {
			if !strings.Contains(all, n.Name) {
				t.Errorf("no label %q", n.Name)
			}
		}
		if !strings.Contains(all, "a <title> & more") {
			t.Errorf("title lost in escaping: %q", all)
		}
	}
	if err := spanview.WriteSVG(io.Discard, nil, "", ""); err == nil {
		t.Error("an empty trace drew")
	}
}
