// Package aliases sends aliases, which the generated code must write as
// they are written here: resolving pub.Token would import an internal
// package that this package may not import.
package aliases

import (
	"context"

	"github.com/sessionrpc/sessionrpc/golden/testdata/aliases/pub"
)

// UserID is a local alias.
type UserID = string

// Vault keeps tokens.
//
//rpcgen:service sys.vault
type Vault interface {
	// Issue returns a new token for uid.
	Issue(ctx context.Context, uid UserID) (pub.Token, error)
	// Revoke revokes tokens.
	Revoke(ctx context.Context, tokens pub.List[pub.Token]) error
	// Owner returns who holds a token.
	Owner(ctx context.Context, t *pub.Token) (UserID, error)
	// Any takes the predeclared alias any.
	Any(ctx context.Context, v any, m map[string]any) (any, error)
}
