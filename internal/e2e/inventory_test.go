package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/internal/e2e/shop"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// inventory implements Inventory for the test.
type inventory struct {
	waited chan error // what Wait's ctx ended with
	dl     chan bool  // whether Wait's ctx had a deadline
}

var errOutOfStock = runtime.NewError(runtime.FailedPrecondition, "out of stock")

func (inventory) Audit(ctx context.Context, who string) ([]string, error) {
	return []string{"audit:" + who}, nil
}

func (inventory) Stock(ctx context.Context, player string, skus ...string) (map[string]int, error) {
	m := map[string]int{}
	for i, s := range skus {
		m[player+"/"+s] = i
	}
	return m, nil
}

func (inventory) Buy(ctx context.Context, player string, item shop.Item, cost Money) (*shop.Item, error) {
	if cost > item.Price {
		return nil, fmt.Errorf("%w: %s for %s", errOutOfStock, item.SKU, player)
	}
	item.Tags = map[string]string{"buyer": player}
	item.Price = cost
	return &item, nil
}

func (inventory) List(ctx context.Context, player string, page shop.Page[shop.Item]) (shop.Page[shop.Item], error) {
	next := len(page.Items)
	page.Items = append(page.Items, shop.Item{SKU: player})
	page.Next = &next
	return page, nil
}

func (inventory) Shapes(ctx context.Context, context string, time time.Duration, grid Grid, raw json.RawMessage, anyv any, opt *float64,
	anon struct {
		X int    `json:"x"`
		Y string `json:"y,omitempty"`
	}) (Echo, error) {
	return Echo{Context: context, Time: time, Grid: grid, Raw: raw, Any: anyv, Opt: opt, X: anon.X, Y: anon.Y}, nil
}

func (inventory) Unnamed(_ context.Context, n uint64, b []byte) (uint64, error) {
	return n - uint64(len(b)), nil
}

func (inventory) Reset(ctx context.Context, player string) error { return nil }

func (inventory) Fail(ctx context.Context, code uint32, msg string) error {
	return runtime.Errorf(runtime.Code(code), "%s", msg)
}

func (i inventory) Wait(ctx context.Context) error {
	_, ok := ctx.Deadline()
	i.dl <- ok
	<-ctx.Done()
	i.waited <- ctx.Err()
	return ctx.Err()
}

func (inventory) Explode(ctx context.Context) error { panic("boom") }

type fixture struct {
	impl   inventory
	client *InventoryClient
	routes chan string // every route an interceptor saw, with its side
}

