// Package pub exposes a type of an internal package through an alias, the
// only spelling of that type that other packages can import.
package pub

import "github.com/sessionrpc/sessionrpc/golden/testdata/aliases/pub/internal/hidden"

// Token is the public name of hidden.Token.
type Token = hidden.Token

// List is a generic alias.
type List[T any] = []T
