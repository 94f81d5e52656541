// Package names has parameters whose names the generated stubs cannot use
// as they are: names the stubs use themselves, names of packages the
// generated file imports, blank names. Each is renamed in the stub that
// needs it, and only there; every other parameter keeps its name.
package names

import (
	"context"

	"github.com/sessionrpc/sessionrpc/golden/testdata/internal/session"
)

// Clash is a service of awkward names.
//
//rpcgen:service t.clash
//rpcgen:proxy ServerProxy serverID
//rpcgen:proxy SessionProxy session
type Clash interface {
	// Imports takes the names of packages the generated file imports.
	Imports(ctx context.Context, context string, runtime int, jsonwire bool, session session.ID) (string, error)

	// Locals takes names the client stub uses; its own context parameter
	// is called c. Its stub has a result, and keeps the arguments in out
	// with it: args is no local of it and keeps its name.
	Locals(c context.Context, ctx string, ctx2 string, out int, err string, serverID string, inv string, args string) (string, error)

	// ErrOnly has no result, so its stub uses neither out nor err, but
	// nil and args.
	ErrOnly(ctx context.Context, out string, err string, nil int, args string) error

	// Blank has blank parameters, and one named like the first free name.
	Blank(ctx context.Context, _ string, _ int, a1 bool) error

	// Unnamed has no parameter names at all.
	Unnamed(context.Context, string, []byte) (int, error)

	// Generated takes the names of generated declarations its stub uses.
	Generated(ctx context.Context, ClashGeneratedRoute string, _Clash_Generated_Args int) error

	// Served is a method of ServerProxy, whose constructor takes a
	// serverID of its own.
	Served(ctx context.Context, serverID string, p string, c int) (string, error)

	// Joined is a method of SessionProxy.
	Joined(ctx context.Context, session session.ID, key string) (string, error)
}
