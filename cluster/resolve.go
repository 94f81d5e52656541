package cluster

import (
	"context"
	"fmt"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Resolve returns the TCP address the live member serverID announced. It
// makes a View the resolver of a TCP transport, so that a TCP cluster needs
// only a NATS URL to find its peers (NATS carries membership, TCP carries
// calls):
//
//	tr := tcp.NewTransport(view)
//
// An id that no live member holds, or whose member announced no address,
// resolves to an Unavailable error matching [runtime.ErrNotDelivered]: the
// call was not sent. Resolve answers from memory.
func (v *View) Resolve(ctx context.Context, serverID string) (string, error) {
	addr, _, err := v.ResolveMember(ctx, serverID)
	return addr, err
}

// ResolveMember is [View.Resolve] that also returns the incarnation the
// address belongs to, so that a transport can tell the server which run of
// serverID it means to reach, and a server that is not that run (a new
// process on a reused port) can refuse the call.
func (v *View) ResolveMember(_ context.Context, serverID string) (addr, incarnation string, err error) {
	m, ok := v.Member(serverID)
	switch {
	case !ok:
		return "", "", fmt.Errorf("%w: cluster: no live server %q", runtime.ErrNotDelivered, serverID)
	case m.Addr == "":
		return "", "", fmt.Errorf("%w: cluster: server %q announces no TCP address", runtime.ErrNotDelivered, serverID)
	}
	return m.Addr, m.Incarnation, nil
}
