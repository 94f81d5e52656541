package main

import (
	"context"
	"log/slog"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// quiet discards the frameworks' logs.
var quiet = slog.New(slog.DiscardHandler)

// serverID is the id every sessionrpc peer serves the echo service under.
const serverID = "echo-1"

// newEchoServer returns a sessionrpc server with the echo service registered.
func newEchoServer() *runtime.Server {
	srv := runtime.NewServer(runtime.WithLogger(quiet))
	RegisterEchoServer(srv, echoServer{})
	return srv
}

// echoTarget calls the echo service through generated code over any
// sessionrpc transport; stop releases what the transport holds.
type echoTarget struct {
	peer   string
	client *EchoClient
	stop   func()
}

func (t *echoTarget) name() string { return t.peer }

func (t *echoTarget) call(ctx context.Context) error {
	got, err := t.client.Echo(ctx, serverID, message)
	if err != nil {
		return err
	}
	return checkEcho(got)
}

func (t *echoTarget) close() { t.stop() }

// newInProc is sessionrpc-inproc: the in-process transport, which still
// encodes, copies and dispatches on a worker goroutine as a network transport
// would.
func newInProc(*env) (target, error) {
	net := runtime.NewInProc()
	served, err := net.Serve(serverID, newEchoServer())
	if err != nil {
		return nil, err
	}
	return &echoTarget{
		peer:   "sessionrpc-inproc",
		client: NewEchoClient(runtime.NewClient(net)),
		stop:   func() { served.Close() },
	}, nil
}
