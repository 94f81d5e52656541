package embedded

import (
	"context"
	"slices"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
)

type node struct{}

func (node) Ping(ctx context.Context, n int) (int, error) { return n + 1, nil }
func (node) Close(ctx context.Context) error              { return nil }
func (node) Name(ctx context.Context) (string, error)     { return "node-1", nil }
func (node) Zap(ctx context.Context) error                { return nil }

func TestRoundTrip(t *testing.T) {
	srv := runtime.NewServer()
	RegisterNodeServer(srv, node{})
	routes := srv.Routes()
	slices.Sort(routes)
	if want := []string{"sys.node.close", "sys.node.ping", "sys.node.whoAmI", "sys.node.zap"}; !slices.Equal(routes, want) {
		t.Fatalf("routes %v, want %v", routes, want)
	}
	net := runtime.NewInProc()
	if _, err := net.Serve("n", srv); err != nil {
		t.Fatal(err)
	}
	c := NewNodeClient(runtime.NewClient(net))
	if n, err := c.Ping(context.Background(), "n", 41); n != 42 || err != nil {
		t.Fatalf("Ping = %d, %v", n, err)
	}
	if name, err := c.Name(context.Background(), "n"); name != "node-1" || err != nil {
		t.Fatalf("Name = %q, %v", name, err)
	}
}
