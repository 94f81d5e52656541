package rpctest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Shapes is a payload with one field of every shape the suite round-trips.
type Shapes struct {
	Int64  int64              `json:"int64"`
	Uint64 uint64             `json:"uint64"`
	Float  float64            `json:"float"`
	String string             `json:"string"`
	Bool   bool               `json:"bool"`
	Bytes  []byte             `json:"bytes"`
	Nil    *int               `json:"nil"`
	Ptr    *int               `json:"ptr"`
	Slice  []string           `json:"slice"`
	Map    map[string]int64   `json:"map"`
	Nested []map[string]any   `json:"nested"`
	Array  [3]uint8           `json:"array"`
	Raw    json.RawMessage    `json:"raw"`
	Inner  struct{ A, B int } `json:"inner"`
	Seq    int                `json:"seq"` // matches concurrent answers to their callers
}

// echo is the service the suite calls. Its methods are hand-written in the
// shape rpcgen generates, so the suite does not depend on the generator.
type echo struct {
	// cancelled receives the handler ctx's error when a Block call ends.
	cancelled chan error
	// started receives once per Block call when its handler is running.
	started chan struct{}
	// release ends Block calls that wait for it.
	release chan struct{}
}

const (
	routeEcho     = "rpctest.echo.echo"
	routeFail     = "rpctest.echo.fail"
	routePanic    = "rpctest.echo.panic"
	routeBlock    = "rpctest.echo.block"
	routeDeadline = "rpctest.echo.deadline"
	routeMetadata = "rpctest.echo.metadata"
	routeSize     = "rpctest.echo.size"
	routeNilError = "rpctest.echo.nilError"
)

// panicValue is what the panic route panics with.
const panicValue = "rpctest: deliberate panic, secret=hunter2"

type (
	echoArgs   struct{ A0 Shapes }
	echoResult struct{ R0 Shapes }
	failArgs   struct {
		A0 runtime.Code
		A1 string
	}
	blockArgs   struct{ A0 bool } // true: wait for release instead of ctx
	deadlineRes struct {
		R0 time.Duration // time left
		R1 bool          // had a deadline
	}
	metadataRes struct{ R0 runtime.Metadata }
	sizeArgs    struct{ A0 []byte }
	sizeResult  struct{ R0 int }
	emptyArgs   struct{}
)

// errSentinel is what Fail wraps, so the suite can check identity on the far side.
var errSentinel = runtime.NewError(runtime.FailedPrecondition, "rpctest sentinel")

func newArgs[T any]() func() any { return func() any { return new(T) } }

func (e *echo) desc() *runtime.ServiceDesc {
	return &runtime.ServiceDesc{Name: "rpctest.echo", Methods: []runtime.MethodDesc{
		{Route: routeEcho, NewArgs: newArgs[echoArgs](), NewResult: newArgs[echoResult](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				result.(*echoResult).R0 = args.(*echoArgs).A0
				return nil
			}},
		{Route: routeFail, NewArgs: newArgs[failArgs](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				a := args.(*failArgs)
				if a.A0 == runtime.FailedPrecondition {
					return fmt.Errorf("%w: %s", errSentinel, a.A1)
				}
				return runtime.Errorf(a.A0, "%s", a.A1)
			}},
		{Route: routePanic, NewArgs: newArgs[emptyArgs](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				panic(panicValue)
			}},
		{Route: routeNilError, NewArgs: newArgs[emptyArgs](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				var e *runtime.Error
				return e
			}},
		{Route: routeBlock, NewArgs: newArgs[blockArgs](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				e.started <- struct{}{}
				if args.(*blockArgs).A0 {
					select {
					case <-e.release:
						return nil
					case <-ctx.Done():
					}
				}
				<-ctx.Done()
				e.cancelled <- ctx.Err()
				return ctx.Err()
			}},
		{Route: routeDeadline, NewArgs: newArgs[emptyArgs](), NewResult: newArgs[deadlineRes](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				r := result.(*deadlineRes)
				if dl, ok := ctx.Deadline(); ok {
					r.R0, r.R1 = time.Until(dl), true
				}
				return nil
			}},
		{Route: routeMetadata, NewArgs: newArgs[emptyArgs](), NewResult: newArgs[metadataRes](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				result.(*metadataRes).R0 = runtime.MetadataFromContext(ctx)
				return nil
			}},
		{Route: routeSize, NewArgs: newArgs[sizeArgs](), NewResult: newArgs[sizeResult](),
			Handler: func(ctx context.Context, impl, args, result any) error {
				result.(*sizeResult).R0 = len(args.(*sizeArgs).A0)
				return nil
			}},
	}}
}
