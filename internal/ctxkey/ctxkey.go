// Package ctxkey holds the context keys the runtime and the transports share,
// so that a transport can put a value in a call's context without a
// context.WithValue per call.
package ctxkey

// Peer is the key of the call's *runtime.Peer.
type Peer struct{}
