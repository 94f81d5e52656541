// Package room is a game's room service, for the tests and examples of
// package cluster: servers of type "room" serve it, and callers reach "a
// room server" by type through a cluster.Router.
package room

import "context"

// RoomRemote is what a room server offers other servers (pomelo's
// app.rpc.room.roomRemote).
//
//rpcgen:service room.roomRemote
type RoomRemote interface {
	// Join puts uid in a room of this server and returns the id of the
	// server that took it.
	Join(ctx context.Context, uid string) (string, error)
	// Reload makes the server reload its configuration, returning its id.
	Reload(ctx context.Context) (string, error)
}

// Server is a RoomRemote that remembers who joined it.
type Server struct {
	// ID is the server's id, returned by every method.
	ID string
	// Err, when set, is what every method returns.
	Err error
	// Joined receives the uid of every Join, when not nil.
	Joined chan<- string
}

// Join implements RoomRemote.
func (s *Server) Join(_ context.Context, uid string) (string, error) {
	if s.Err != nil {
		return "", s.Err
	}
	if s.Joined != nil {
		s.Joined <- uid
	}
	return s.ID, nil
}

// Reload implements RoomRemote.
func (s *Server) Reload(context.Context) (string, error) {
	if s.Err != nil {
		return "", s.Err
	}
	return s.ID, nil
}
