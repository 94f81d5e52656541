package presence

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
	// ErrNoIndex (FailedPrecondition): [Directory.Locate] needs the uid
	// index, and the directory has none: NATS runs without JetStream, or
	// [WithoutIndex]. The cluster-wide calls work without it, asking every
	// frontend.
	ErrNoIndex = runtime.NewError(runtime.FailedPrecondition, "presence: no uid index (JetStream)")
	// ErrIndexUnavailable (Unavailable): the index could not be read or
	// opened: JetStream did not answer, or answered an error.
	ErrIndexUnavailable = runtime.NewError(runtime.Unavailable, "presence: uid index unavailable")
	// ErrIncomplete (Unavailable): a cluster-wide call that some frontend
	// did not answer ([Result.Err], [Delivery].Err): what the others did
	// is in the result.
	ErrIncomplete = runtime.NewError(runtime.Unavailable, "presence: not every frontend answered")
	// ErrInvalidUID (InvalidArgument): an empty uid.
	ErrInvalidUID = runtime.NewError(runtime.InvalidArgument, "presence: invalid uid")
)

// indexError returns a JetStream failure as ErrIndexUnavailable, or as the
// caller's DeadlineExceeded or Canceled when its context ended, keeping the
// JetStream error matchable.
func indexError(what string, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %s: %w", runtime.ContextError(context.DeadlineExceeded), what, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %s: %w", runtime.ContextError(context.Canceled), what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrIndexUnavailable, what, err)
}

// defaultFlushTimeout bounds a flush whose context has no deadline.
const defaultFlushTimeout = 10 * time.Second

// flush waits until NATS has what nc published so far, within ctx.
func flush(ctx context.Context, nc *nats.Conn) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultFlushTimeout)
		defer cancel()
	}
	return nc.FlushWithContext(ctx)
}
