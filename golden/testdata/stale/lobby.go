// Package stale holds generated files that no longer compile: lobby_rpc.go
// is the output of an older Lobby, and oldservice_rpc.go that of an
// interface that is gone. Their //go:build !rpcgen line keeps them out of
// the generator's load, so they do not stand in its way.
package stale

import "context"

// Lobby matches players.
//
//rpcgen:service game.lobby
type Lobby interface {
	// Enter puts a player in the queue.
	Enter(ctx context.Context, player string) (int, error)
}
