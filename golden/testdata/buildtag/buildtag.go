//go:build !nofeature || (linux && amd64)

// Package buildtag declares its service in a file with a build constraint:
// the generated file must carry it too, or builds without this file would
// see generated code for an interface that is not there.
package buildtag

import "context"

// Feature is built unless the nofeature tag is set.
//
//rpcgen:service app.feature
type Feature interface {
	// Enabled reports whether the feature named name is on.
	Enabled(ctx context.Context, name string) (bool, error)
}
