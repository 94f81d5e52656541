package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/cluster/internal/room"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
)

// rooms is a cluster of room servers on NATS, each a member and a natsrpc
// server, and a caller with a view, a router and a typed client by type.
type rooms struct {
	e        *env
	view     *cluster.View
	client   *runtime.Client
	router   *cluster.Router
	byType   *room.RoomRemoteClient
	byID     *room.RoomRemoteClient
	prefix   string
	mu       sync.Mutex
	attempts []string // server ids, in the order the client called them
	regs     map[string]*cluster.Registration
}

func newRooms(t *testing.T, opts ...cluster.RouterOption) *rooms {
	t.Helper()
	e := newEnv(t, startNATS(t).URL())
	rs := &rooms{e: e, prefix: e.prefix + ".rpc", regs: map[string]*cluster.Registration{}}
	nc := connect(t, e.url)
	rs.view = e.viewOn(nc)
	tr := natsrpc.NewTransport(nc, natsrpc.WithSubjectPrefix(rs.prefix), natsrpc.WithLogger(quiet))
	t.Cleanup(tr.Close)
	rs.client = runtime.NewClient(tr, runtime.WithInterceptors(func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
		rs.mu.Lock()
		rs.attempts = append(rs.attempts, info.ServerID)
		rs.mu.Unlock()
		return next(ctx, args, result)
	}))
	rs.router = cluster.NewRouter(rs.view, rs.client, opts...)
	rs.byType = room.NewRoomRemoteClient(rs.router)
	rs.byID = room.NewRoomRemoteClient(rs.client)
	return rs
}

// add starts room server id: served on NATS (unless !serve: a member
// whose process does not answer calls) and joined to the cluster.
func (rs *rooms) add(t *testing.T, id string, serve bool, impl *room.Server) {
	t.Helper()
	nc := connect(t, rs.e.url)
	if impl == nil {
		impl = &room.Server{ID: id}
	}
	if serve {
		srv := runtime.NewServer(runtime.WithLogger(quiet))
		room.RegisterRoomRemoteServer(srv, impl)
		s, err := natsrpc.Serve(nc, id, srv, natsrpc.WithSubjectPrefix(rs.prefix), natsrpc.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}
	rs.regs[id] = rs.e.joinOn(nc, cluster.Info{ID: id, Type: "room", Routes: []string{room.RoomRemoteJoinRoute}})
	waitFor(t, id+" in the view", func() bool { _, ok := rs.view.Member(id); return ok })
}

func (rs *rooms) takeAttempts() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	a := rs.attempts
	rs.attempts = nil
	return a
}

