// Package handwritten has hand-written code that uses generated names, as
// sessionremote's backend API does. While rpcgen loads the package, the
// generated file is left out, so backend.go does not type-check; that must
// not stop generation, since the service itself type-checks.
package handwritten

import "context"

// Game is a game server.
//
//rpcgen:service game.game
//rpcgen:proxy PlayerProxy player
type Game interface {
	// Move moves player to x, y.
	Move(ctx context.Context, player string, x, y int) error
	// Score returns player's score.
	Score(ctx context.Context, player string) (int64, error)
}
