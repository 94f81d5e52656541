package tcp

import (
	"context"
	"fmt"
	"sync"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Resolver turns a server id into the address a [Transport] dials, such as
// "10.0.0.7:3150". Resolve runs on every call, so it should answer from
// memory. An error fails the call: return a [*runtime.Error] to choose its
// code; any other error becomes Unavailable.
type Resolver interface {
	Resolve(ctx context.Context, serverID string) (addr string, err error)
}

// A MemberResolver is a [Resolver] that also knows which run of a server an
// id resolves to: an incarnation, unique to one start of the server's
// process, as cluster membership announces it. A [Transport] whose resolver
// is one names the server id and incarnation in the first frame of each
// connection, and a [Server] started with [WithIdentity] refuses a
// connection meant for another server or another run of itself: after a
// server dies, a new process that takes its port never receives the calls
// meant for the old one. Such calls fail with Unavailable matching
// [runtime.ErrNotDelivered].
type MemberResolver interface {
	Resolver
	ResolveMember(ctx context.Context, serverID string) (addr, incarnation string, err error)
}

// ResolverFunc adapts a function to a [Resolver].
type ResolverFunc func(ctx context.Context, serverID string) (string, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, serverID string) (string, error) {
	return f(ctx, serverID)
}

// StaticResolver is the built-in [Resolver]: a map from server id to
// address, safe for concurrent use, that can change while calls run (servers
// join and leave the cluster). An id it does not hold resolves to an
// Unavailable error. The zero value is an empty map ready to use.
type StaticResolver struct {
	m sync.Map // server id → address
}

// NewStaticResolver returns a resolver holding a copy of addrs (server id →
// address); addrs may be nil.
func NewStaticResolver(addrs map[string]string) *StaticResolver {
	r := &StaticResolver{}
	for id, addr := range addrs {
		r.Set(id, addr)
	}
	return r
}

// Set maps serverID to addr, replacing any address it had.
func (r *StaticResolver) Set(serverID, addr string) { r.m.Store(serverID, addr) }

// Delete forgets serverID: calls to it fail with Unavailable from now on.
func (r *StaticResolver) Delete(serverID string) { r.m.Delete(serverID) }

// Resolve returns the address of serverID, or an Unavailable error when the
// resolver does not hold it.
func (r *StaticResolver) Resolve(_ context.Context, serverID string) (string, error) {
	if v, ok := r.m.Load(serverID); ok {
		return v.(string), nil
	}
	return "", fmt.Errorf("%w: unknown server %q", runtime.ErrNotDelivered, serverID)
}
