package sessionremote

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
)

// Forward is the frontend half of a client's request: the connector hands
// it the client's message for route, as the client sent it, and gets the
// backend handler's answer back, encoded, for the client. Nothing is
// decoded on the way.
//
//	router := cluster.NewRouter(view, client)               // calls by server type
//	reply, err := sessionremote.Forward(ctx, router, s, "room.roomHandler.join", msg)
//
// The call goes through inv, an Invoker whose target is a server type, such
// as a [cluster.Router]: the type is the route's first segment, as in
// pomelo ("room.roomHandler.join" goes to a "room" server), and the route
// is the rest of what the backend serves, an annotated interface of your
// own:
//
//	//rpcgen:service room.roomHandler
//	type RoomHandler interface {
//		Join(ctx context.Context, req JoinRequest) (JoinReply, error)
//	}
//
// msg is the handler's one argument after ctx, in JSON (an empty msg is
// its zero value), and the reply is its result in JSON (nil for a handler
// that returns only an error). The call carries s ([WithSession]), which
// the handler gets from [FromContext]. Unless ctx already has a route key
// ([cluster.WithRouteKey]), a bound session's uid is the key, so a user's
// requests go to one server of the type while membership stays the same,
// as pomelo's default route does; an unbound session's go to any.
//
// A msg that is not one JSON value fails with InvalidArgument before
// anything is sent, as does a route without a server type.
func Forward(ctx context.Context, inv runtime.Invoker, s *session.Session, route string, msg []byte) ([]byte, error) {
	serverType, _, ok := strings.Cut(route, ".")
	if !ok || serverType == "" {
		return nil, runtime.Errorf(runtime.InvalidArgument, "forward %q: the route names no server type (want <type>.<service>.<method>)", route)
	}
	args := make([]byte, 0, len(`{"a0":}`)+len(msg))
	if len(msg) == 0 {
		args = append(args, "{}"...)
	} else {
		// Checked, so that a client cannot close the object and add
		// arguments of its own.
		if !json.Valid(msg) {
			return nil, runtime.Errorf(runtime.InvalidArgument, "forward %s: the message is not one JSON value", route)
		}
		args = append(append(append(args, `{"a0":`...), msg...), '}')
	}
	ctx = WithSession(ctx, s)
	if _, ok := cluster.RouteKey(ctx); !ok {
		if uid := s.UID(); uid != "" {
			ctx = cluster.WithRouteKey(ctx, uid)
		}
	}
	var reply runtime.RawMessage
	if err := inv.Invoke(ctx, serverType, route, runtime.RawMessage(args), &reply); err != nil {
		return nil, err
	}
	if len(reply) == 0 {
		return nil, nil
	}
	var result struct {
		R0 json.RawMessage `json:"r0"`
	}
	if err := json.Unmarshal(reply, &result); err != nil {
		return nil, runtime.Errorf(runtime.Internal, "forward %s: the backend's answer is not a result: %v", route, err)
	}
	return result.R0, nil
}
