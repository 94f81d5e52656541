// Package jsonlocals has types named like the variables of the generated
// JSON methods (v, b, d, err, data, and p1, p2 for elements), used where
// those methods spell types out: in the functions for elements and in new.
// The variables take other names.
package jsonlocals

import "context"

type b struct {
	N int `json:"n"`
}

type d []b

type v map[string]d

type p1 struct {
	B *b `json:"b"`
}

type p2 = p1

type err int

type data string

// Locals is served with those types.
//
//rpcgen:service t.locals
type Locals interface {
	Put(ctx context.Context, x []b, y map[string]*p2, z *v, e []err, s []data) (*d, error)
}
