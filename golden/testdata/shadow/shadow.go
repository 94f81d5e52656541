// Package shadow has parameters whose names shadow the packages that the
// generated code uses, and names the generated code uses itself.
package shadow

import (
	"context"
	"encoding/json"
	"time"
)

// Timer schedules things.
//
//rpcgen:service sys.timer
//rpcgen:proxy ContextProxy context
type Timer interface {
	// After waits for time, as measured in context.
	After(ctx context.Context, context string, time time.Duration) (time.Time, error)
	// Raw takes names that the stubs use.
	Raw(runtime context.Context, json json.RawMessage, serverID string, a0 int, err string) error
	// Locals takes more of them.
	Locals(c context.Context, impl, args, result, out, r, a, inv string) (r0 string, err error)
}

// new is a function of the package's own: generated code does not call the
// builtin new, which it would hide.
func new() *time.Location { return time.UTC }
