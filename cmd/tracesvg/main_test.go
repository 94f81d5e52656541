package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/internal/spanview"
)

// The recorded request is one trace crossing NATS twice: every span in its
// place, on the server that recorded it, and the waterfall drawn from it is
// well-formed SVG.
func TestRecordAndDraw(t *testing.T) {
	roots, err := record(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range spanview.Flatten(roots) {
		got = append(got, strings.Repeat("  ", n.Depth)+n.Name+" "+n.Kind+" "+n.Server+" "+n.Status)
	}
	want := []string{
		"connector: handle room.join internal connector-1 ",
		"  game.room.join client connector-1 OK",
		"    game.room.join server game-1 OK",
		"      sys.sessionRemote.getBackendSessionBySid client game-1 OK",
		"        sys.sessionRemote.getBackendSessionBySid server connector-1 OK",
		"      sys.sessionRemote.push client game-1 OK",
		"        sys.sessionRemote.push server connector-1 OK",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the trace (-want +got):\n%s", diff)
	}

	var b bytes.Buffer
	if err := draw(&b, roots); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(&b)
	elements := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed SVG: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if elements == 0 && se.Name.Local != "svg" {
				t.Fatalf("root element %q", se.Name.Local)
			}
			elements++
		}
	}
}