// picks maps n keys to the members they route to.
func picks(t *testing.T, r *cluster.Router, n int) map[string]string {
	t.Helper()
	out := make(map[string]string, n)
	for i := range n {
		key := fmt.Sprintf("user-%d", i)
		m, err := r.Pick(cluster.WithRouteKey(context.Background(), key), "room", room.RoomRemoteJoinRoute, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[key] = m.ID
	}
	return out
}

// Calls by type reach a member of the type, the one the route key hashes
// to; keys spread evenly; the same key goes to the same member from
// another process's view; and when a member leaves, only its keys move.
func TestRouterConsistentHashing(t *testing.T) {
	t.Parallel()
	rs := newRooms(t)
	for i := 1; i <= 4; i++ {
		rs.add(t, fmt.Sprintf("room-%d", i), true, nil)
	}
	ctx := ctxFor(t, wait)
	for _, uid := range []string{"ada", "bob", "cy"} {
		got, err := rs.byType.Join(cluster.WithRouteKey(ctx, uid), "room", uid)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := rs.router.Pick(cluster.WithRouteKey(ctx, uid), "room", "", nil)
		if got != want.ID {
			t.Errorf("%s: served by %s, picked %s", uid, got, want.ID)
		}
	}

	const keys = 4000
	before := picks(t, rs.router, keys)
	count := map[string]int{}
	for _, id := range before {
		count[id]++
	}
	t.Logf("%d keys over 4 rooms: %v", keys, count)
	for id, n := range count {
		if n < keys/4*7/10 || n > keys/4*13/10 {
			t.Errorf("%s got %d keys, want %d ± 30%%", id, n, keys/4)
		}
	}

	// Another process, its own view: the same picks.
	other := cluster.NewRouter(rs.e.view(), rs.client)
	waitFor(t, "other view lists 4", func() bool { return len(rs.e.view().Members()) == 4 })
	if diff := diffPicks(before, picks(t, other, keys)); len(diff) != 0 {
		t.Errorf("another view routes %d keys elsewhere, e.g. %v", len(diff), diff[:min(3, len(diff))])
	}

	// room-3 leaves: its keys move, no other key does.
	if err := rs.regs["room-3"].Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "room-3 gone", func() bool { _, ok := rs.view.Member("room-3"); return !ok })
	after := picks(t, rs.router, keys)
	moved := 0
	for key, was := range before {
		now := after[key]
		switch {
		case was == "room-3":
			moved++
			if now == "room-3" {
				t.Fatalf("%s still routed to room-3", key)
			}
		case now != was:
			t.Errorf("%s moved from %s to %s, though %s stayed", key, was, now, was)
		}
	}
	t.Logf("room-3 left: %d of %d keys moved (%.1f%%; its share was %d)", moved, keys, 100*float64(moved)/keys, count["room-3"])

	// room-5 joins: only the keys it takes move.
	rs.add(t, "room-5", true, nil)
	joined := picks(t, rs.router, keys)
	took := 0
	for key, was := range after {
		if now := joined[key]; now != was {
			if now != "room-5" {
				t.Errorf("%s moved from %s to %s when room-5 joined", key, was, now)
			}
			took++
		}
	}
	t.Logf("room-5 joined: it took %d of %d keys (%.1f%%)", took, keys, 100*float64(took)/keys)
	if took < keys/4*7/10 || took > keys/4*13/10 {
		t.Errorf("room-5 took %d keys, want about %d", took, keys/4)
	}
}

func diffPicks(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// A draining member takes no calls by type; calls by id still reach it.
func TestRouterSkipsDraining(t *testing.T) {
	t.Parallel()
	rs := newRooms(t)
	rs.add(t, "room-1", true, nil)
	rs.add(t, "room-2", true, nil)
	ctx := ctxFor(t, wait)
	if err := rs.regs["room-1"].Drain(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "room-1 draining", func() bool { m, _ := rs.view.Member("room-1"); return m.State == cluster.Draining })
	for i := range 50 {
		got, err := rs.byType.Join(cluster.WithRouteKey(ctx, fmt.Sprint(i)), "room", "u")
		if err != nil || got != "room-2" {
			t.Fatalf("call %d: %q %v, want room-2", i, got, err)
		}
	}
	if got, err := rs.byID.Join(ctx, "room-1", "u"); err != nil || got != "room-1" {
		t.Errorf("call by id to the draining member: %q %v", got, err)
	}
}

// No live member of the type: Unavailable at once.
func TestRouterNoServer(t *testing.T) {
	t.Parallel()
	rs := newRooms(t)
	start := time.Now()
	_, err := rs.byType.Join(ctxFor(t, wait), "room", "u")
	took := time.Since(start)
	if !errors.Is(err, cluster.ErrNoServer) || !errors.Is(err, runtime.ErrNotDelivered) || runtime.CodeOf(err) != runtime.Unavailable {
		t.Fatalf("%v, want ErrNoServer (Unavailable, not delivered)", err)
	}
	t.Logf("no server: %v after %v", err, took)
	if took > time.Second {
		t.Errorf("took %v: want at once", took)
	}
	if a := rs.takeAttempts(); len(a) != 0 {
		t.Errorf("calls were made: %v", a)
	}
}

// first is a RouteFunc that picks the first member, so tests know the
// order members are tried in.
func first(_ context.Context, _ string, _ any, members []cluster.Member) (cluster.Member, error) {
	return members[0], nil
}

// A call that was never delivered (a member listed but not serving: NATS
// has no responders) is retried on the next member; any other failure is
// not, even Unavailable; and retries stop after WithMaxAttempts.
func TestRouterRetriesOnlyUndelivered(t *testing.T) {
	t.Parallel()
	rs := newRooms(t, cluster.WithRouteFunc(first))
	rs.add(t, "room-a-dead", false, nil)
	rs.add(t, "room-b-busy", true, &room.Server{ID: "room-b-busy", Err: runtime.NewError(runtime.Unavailable, "busy")})
	rs.add(t, "room-c", true, nil)
	ctx := ctxFor(t, wait)

	_, err := rs.byType.Join(ctx, "room", "u")
	if a := rs.takeAttempts(); !slices.Equal(a, []string{"room-a-dead", "room-b-busy"}) {
		t.Errorf("attempts %v, want room-a-dead (not delivered) then room-b-busy only", a)
	}
	if runtime.CodeOf(err) != runtime.Unavailable || errors.Is(err, runtime.ErrNotDelivered) {
		t.Errorf("%v, want the busy member's Unavailable", err)
	}

	// Without the busy member, the retry succeeds.
	if err := rs.regs["room-b-busy"].Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "busy gone", func() bool { _, ok := rs.view.Member("room-b-busy"); return !ok })
	got, err := rs.byType.Join(ctx, "room", "u")
	if err != nil || got != "room-c" {
		t.Errorf("%q %v, want room-c after a retry", got, err)
	}
	if a := rs.takeAttempts(); !slices.Equal(a, []string{"room-a-dead", "room-c"}) {
		t.Errorf("attempts %v", a)
	}

	once := cluster.NewRouter(rs.view, rs.client, cluster.WithRouteFunc(first), cluster.WithMaxAttempts(1))
	_, err = room.NewRoomRemoteClient(once).Join(ctx, "room", "u")
	if !errors.Is(err, runtime.ErrNotDelivered) {
		t.Errorf("with one attempt: %v, want not delivered", err)
	}
	if a := rs.takeAttempts(); !slices.Equal(a, []string{"room-a-dead"}) {
		t.Errorf("attempts %v", a)
	}
}

