package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// Errors of this package; match them with errors.Is. Each has a status
// code, as every error in sessionrpc does ([runtime.CodeOf]).
var (
	// ErrDuplicateID (AlreadyExists): [Join] found the id held by a live
	// member, or a registration gave its id up to another incarnation
	// that started at the same time ([Registration.Err]).
	ErrDuplicateID = runtime.NewError(runtime.AlreadyExists, "cluster: server id held by a live member")
	// ErrNoServer (Unavailable): no live, serving server of the type a
	// [Router] was asked to call. It also matches [runtime.ErrNotDelivered].
	ErrNoServer = runtime.NewError(runtime.Unavailable, "cluster: no live server of the type")
	// ErrLeft (FailedPrecondition): the registration has left, closed, or
	// given its id up.
	ErrLeft = runtime.NewError(runtime.FailedPrecondition, "cluster: registration has left")
	// ErrConnClosed (Unavailable): the NATS connection of a registration
	// closed, so it can announce nothing more.
	ErrConnClosed = runtime.NewError(runtime.Unavailable, "cluster: NATS connection closed")
)

// invalid returns err as an InvalidArgument error.
func invalid(err error) error {
	return runtime.Errorf(runtime.InvalidArgument, "cluster: %v", err)
}

// unavailable returns a NATS failure as an Unavailable error that still
// matches the NATS error.
func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", runtime.NewError(runtime.Unavailable, "cluster: NATS unavailable"), what, err)
}

// defaultFlushTimeout bounds a flush whose context has no deadline.
const defaultFlushTimeout = 5 * time.Second

// flush waits until NATS has what nc published so far, within ctx.
func flush(ctx context.Context, nc *nats.Conn) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultFlushTimeout)
		defer cancel()
	}
	err := nc.FlushWithContext(ctx)
	if err != nil && errors.Is(err, context.Canceled) {
		return runtime.ContextError(context.Canceled)
	}
	return err
}
