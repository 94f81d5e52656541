package evolve

import (
	"context"
	"sync"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// calc is version 2.
type calc struct {
	mu    sync.Mutex
	total int
}

func (c *calc) Add(_ context.Context, amount, factor int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if factor == 0 {
		factor = 1 // the zero value means what version 1 did
	}
	c.total += amount * factor
	return nil
}

func (c *calc) Sum(context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, nil
}

// v1Args is how version 1 sent Add's arguments: one, by position.
type v1Args struct {
	A0 int `json:"a0"`
}

// v1Server serves version 1 of the service, as its generated code did.
func v1Server(got chan<- int) *runtime.Server {
	srv := runtime.NewServer()
	srv.RegisterService(&runtime.ServiceDesc{
		Name: "t.calc",
		Methods: []runtime.MethodDesc{
			{
				Route:   CalcAddRoute,
				NewArgs: func() any { return new(v1Args) },
				Handler: func(_ context.Context, _, args, _ any) error {
					got <- args.(*v1Args).A0
					return nil
				},
			},
			{
				Route:   CalcSumRoute,
				NewArgs: func() any { return new(struct{}) },
				Handler: func(context.Context, any, any, any) error { return nil },
			},
		},
	}, nil)
	return srv
}

func serve(t *testing.T, srv *runtime.Server) runtime.Invoker {
	t.Helper()
	net := runtime.NewInProc()
	if _, err := net.Serve("calc", srv); err != nil {
		t.Fatal(err)
	}
	return runtime.NewClient(net)
}

// An older caller sends no factor: the server decodes it as zero.
func TestOldCallerNewServer(t *testing.T) {
	srv := runtime.NewServer()
	impl := &calc{}
	RegisterCalcServer(srv, impl)
	inv := serve(t, srv)
	if err := inv.Invoke(context.Background(), "calc", CalcAddRoute, &v1Args{A0: 7}, nil); err != nil {
		t.Fatal(err)
	}
	// A version 1 caller of Sum passes no result; the server's is dropped.
	if err := inv.Invoke(context.Background(), "calc", CalcSumRoute, &struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	if sum, err := NewCalcClient(inv).Sum(context.Background(), "calc"); err != nil || sum != 7 {
		t.Fatalf("Sum = %d, %v; want 7", sum, err)
	}
}

// A newer caller's factor is ignored by an older server, and the result it
// expects from Sum is not there: Internal.
func TestNewCallerOldServer(t *testing.T) {
	got := make(chan int, 1)
	c := NewCalcClient(serve(t, v1Server(got)))
	if err := c.Add(context.Background(), "calc", 5, 3); err != nil {
		t.Fatal(err)
	}
	if a := <-got; a != 5 {
		t.Errorf("version 1 got amount %d, want 5", a)
	}
	if _, err := c.Sum(context.Background(), "calc"); runtime.CodeOf(err) != runtime.Internal {
		t.Errorf("Sum from a server without its result: %v (code %v), want Internal", err, runtime.CodeOf(err))
	}
}
