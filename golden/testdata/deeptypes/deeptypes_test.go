package deeptypes

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
)

type deep struct{}

func (deep) Tree(_ context.Context, t *Tree) (Tree, error)   { return *t, nil }
func (deep) Event(_ context.Context, e Event) (Event, error) { return e, nil }
func (deep) Both(_ context.Context, b Both, w Wins) (int, error) {
	return b.N + len(w.Ch), nil
}
func (deep) Player(_ context.Context, p Player) (Player, error) { return p, nil }
func (deep) Phase(_ context.Context, p Phase, grid map[Coord]Phase) (map[Coord]Phase, error) {
	grid[Coord{9, 9}] = p
	return grid, nil
}
func (deep) Stream(_ context.Context, _ Stream, cs []Counter) ([]Counter, error) { return cs, nil }
func (deep) Empty(_ context.Context, e Empty) (Empty, error)                     { return e, nil }

// TestRoundTrip sends every type the generator accepted: the JSON codec
// carries each of them.
func TestRoundTrip(t *testing.T) {
	srv := runtime.NewServer()
	RegisterDeepServer(srv, deep{})
	net := runtime.NewInProc()
	if _, err := net.Serve("d", srv); err != nil {
		t.Fatal(err)
	}
	c := NewDeepClient(runtime.NewClient(net))
	ctx := context.Background()

	tree := &Tree{Name: "root", Kids: []*Tree{{Name: "kid"}}, Next: map[string]Tree{"n": {Name: "next"}}}
	if got, err := c.Tree(ctx, "d", tree); err != nil || !cmp.Equal(got, *tree) {
		t.Errorf("Tree = %+v, %v", got, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := Event{At: at, Raw: json.RawMessage(`{"a":1}`), Any: "x", Set: map[string]struct{}{"k": {}}, Skipped: make(chan int)}
	got, err := c.Event(ctx, "d", e)
	if err != nil || !got.At.Equal(at) || string(got.Raw) != `{"a":1}` || got.Any != "x" || len(got.Set) != 1 || got.Skipped != nil {
		t.Errorf("Event = %+v, %v", got, err)
	}
	if n, err := c.Both(ctx, "d", Both{Left: Left{Ch: make(chan int)}, N: 2}, Wins{Ch: "abc"}); err != nil || n != 5 {
		t.Errorf("Both = %d, %v", n, err)
	}
	p := Player{base: base{ID: 7}, Name: "ada"}
	if got, err := c.Player(ctx, "d", p); err != nil || got.ID != 7 || got.Name != "ada" {
		t.Errorf("Player = %+v, %v", got, err)
	}
	grid, err := c.Phase(ctx, "d", Phase(complex(1.5, 0)), map[Coord]Phase{{1, 2}: 3})
	if want := map[Coord]Phase{{1, 2}: 3, {9, 9}: 1.5}; err != nil || !cmp.Equal(grid, want, cmp.AllowUnexported(Coord{})) {
		t.Errorf("Phase = %v, %v", grid, err)
	}
	if cs, err := c.Stream(ctx, "d", Stream{}, []Counter{{n: 4}}); err != nil || len(cs) != 1 || cs[0].n != 4 {
		t.Errorf("Stream = %+v, %v", cs, err)
	}
	if _, err := c.Empty(ctx, "d", Empty{}); err != nil {
		t.Errorf("Empty: %v", err)
	}
}
