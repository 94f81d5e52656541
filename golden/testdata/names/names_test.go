package names

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sessionrpc/sessionrpc/golden/testdata/internal/session"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// join writes its arguments separated by spaces.
func join(args ...any) string { return strings.TrimSuffix(fmt.Sprintln(args...), "\n") }

// clash reports the arguments it gets, in order.
type clash struct{ got chan string }

func (c clash) Imports(_ context.Context, context string, runtime int, jsonwire bool, session session.ID) (string, error) {
	return join(context, runtime, jsonwire, session), nil
}

func (c clash) Locals(_ context.Context, ctx, ctx2 string, out int, err, serverID, inv, args string) (string, error) {
	return join(ctx, ctx2, out, err, serverID, inv, args), nil
}

func (c clash) ErrOnly(_ context.Context, out, err string, n int, args string) error {
	c.got <- join(out, err, n, args)
	return nil
}

func (c clash) Blank(_ context.Context, a string, b int, a1 bool) error {
	c.got <- join(a, b, a1)
	return nil
}

func (c clash) Unnamed(_ context.Context, s string, b []byte) (int, error) {
	return len(s) + len(b), nil
}

func (c clash) Generated(_ context.Context, route string, args int) error {
	c.got <- join(route, args)
	return nil
}

func (c clash) Served(_ context.Context, serverID, p string, n int) (string, error) {
	return join(serverID, p, n), nil
}

func (c clash) Joined(_ context.Context, s session.ID, key string) (string, error) {
	return join(s, key), nil
}

// TestArgumentsKeepTheirPlaces calls every method with distinct values:
// renaming a parameter must not move its argument.
func TestArgumentsKeepTheirPlaces(t *testing.T) {
	impl := clash{got: make(chan string, 1)}
	srv := runtime.NewServer()
	RegisterClashServer(srv, impl)
	net := runtime.NewInProc()
	if _, err := net.Serve("s", srv); err != nil {
		t.Fatal(err)
	}
	c := NewClashClient(runtime.NewClient(net))
	ctx := context.Background()
	check := func(what, got string, err error, want string) {
		t.Helper()
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", what, got, err, want)
		}
	}
	s, err := c.Imports(ctx, "s", "ctx", 1, true, 2)
	check("Imports", s, err, "ctx 1 true 2")
	s, err = c.Locals(ctx, "s", "a", "b", 3, "d", "e", "f", "g")
	check("Locals", s, err, "a b 3 d e f g")
	err = c.ErrOnly(ctx, "s", "o", "e", 4, "a")
	check("ErrOnly", <-impl.got, err, "o e 4 a")
	err = c.Blank(ctx, "s", "x", 5, true)
	check("Blank", <-impl.got, err, "x 5 true")
	n, err := c.Unnamed(ctx, "s", "ab", []byte("c"))
	check("Unnamed", fmt.Sprint(n), err, "3")
	err = c.Generated(ctx, "s", "r", 6)
	check("Generated", <-impl.got, err, "r 6")
	s, err = NewServerProxy(c, "s", "key").Served(ctx, "p", 7)
	check("ServerProxy.Served", s, err, "key p 7")
	s, err = NewSessionProxy(c, "s", 8).Joined(ctx, "k")
	check("SessionProxy.Joined", s, err, "8 k")
}