// Every member undelivered: the last not-delivered error comes back, after
// one attempt per member at most.
func TestRouterAllUndelivered(t *testing.T) {
	t.Parallel()
	rs := newRooms(t)
	rs.add(t, "room-1", false, nil)
	rs.add(t, "room-2", false, nil)
	_, err := rs.byType.Join(ctxFor(t, wait), "room", "u")
	if !errors.Is(err, runtime.ErrNotDelivered) {
		t.Errorf("%v, want not delivered", err)
	}
	a := rs.takeAttempts()
	slices.Sort(a)
	if !slices.Equal(a, []string{"room-1", "room-2"}) {
		t.Errorf("attempts %v, want each member once", a)
	}
}

// A RouteFunc can route by an argument of the call, as pomelo's route
// functions do; its errors fail the call.
func TestRouteByArgument(t *testing.T) {
	t.Parallel()
	errNoUID := errors.New("no uid")
	byUID := func(_ context.Context, route string, args any, members []cluster.Member) (cluster.Member, error) {
		uid, ok := cluster.Arg(args, 0)
		if !ok || route != room.RoomRemoteJoinRoute {
			return cluster.Member{}, errNoUID
		}
		return cluster.ConsistentHash(uid.(string), members), nil
	}
	rs := newRooms(t, cluster.WithRouteFunc(byUID))
	for i := 1; i <= 3; i++ {
		rs.add(t, fmt.Sprintf("room-%d", i), true, nil)
	}
	ctx := ctxFor(t, wait)
	members := rs.view.Members(cluster.OfType("room"))
	seen := map[string]bool{}
	for i := range 30 {
		uid := fmt.Sprintf("user-%d", i)
		got, err := rs.byType.Join(ctx, "room", uid) // no route key: the argument decides
		if err != nil {
			t.Fatal(err)
		}
		if want := cluster.ConsistentHash(uid, members).ID; got != want {
			t.Errorf("%s served by %s, want %s", uid, got, want)
		}
		seen[got] = true
	}
	if len(seen) != 3 {
		t.Errorf("30 users reached %d rooms", len(seen))
	}
	if _, err := rs.byType.Reload(ctx, "room"); runtime.CodeOf(err) != runtime.Internal || !errors.Is(err, errNoUID) {
		t.Errorf("route function error: %v, want Internal wrapping it", err)
	}

	stranger := func(context.Context, string, any, []cluster.Member) (cluster.Member, error) {
		return cluster.Member{ID: "elsewhere"}, nil
	}
	_, err := room.NewRoomRemoteClient(cluster.NewRouter(rs.view, rs.client, cluster.WithRouteFunc(stranger))).Join(ctx, "room", "u")
	if runtime.CodeOf(err) != runtime.Internal {
		t.Errorf("a pick outside the members: %v, want Internal", err)
	}
	coded := func(context.Context, string, any, []cluster.Member) (cluster.Member, error) {
		return cluster.Member{}, runtime.NewError(runtime.PermissionDenied, "not you")
	}
	_, err = room.NewRoomRemoteClient(cluster.NewRouter(rs.view, rs.client, cluster.WithRouteFunc(coded))).Join(ctx, "room", "u")
	if runtime.CodeOf(err) != runtime.PermissionDenied {
		t.Errorf("a coded route function error: %v, want its code", err)
	}
}

