package sessionremote_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	srcluster "github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/internal/roomhandler"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// The whole path of a client's request, on NATS with discovery: a client's
// message enters a frontend, which forwards it by route to a server of the
// route's type; the typed handler there gets the client's session, binds it
// and pushes a setting through it; the answer comes back as the client's
// bytes.
func TestForward(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns, err := natsembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	prefix := srcluster.WithSubjectPrefix("forward.cluster")

	// Two room servers, joined as type "room".
	for _, id := range []string{"room-1", "room-2"} {
		nc := natsConn(t, ns.URL())
		svc := sessionremote.NewBackendSessionService(runtime.NewClient(natsrpc.NewTransport(nc)))
		srv := runtime.NewServer(runtime.WithInterceptors(svc.Interceptor(sessionremote.TrustAll())))
		roomhandler.RegisterRoomHandlerServer(srv, &roomhandler.Server{ID: id})
		served, err := natsrpc.Serve(nc, id, srv)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { served.Close() })
		reg, err := srcluster.Join(ctx, nc, srcluster.Info{ID: id, Type: "room", Routes: srv.Routes()}, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(reg.Close)
	}

	// The frontend: its store served as sys.sessionRemote, and a router.
	nc := natsConn(t, ns.URL())
	store := session.NewStore(fid, session.WithIncarnation(srcluster.NewIncarnation()))
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	served, err := natsrpc.Serve(nc, fid, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { served.Close() })
	view, err := srcluster.NewView(ctx, nc, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(view.Close)
	for len(view.Members(srcluster.OfType("room"))) < 2 {
		if ctx.Err() != nil {
			t.Fatal("the room servers never joined the view")
		}
		time.Sleep(10 * time.Millisecond)
	}
	router := srcluster.NewRouter(view, runtime.NewClient(natsrpc.NewTransport(nc)))

	// A client connects and asks to join room 7.
	s := store.Create(&conn{})
	raw, err := sessionremote.Forward(ctx, router, s, roomhandler.RoomHandlerJoinRoute, []byte(`{"uid":"alice","room":7}`))
	if err != nil {
		t.Fatal(err)
	}
	var reply roomhandler.JoinReply
	if err := json.Unmarshal(raw, &reply); err != nil {
		t.Fatalf("the answer %q is not the handler's result: %v", raw, err)
	}
	if reply.Frontend != fid || reply.SID != s.ID() || reply.UID != "alice" || reply.Room != 7 {
		t.Fatalf("Join answered %+v", reply)
	}
	var room int
	if ok, _ := s.Get("room", &room); !ok || room != 7 || s.UID() != "alice" {
		t.Fatalf("the session after the forwarded Join: uid %q, room %d", s.UID(), room)
	}

	// A bound user's requests stay on one server of the type (the first,
	// made before the session was bound, went to any).
	server := ""
	for range 10 {
		raw, err := sessionremote.Forward(ctx, router, s, roomhandler.RoomHandlerJoinRoute, []byte(`{"room":8}`))
		if err != nil {
			t.Fatal(err)
		}
		var again roomhandler.JoinReply
		if err := json.Unmarshal(raw, &again); err != nil {
			t.Fatal(err)
		}
		if server == "" {
			server = again.Server
		}
		if again.Server != server {
			t.Fatalf("alice's request went to %q, then to %q", server, again.Server)
		}
	}

	// A message-less request: the handler's argument-less method.
	raw, err = sessionremote.Forward(ctx, router, s, roomhandler.RoomHandlerWhoamiRoute, nil)
	if err != nil {
		t.Fatal(err)
	}
	var info session.Info
	if err := json.Unmarshal(raw, &info); err != nil || info.UID != "alice" || info.ID != s.ID() {
		t.Fatalf("Whoami answered %s (%v)", raw, err)
	}

	// What a client cannot do: smuggle arguments, name no type, name a
	// type nobody serves.
	for name, c := range map[string]struct {
		route string
		msg   string
		code  runtime.Code
	}{
		"two values":   {roomhandler.RoomHandlerJoinRoute, `{"room":1},"a1":{"x":1}`, runtime.InvalidArgument},
		"not JSON":     {roomhandler.RoomHandlerJoinRoute, `{"room":`, runtime.InvalidArgument},
		"no type":      {"join", `{}`, runtime.InvalidArgument},
		"empty type":   {".roomHandler.join", `{}`, runtime.InvalidArgument},
		"wrong field":  {roomhandler.RoomHandlerJoinRoute, `{"room":"seven"}`, runtime.InvalidArgument},
		"no such type": {"lobby.lobbyHandler.enter", `{}`, runtime.Unavailable},
	} {
		_, err := sessionremote.Forward(ctx, router, s, c.route, []byte(c.msg))
		if runtime.CodeOf(err) != c.code {
			t.Errorf("%s: Forward = %v, want code %v", name, err, c.code)
		}
		if name == "no such type" && !errors.Is(err, srcluster.ErrNoServer) {
			t.Errorf("%s: Forward = %v, want ErrNoServer", name, err)
		}
	}
}
