// Package roomhandler is a game's room handlers as a backend serves them to
// the clients' requests that connectors forward (sessionremote.Forward),
// for the tests of the session that travels with a call: each handler takes
// the client's session from its context and acts through it.
package roomhandler

import (
	"context"

	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// RoomHandler is what a room server offers clients (pomelo's
// room.roomHandler): the route's first segment, room, is the server type.
//
//rpcgen:service room.roomHandler
type RoomHandler interface {
	// Join logs the client in as req.UID unless its session is bound
	// already, puts it in req.Room and pushes the room to its session.
	Join(ctx context.Context, req JoinRequest) (JoinReply, error)
	// Whoami returns the client's session as the handler was handed it.
	Whoami(ctx context.Context) (session.Info, error)
}

// JoinRequest is a client's message asking to join a room.
type JoinRequest struct {
	UID  string `json:"uid"`
	Room int    `json:"room"`
}

// JoinReply is the answer to a JoinRequest.
type JoinReply struct {
	Server   string     `json:"server"`   // the room server that took it
	Frontend string     `json:"frontend"` // the session's frontend, as handed
	SID      session.ID `json:"sid"`
	UID      string     `json:"uid"` // the session's uid after the join
	Room     int        `json:"room"`
}

// Server is a RoomHandler.
type Server struct {
	// ID is the server's id, returned in every JoinReply.
	ID string
}

var _ RoomHandler = (*Server)(nil)

// Join implements RoomHandler.
func (s *Server) Join(ctx context.Context, req JoinRequest) (JoinReply, error) {
	bs, err := sessionremote.FromContext(ctx)
	if err != nil {
		return JoinReply{}, err
	}
	if bs.UID() == "" {
		if err := bs.Bind(ctx, req.UID); err != nil {
			return JoinReply{}, err
		}
	}
	if err := bs.Set("room", req.Room); err != nil {
		return JoinReply{}, err
	}
	if err := bs.Push(ctx, "room"); err != nil {
		return JoinReply{}, err
	}
	return JoinReply{Server: s.ID, Frontend: bs.FrontendID(), SID: bs.ID(), UID: bs.UID(), Room: req.Room}, nil
}

// Whoami implements RoomHandler.
func (s *Server) Whoami(ctx context.Context) (session.Info, error) {
	bs, err := sessionremote.FromContext(ctx)
	if err != nil {
		return session.Info{}, err
	}
	return bs.Export(), nil
}