func TestArg(t *testing.T) {
	type args struct {
		A0 string
		A1 int
		a2 bool
	}
	for _, c := range []struct {
		args any
		i    int
		want any
		ok   bool
	}{
		{&args{A0: "x", A1: 7}, 0, "x", true},
		{&args{A0: "x", A1: 7}, 1, 7, true},
		{args{A1: 7}, 1, 7, true},
		{&args{}, 2, nil, false},  // unexported
		{&args{}, 3, nil, false},  // no such field
		{&args{}, -1, nil, false}, // no such index
		{(*args)(nil), 0, nil, false},
		{nil, 0, nil, false},
		{"x", 0, nil, false},
	} {
		got, ok := cluster.Arg(c.args, c.i)
		if got != c.want || ok != c.ok {
			t.Errorf("Arg(%#v, %d) = %v, %v; want %v, %v", c.args, c.i, got, ok, c.want, c.ok)
		}
	}
}

// RandomRoute, and HashRoute without a key, spread calls over every member.
func TestRandomRoutes(t *testing.T) {
	t.Parallel()
	rs := newRooms(t)
	for i := 1; i <= 3; i++ {
		rs.add(t, fmt.Sprintf("room-%d", i), true, nil)
	}
	ctx := ctxFor(t, wait)
	for _, r := range []*cluster.Router{rs.router, cluster.NewRouter(rs.view, rs.client, cluster.WithRouteFunc(cluster.RandomRoute))} {
		seen := map[string]int{}
		for range 300 {
			m, err := r.Pick(ctx, "room", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			seen[m.ID]++
		}
		if len(seen) != 3 {
			t.Errorf("300 random picks reached %v", seen)
		}
	}
}

// A broadcast calls every member of the type, draining ones included, and
// reports each one's outcome.
func TestBroadcast(t *testing.T) {
	t.Parallel()
	rs := newRooms(t)
	rs.add(t, "room-1", true, nil)
	rs.add(t, "room-2", true, &room.Server{ID: "room-2", Err: runtime.NewError(runtime.FailedPrecondition, "cannot reload")})
	rs.add(t, "room-3", true, nil)
	ctx := ctxFor(t, wait)
	if err := rs.regs["room-3"].Drain(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "room-3 draining", func() bool { m, _ := rs.view.Member("room-3"); return m.State == cluster.Draining })
	var mu sync.Mutex
	reloaded := map[string]string{}
	outs := rs.router.Broadcast(ctx, "room", func(ctx context.Context, m cluster.Member) error {
		id, err := rs.byID.Reload(ctx, m.ID)
		mu.Lock()
		reloaded[m.ID] = id
		mu.Unlock()
		return err
	})
	if got := len(outs); got != 3 {
		t.Fatalf("%d outcomes, want 3", got)
	}
	for i, o := range outs {
		if want := fmt.Sprintf("room-%d", i+1); o.Member.ID != want {
			t.Errorf("outcome %d is %s, want %s", i, o.Member.ID, want)
		}
		wantErr := o.Member.ID == "room-2"
		if (o.Err != nil) != wantErr || (wantErr && runtime.CodeOf(o.Err) != runtime.FailedPrecondition) {
			t.Errorf("%s: %v", o.Member.ID, o.Err)
		}
		if !wantErr && reloaded[o.Member.ID] != o.Member.ID {
			t.Errorf("%s answered %q", o.Member.ID, reloaded[o.Member.ID])
		}
	}
	if outs := rs.router.Broadcast(ctx, "lobby", func(context.Context, cluster.Member) error { return nil }); len(outs) != 0 {
		t.Errorf("broadcast to no member: %v", outs)
	}
}