func setup(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		impl:   inventory{waited: make(chan error, 1), dl: make(chan bool, 1)},
		routes: make(chan string, 100),
	}
	seen := func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
		side := "client "
		if info.Server {
			side = "server "
		}
		f.routes <- side + info.Route
		return next(ctx, args, result)
	}
	net := runtime.NewInProc()
	srv := runtime.NewServer(runtime.WithInterceptors(seen), runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	RegisterInventoryServer(srv, f.impl)
	served, err := net.Serve("shop-1", srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { served.Close() })
	f.client = NewInventoryClient(runtime.NewClient(net, runtime.WithInterceptors(seen)))
	return f
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestEveryShapeRoundTrips(t *testing.T) {
	f := setup(t)
	c := f.client
	ctx := ctx(t)

	stock, err := c.Stock(ctx, "shop-1", "p1", "sword", "shield")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"p1/sword": 0, "p1/shield": 1}, stock); diff != "" {
		t.Errorf("Stock (variadic, map result) (-want +got):\n%s", diff)
	}
	if stock, err = c.Stock(ctx, "shop-1", "p1"); err != nil || len(stock) != 0 {
		t.Errorf("Stock with no variadic arguments = %v, %v", stock, err)
	}

	item, err := c.Buy(ctx, "shop-1", "p1", shop.Item{SKU: "sword", Price: math.MaxInt64}, math.MaxInt64-1)
	if err != nil {
		t.Fatal(err)
	}
	want := &shop.Item{SKU: "sword", Price: math.MaxInt64 - 1, Tags: map[string]string{"buyer": "p1"}}
	if diff := cmp.Diff(want, item); diff != "" {
		t.Errorf("Buy (other package, alias, pointer result) (-want +got):\n%s", diff)
	}

	page, err := c.List(ctx, "shop-1", "p1", shop.Page[shop.Item]{Items: []shop.Item{{SKU: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	one := 1
	if diff := cmp.Diff(shop.Page[shop.Item]{Items: []shop.Item{{SKU: "a"}, {SKU: "p1"}}, Next: &one}, page); diff != "" {
		t.Errorf("List (generic instantiation) (-want +got):\n%s", diff)
	}

	opt := 2.5
	anon := struct {
		X int    `json:"x"`
		Y string `json:"y,omitempty"`
	}{X: -3, Y: "y"}
	// JSON decodes numbers inside `any` as float64; the value here is one.
	anyv := map[string]any{"list": []any{"a", true, nil, 1.5}}
	echo, err := c.Shapes(ctx, "shop-1", "ctx-string", 90*time.Second, Grid{{1, 2, 3}, {-4, -5, -6}}, json.RawMessage(`{"k":[1,2]}`), anyv, &opt, anon)
	if err != nil {
		t.Fatal(err)
	}
	wantEcho := Echo{Context: "ctx-string", Time: 90 * time.Second, Grid: Grid{{1, 2, 3}, {-4, -5, -6}},
		Raw: json.RawMessage(`{"k":[1,2]}`), Any: anyv, Opt: &opt, X: -3, Y: "y"}
	if diff := cmp.Diff(wantEcho, echo); diff != "" {
		t.Errorf("Shapes (-want +got):\n%s", diff)
	}

	n, err := c.Unnamed(ctx, "shop-1", math.MaxUint64, []byte{1, 2})
	if err != nil || n != math.MaxUint64-2 {
		t.Errorf("Unnamed = %d, %v; want %d", n, err, uint64(math.MaxUint64-2))
	}

	audit, err := c.Audit(ctx, "shop-1", "p1")
	if err != nil || !slices.Equal(audit, []string{"audit:p1"}) {
		t.Errorf("Audit (embedded from another package) = %v, %v", audit, err)
	}

	if err := c.Reset(ctx, "shop-1", "p1"); err != nil {
		t.Errorf("Reset: %v", err)
	}
	if InventoryResetRoute != "game.inventory.clear" {
		t.Errorf("rpcgen:method override: route = %q", InventoryResetRoute)
	}
	if InventoryStockRoute != "game.inventory.stock" {
		t.Errorf("route = %q", InventoryStockRoute)
	}
}

func TestProxyBindsPlayer(t *testing.T) {
	f := setup(t)
	p := NewPlayerInventory(f.client, "shop-1", "p7")
	stock, err := p.Stock(ctx(t), "gem")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"p7/gem": 0}, stock); diff != "" {
		t.Errorf("proxy Stock (-want +got):\n%s", diff)
	}
	if err := p.Reset(ctx(t)); err != nil {
		t.Errorf("proxy Reset: %v", err)
	}
}

func TestCodedErrorsArrive(t *testing.T) {
	f := setup(t)
	_, err := f.client.Buy(ctx(t), "shop-1", "p1", shop.Item{SKU: "axe", Price: 1}, 2)
	if !errors.Is(err, errOutOfStock) {
		t.Fatalf("Buy error %v does not match its sentinel after the wire", err)
	}
	if runtime.CodeOf(err) != runtime.FailedPrecondition {
		t.Errorf("code = %v", runtime.CodeOf(err))
	}
	var re *runtime.Error
	if !errors.As(err, &re) || re.Message() != "out of stock: axe for p1" {
		t.Errorf("message lost: %v", err)
	}
	for _, code := range []runtime.Code{runtime.NotFound, runtime.PermissionDenied, runtime.Unauthenticated, runtime.Aborted} {
		err := f.client.Fail(ctx(t), "shop-1", uint32(code), "because "+code.String())
		if !errors.As(err, &re) || re.Code() != code || re.Message() != "because "+code.String() {
			t.Errorf("Fail(%v) = %v", code, err)
		}
	}
}

func TestDeadlineReachesHandler(t *testing.T) {
	f := setup(t)
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := f.client.Wait(c, "shop-1")
	if runtime.CodeOf(err) != runtime.DeadlineExceeded {
		t.Fatalf("Wait = %v, want deadline_exceeded", err)
	}
	if !<-f.impl.dl {
		t.Error("handler's ctx had no deadline")
	}
	if herr := <-f.impl.waited; herr == nil {
		t.Error("handler's ctx never ended")
	}
}

func TestCancellationReachesHandler(t *testing.T) {
	f := setup(t)
	c, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.client.Wait(c, "shop-1") }()
	if <-f.impl.dl {
		t.Error("handler's ctx had a deadline the caller never set")
	}
	cancel()
	if err := <-errc; runtime.CodeOf(err) != runtime.Canceled {
		t.Fatalf("Wait = %v, want canceled", err)
	}
	if herr := <-f.impl.waited; !errors.Is(herr, context.Canceled) {
		t.Errorf("handler's ctx ended with %v, want canceled", herr)
	}
}

