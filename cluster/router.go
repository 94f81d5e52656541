package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"sync"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Router is a [runtime.Invoker] whose target is a server type, not a
// server id: generated clients built on it call "a room server", as
// pomelo's app.rpc.room.roomRemote.join(session, ...) and pitaya's
// RPC(ctx, "room.remote.join", ...) do. It picks one serving member of the
// type in its [View] with a [RouteFunc] (consistent hashing on the route
// key by default) and calls it by id through the Invoker it wraps:
//
//	router := cluster.NewRouter(view, runtime.NewClient(transport))
//	rooms := NewRoomClient(router)                       // generated
//	err := rooms.Join(cluster.WithRouteKey(ctx, uid), "room", uid)
//
// With no serving member of the type, a call fails at once with
// [ErrNoServer] (Unavailable). A call the transport proves was never
// delivered ([runtime.ErrNotDelivered]: the member just died, NATS has no
// responders, the TCP dial failed) is sent to another member, up to
// [WithMaxAttempts] members in all; any other failure is returned as it
// is, since the call may have run. A Router is safe for concurrent use.
type Router struct {
	view        *View
	inv         runtime.Invoker
	route       RouteFunc
	maxAttempts int
}

// RouteFunc picks the member a call goes to among members: the serving
// members of the target type, never empty, sorted by id. It may look at
// the context (see [RouteKey]), the route, and the call's arguments (see
// [Arg]). members is the function's own copy. An error fails the call; a
// member not among members fails it with Internal.
type RouteFunc func(ctx context.Context, route string, args any, members []Member) (Member, error)

// RouterOption configures [NewRouter].
type RouterOption func(*Router)

// WithRouteFunc sets how a member is picked: [HashRoute] (the default),
// [RandomRoute], or a function of your own.
func WithRouteFunc(f RouteFunc) RouterOption { return func(r *Router) { r.route = f } }

// WithMaxAttempts sets how many members a call may be tried on, when each
// attempt before fails with [runtime.ErrNotDelivered]; 3 by default, 1 to
// never retry.
func WithMaxAttempts(n int) RouterOption { return func(r *Router) { r.maxAttempts = max(n, 1) } }

// NewRouter returns a router that picks members in v and calls them through
// inv, which addresses servers by id (a [runtime.Client]). Options:
// [WithRouteFunc], [WithMaxAttempts].
func NewRouter(v *View, inv runtime.Invoker, opts ...RouterOption) *Router {
	r := &Router{view: v, inv: inv, maxAttempts: 3}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

type routeKey struct{}

// WithRouteKey returns a context whose calls through a [Router] carry key,
// such as a user id: [HashRoute] sends every call with the same key to the
// same member while membership stays the same.
func WithRouteKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, routeKey{}, key)
}

// RouteKey returns the key [WithRouteKey] set on ctx.
func RouteKey(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(routeKey{}).(string)
	return k, ok
}

// HashRoute is the default [RouteFunc]: [ConsistentHash] of the context's
// route key ([WithRouteKey]), or a random member when it has none.
func HashRoute(ctx context.Context, _ string, _ any, members []Member) (Member, error) {
	return members[hashRoute(ctx, members)], nil
}

// RandomRoute is a [RouteFunc] that picks a member at random.
func RandomRoute(_ context.Context, _ string, _ any, members []Member) (Member, error) {
	return members[rand.IntN(len(members))], nil
}

func hashRoute(ctx context.Context, members []Member) int {
	if key, ok := RouteKey(ctx); ok {
		return hashIndex(hashString(key), members)
	}
	return rand.IntN(len(members))
}

// Arg returns the i-th argument (from 0, after ctx and the target) of a
// call made through a generated client: what a [RouteFunc] receives as
// args is the call's arguments struct, whose fields A0, A1, … hold them.
// It reports false when args has no such field.
func Arg(args any, i int) (any, bool) {
	v := reflect.ValueOf(args)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || i < 0 {
		return nil, false
	}
	f := v.FieldByName("A" + strconv.Itoa(i))
	if !f.IsValid() || !f.CanInterface() {
		return nil, false
	}
	return f.Interface(), true
}

