// Package variadic has methods whose last parameter is variadic.
package variadic

import "context"

// Chat sends messages.
//
//rpcgen:service chat.room
//rpcgen:proxy RoomProxy room
//rpcgen:proxy MuteProxy uids
type Chat interface {
	// Say posts msgs to room.
	Say(ctx context.Context, room string, msgs ...string) error
	// Sum adds xs to base.
	Sum(ctx context.Context, base int, xs ...int) (int, error)
	// Mute mutes uids everywhere.
	Mute(ctx context.Context, uids ...string) error
}