func TestPanicIsInternal(t *testing.T) {
	f := setup(t)
	err := f.client.Explode(ctx(t), "shop-1")
	if runtime.CodeOf(err) != runtime.Internal {
		t.Fatalf("Explode = %v, want internal", err)
	}
	if _, err := f.client.Stock(ctx(t), "shop-1", "p1"); err != nil {
		t.Fatalf("server stopped serving after a panic: %v", err)
	}
}

func TestInterceptorSeesEveryRoute(t *testing.T) {
	f := setup(t)
	c := f.client
	x := ctx(t)
	c.Audit(x, "shop-1", "p")
	c.Stock(x, "shop-1", "p")
	c.Buy(x, "shop-1", "p", shop.Item{}, 0)
	c.List(x, "shop-1", "p", shop.Page[shop.Item]{})
	c.Shapes(x, "shop-1", "", 0, Grid{}, json.RawMessage(`1`), nil, nil, struct {
		X int    `json:"x"`
		Y string `json:"y,omitempty"`
	}{})
	c.Unnamed(x, "shop-1", 1, nil)
	c.Reset(x, "shop-1", "p")
	c.Fail(x, "shop-1", uint32(runtime.NotFound), "")
	c.Explode(x, "shop-1")
	short, cancel := context.WithTimeout(x, 50*time.Millisecond)
	defer cancel()
	c.Wait(short, "shop-1")
	<-f.impl.dl
	<-f.impl.waited

	all := []string{InventoryAuditRoute, InventoryStockRoute, InventoryBuyRoute, InventoryListRoute, InventoryShapesRoute,
		InventoryUnnamedRoute, InventoryResetRoute, InventoryFailRoute, InventoryExplodeRoute, InventoryWaitRoute}
	got := map[string]bool{}
	for len(f.routes) > 0 {
		got[<-f.routes] = true
	}
	for _, r := range all {
		for _, side := range []string{"client ", "server "} {
			if !got[side+r] {
				t.Errorf("interceptor never saw %s%s", side, r)
			}
		}
	}
}

// nopInvoker answers every call at once, without touching its arguments or
// result.
type nopInvoker struct{}

func (nopInvoker) Invoke(ctx context.Context, serverID, route string, args, result any) error {
	return nil
}

// A generated client makes the arguments and the result of a call in one
// allocation (its _X_M_Call).
func TestClientAllocations(t *testing.T) {
	c := NewInventoryClient(nopInvoker{})
	ctx := context.Background()
	item := shop.Item{SKU: "sword"}
	withResult := testing.AllocsPerRun(100, func() {
		if _, err := c.Buy(ctx, "s", "p1", item, 5); err != nil {
			t.Fatal(err)
		}
	})
	if withResult != 1 {
		t.Errorf("Buy: %v allocations per call, want 1", withResult)
	}
}
