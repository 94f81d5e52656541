// Tracesvg records one traced request crossing NATS and draws it as a
// waterfall: the picture in the README (docs/trace.svg) is its output.
//
// Usage:
//
//	tracesvg [-o FILE]
//
// It starts an embedded NATS server on loopback and two servers on it, each
// instrumented with otelrpc and a tracer provider of its own, as two
// processes would be: connector-1, a frontend holding one client's session,
// and game-1, a backend serving game.room. The connector handles the
// client's "join room" message by calling game.room.join on game-1, whose
// handler reads the session from connector-1 and pushes the room to it,
// through sys.sessionRemote. The spans of that request, recorded in memory,
// are drawn as SVG in FILE (standard output when it is "-", the default)
// and printed as a tree on standard error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sessionrpc/sessionrpc/internal/spanview"
	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

func main() {
	fs := flag.NewFlagSet("tracesvg", flag.ContinueOnError)
	out := fs.String("o", "-", "the SVG `file` to write; - for standard output")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if err := run(*out, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tracesvg:", err)
		os.Exit(1)
	}
}

// run records the request and writes the waterfall to the file named out,
// or to stdout for "-", and the tree to stderr.
func run(out string, stdout, stderr io.Writer) error {
	roots, err := record(context.Background())
	if err != nil {
		return err
	}
	if err := spanview.WriteTree(stderr, roots); err != nil {
		return err
	}
	w := stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := draw(w, roots); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && out != "-" {
		return f.Close()
	}
	return nil
}

// draw writes the waterfall of the request.
func draw(w io.Writer, roots []*spanview.Node) error {
	return spanview.WriteSVG(w, roots, "A client's \"join room\" request, traced across NATS",
		"connector-1 → game-1 → connector-1: one trace, spans of two servers (recorded by cmd/tracesvg)")
}

// record runs the request and returns its trace. It makes a few requests
// first, so that the one recorded does not pay for connections being set up.
func record(ctx context.Context) ([]*spanview.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ns, err := natsembed.Start()
	if err != nil {
		return nil, err
	}
	defer ns.Shutdown()
	exp := tracetest.NewInMemoryExporter()
	provider := func(id, service string) *sdktrace.TracerProvider {
		return sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(
			resource.NewSchemaless(semconv.ServiceName(service), semconv.ServiceInstanceID(id))))
	}
	connTP, gameTP := provider("connector-1", "connector"), provider("game-1", "game")
	defer connTP.Shutdown(context.Background())
	defer gameTP.Shutdown(context.Background())

	// connector-1: the session store, served as sys.sessionRemote, and a
	// client to reach game servers.
	store := session.NewStore("connector-1")
	connSrv := runtime.NewServer(otelrpc.ServerOption(otelrpc.WithTracerProvider(connTP)))
	sessionremote.RegisterSessionRemoteServer(connSrv, sessionremote.NewFrontend(store))
	connClient, stop, err := serve(ns.URL(), "connector-1", connSrv, otelrpc.WithTracerProvider(connTP))
	if err != nil {
		return nil, err
	}
	defer stop()

	// game-1: game.room, which reaches connector-1 through its own client.
	gameSrv := runtime.NewServer(otelrpc.ServerOption(otelrpc.WithTracerProvider(gameTP)))
	r := &room{members: map[string]int{}}
	RegisterRoomServer(gameSrv, r)
	gameClient, stop, err := serve(ns.URL(), "game-1", gameSrv, otelrpc.WithTracerProvider(gameTP))
	if err != nil {
		return nil, err
	}
	defer stop()
	r.sessions = sessionremote.NewBackendSessionService(gameClient)

	// The connector's handler of a client's message "join room".
	rooms := NewRoomClient(connClient)
	tracer := connTP.Tracer("connector")
	sid := store.Create(nil).ID()
	join := func() error {
		ctx, span := tracer.Start(ctx, "connector: handle room.join")
		defer span.End()
		_, err := rooms.Join(ctx, "game-1", store.FrontendID(), sid, "lobby")
		return err
	}
	for range 3 {
		if err := join(); err != nil {
			return nil, err
		}
	}
	exp.Reset()
	if err := join(); err != nil {
		return nil, err
	}
	traces := spanview.Traces(spanview.FromSDK(exp.GetSpans().Snapshots()))
	if len(traces) != 1 {
		return nil, fmt.Errorf("recorded %d traces, want 1", len(traces))
	}
	return traces[0], nil
}

// serve serves srv as id on NATS at url, on a connection of its own, and
// returns a client of the cluster instrumented with opts, on another.
func serve(url, id string, srv *runtime.Server, opts ...otelrpc.Option) (*runtime.Client, func(), error) {
	snc, err := natsrpc.Connect(url)
	if err != nil {
		return nil, nil, err
	}
	s, err := natsrpc.Serve(snc, id, srv)
	if err != nil {
		snc.Close()
		return nil, nil, err
	}
	cnc, err := natsrpc.Connect(url)
	if err != nil {
		_ = s.Close()
		snc.Close()
		return nil, nil, err
	}
	tr := natsrpc.NewTransport(cnc)
	stop := func() {
		tr.Close()
		cnc.Close()
		_ = s.Close()
		snc.Close()
	}
	return runtime.NewClient(tr, otelrpc.ClientOption(opts...), runtime.WithDefaultTimeout(10*time.Second)), stop, nil
}