// noServerError is the error of a call to a type without a serving
// member: it matches both ErrNoServer and runtime.ErrNotDelivered.
type noServerError struct{ typ string }

func (e *noServerError) Error() string {
	return fmt.Sprintf("rpc error: %s: %s: type %q", runtime.Unavailable, ErrNoServer.Message(), e.typ)
}

func (e *noServerError) Unwrap() []error { return []error{ErrNoServer, runtime.ErrNotDelivered} }

// errRouteFunc is the error of a call whose RouteFunc failed with an error
// that has no status code.
var errRouteFunc = runtime.NewError(runtime.Internal, "cluster: route function failed")

// Invoke implements [runtime.Invoker] with a server type as the target: it
// calls route on a serving member of serverType.
func (r *Router) Invoke(ctx context.Context, serverType, route string, args, result any) error {
	members := r.view.current().serving[serverType] // shared: never changed here
	if len(members) == 0 {
		return &noServerError{serverType}
	}
	owned := false // whether members is a copy of our own yet
	for attempt := 1; ; attempt++ {
		m, err := r.pick(ctx, route, args, members)
		if err != nil {
			return err
		}
		err = r.inv.Invoke(ctx, m.ID, route, args, result)
		if err == nil || !errors.Is(err, runtime.ErrNotDelivered) || attempt >= r.maxAttempts || ctx.Err() != nil {
			return err
		}
		if !owned {
			members, owned = slices.Clone(members), true
		}
		members = slices.DeleteFunc(members, func(x Member) bool { return x.ID == m.ID })
		if len(members) == 0 {
			return err
		}
	}
}

// Pick returns the member a call of route with args, on ctx, would go to
// first: for logs, tests, and affinity decisions.
func (r *Router) Pick(ctx context.Context, serverType, route string, args any) (Member, error) {
	members := r.view.current().serving[serverType]
	if len(members) == 0 {
		return Member{}, &noServerError{serverType}
	}
	return r.pick(ctx, route, args, members)
}

func (r *Router) pick(ctx context.Context, route string, args any, members []Member) (Member, error) {
	if r.route == nil {
		return members[hashRoute(ctx, members)], nil
	}
	m, err := r.route(ctx, route, args, slices.Clone(members))
	if err != nil {
		var re *runtime.Error
		if errors.As(err, &re) {
			return Member{}, err
		}
		return Member{}, fmt.Errorf("%w: %w", errRouteFunc, err)
	}
	if !slices.ContainsFunc(members, func(x Member) bool { return x.ID == m.ID }) {
		return Member{}, fmt.Errorf("%w: it picked %q, not a serving member of the type", errRouteFunc, m.ID)
	}
	return m, nil
}

// Outcome is what one member made of a [Router.Broadcast].
type Outcome struct {
	Member Member
	Err    error
}

// maxBroadcast bounds the calls a broadcast runs at once.
const maxBroadcast = 32

// Broadcast runs call for every member of serverType, draining ones
// included (pomelo's toServer('*')), concurrently, and returns each
// member's outcome, sorted by member id; none when the type has no member.
// call makes the typed call by id, e.g. with a generated client over the
// [runtime.Client] the router wraps:
//
//	outs := router.Broadcast(ctx, "room", func(ctx context.Context, m cluster.Member) error {
//		return roomsByID.Reload(ctx, m.ID)
//	})
//
// Nothing is retried: a broadcast's calls are not interchangeable.
func (r *Router) Broadcast(ctx context.Context, serverType string, call func(ctx context.Context, m Member) error) []Outcome {
	members := r.view.Members(OfType(serverType))
	out := make([]Outcome, len(members))
	sem := make(chan struct{}, maxBroadcast)
	var wg sync.WaitGroup
	for i, m := range members {
		out[i].Member = m
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i].Err = call(ctx, m)
		})
	}
	wg.Wait()
	return out
}
