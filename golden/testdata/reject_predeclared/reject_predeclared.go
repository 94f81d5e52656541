// Package reject_predeclared declares names that hide predeclared
// identifiers the generated code uses. (A func new is fine: generated code
// does not call new.)
package reject_predeclared

import "context"

// S is a service.
//
//rpcgen:service t.s
type S interface {
	Get(ctx context.Context, id int64) (string, error)
}

type s struct{}

func new() *s { return &s{} }

var append = 1

type string []byte
