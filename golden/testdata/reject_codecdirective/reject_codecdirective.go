// Package reject_codecdirective misuses //rpcgen:codec.
package reject_codecdirective

import "context"

// A names no codec.
//
//rpcgen:service t.a
//rpcgen:codec
type A interface {
	M(ctx context.Context) error
}

// B names two.
//
//rpcgen:service t.b
//rpcgen:codec gob json
type B interface {
	M(ctx context.Context) error
}

// C names one twice.
//
//rpcgen:service t.c
//rpcgen:codec gob
//rpcgen:codec gob
type C interface {
	M(ctx context.Context) error
}

// D puts it on a method.
//
//rpcgen:service t.d
type D interface {
	//rpcgen:codec gob
	M(ctx context.Context) error
}

// E names no codec that could be.
//
//rpcgen:service t.e
//rpcgen:codec j$on
type E interface {
	M(ctx context.Context) error
}
