package handwritten

import (
	"context"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Backend is the hand-written API over the generated client.
type Backend struct {
	c        *GameClient
	serverID string
}

// NewBackend returns a backend calling serverID through inv.
func NewBackend(inv runtime.Invoker, serverID string) *Backend {
	return &Backend{c: NewGameClient(inv), serverID: serverID}
}

// Player returns the proxy of one player.
func (b *Backend) Player(name string) PlayerProxy {
	return NewPlayerProxy(b.c, b.serverID, name)
}

// Routes lists the routes of Game.
var Routes = []string{GameMoveRoute, GameScoreRoute}

// MoveTwice moves a player twice.
func (b *Backend) MoveTwice(ctx context.Context, player string, x, y int) error {
	p := b.Player(player)
	if err := p.Move(ctx, x, y); err != nil {
		return err
	}
	return p.Move(ctx, x, y)
}
