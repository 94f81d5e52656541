// Package reject_builtin hides new and len, which the generated JSON of its
// nested values calls: new(T) for a pointer it decodes into, len for a field
// with omitempty.
package reject_builtin

import "context"

// Item has a field with omitempty.
type Item struct {
	Tags []string `json:"tags,omitempty"`
}

// S is a service.
//
//rpcgen:service t.s
type S interface {
	Put(ctx context.Context, item *Item) error
}

func new() {}

var len = 1
