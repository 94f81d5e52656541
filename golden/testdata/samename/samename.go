// Package samename uses two packages named model in one service, and the
// standard library's runtime package beside the rpcgen runtime: every one
// needs a stable, distinct import name.
package samename

import (
	"context"
	"runtime"

	amodel "github.com/sessionrpc/sessionrpc/golden/testdata/samename/a/model"
	bmodel "github.com/sessionrpc/sessionrpc/golden/testdata/samename/b/model"
)

// Directory maps users of one system to the other.
//
//rpcgen:service user.directory
type Directory interface {
	// Translate returns the b user of an a user.
	Translate(ctx context.Context, u amodel.User) (bmodel.User, error)
	// Back returns the a users of a b user.
	Back(ctx context.Context, u *bmodel.User) ([]amodel.User, error)
	// Stats returns the memory statistics of the server.
	Stats(ctx context.Context) (*runtime.MemStats, error)
}
