package main

import (
	"context"
	"sync"

	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// Room is the game service of the traced call: a connector calls Join when
// a client asks to join a room.
//
//rpcgen:service game.room
type Room interface {
	// Join puts the client of session sid, on frontend frontendID, in room
	// and returns how many clients the room holds.
	Join(ctx context.Context, frontendID string, sid session.ID, room string) (int, error)
}

// room is the game server's Room: it reads the session from its frontend
// and pushes the room to it, through sys.sessionRemote.
type room struct {
	sessions *sessionremote.BackendSessionService
	mu       sync.Mutex
	members  map[string]int
}

func (r *room) Join(ctx context.Context, frontendID string, sid session.ID, name string) (int, error) {
	s, err := r.sessions.Get(ctx, frontendID, sid)
	if err != nil {
		return 0, err
	}
	if err := s.Set("room", name); err != nil {
		return 0, err
	}
	if err := s.Push(ctx, "room"); err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.members[name]++
	return r.members[name], nil
}
