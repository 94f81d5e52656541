package main

import (
	"context"
	"net"

	"github.com/smallnest/rpcx/client"
	rpcxlog "github.com/smallnest/rpcx/log"
	"github.com/smallnest/rpcx/protocol"
	"github.com/smallnest/rpcx/server"
)

// rpcx (github.com/smallnest/rpcx) runs as its README shows: a server with
// a registered receiver, and one client.Client, so one connection, shared by
// every caller. Callers write their own requests (a whole message per Write,
// under no lock of rpcx's); the server reads on one goroutine per connection
// and handles each request on a goroutine of its own. The server's HTTP
// gateway and JSON-RPC listeners are switched off, as a cluster's internal
// RPC would run; rpcx still puts its connection multiplexer (cmux) in front
// of the listener, which costs a little at accept time only.
//
//   - rpcx: [EchoMsg] encoded by rpcx's JSON codec (protocol.JSON, which
//     decodes with encoding/json's Decoder and UseNumber);
//   - rpcx-msgpack (extra): the same struct through rpcx's default codec,
//     MessagePack.

func init() {
	// rpcx logs every connection's end.
	rpcxlog.SetDummyLogger()
}

// RPCXEcho is the rpcx echo service (rpcx serves only exported types).
type RPCXEcho struct{}

// Echo sets reply to args.
func (RPCXEcho) Echo(_ context.Context, args *EchoMsg, reply *EchoMsg) error {
	*reply = *args
	return nil
}

// rpcxTarget calls the echo service through an rpcx client.
type rpcxTarget struct {
	peer   string
	ln     net.Listener
	srv    *server.Server
	served chan struct{} // closed when ServeListener has returned
	client *client.Client
}

func newRPCX(*env) (target, error) { return startRPCX("rpcx", protocol.JSON) }
func newRPCXMsgpack(*env) (target, error) {
	return startRPCX("rpcx-msgpack", client.DefaultOption.SerializeType)
}

func startRPCX(peer string, codec protocol.SerializeType) (target, error) {
	srv := server.NewServer()
	srv.DisableHTTPGateway = true
	srv.DisableJSONRPC = true
	if err := srv.RegisterName("Echo", RPCXEcho{}, ""); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &rpcxTarget{peer: peer, ln: ln, srv: srv, served: make(chan struct{})}
	go func() {
		defer close(t.served)
		_ = srv.ServeListener("tcp", ln)
	}()
	opt := client.DefaultOption
	opt.SerializeType = codec
	t.client = client.NewClient(opt)
	if err := t.client.Connect("tcp", ln.Addr().String()); err != nil {
		t.stopServer()
		return nil, err
	}
	return t, nil
}

func (t *rpcxTarget) name() string { return t.peer }

func (t *rpcxTarget) call(ctx context.Context) error {
	var out EchoMsg
	if err := t.client.Call(ctx, "Echo", "Echo", &EchoMsg{A0: message}, &out); err != nil {
		return err
	}
	return checkEcho(out.A0)
}

func (t *rpcxTarget) close() {
	_ = t.client.Close()
	t.stopServer()
}

// stopServer closes the server, its listener and every connection it
// accepted, and waits for ServeListener to return. (Server.Close closes
// cmux's listener, which closes ours; closing ours as well does not depend
// on that.)
func (t *rpcxTarget) stopServer() {
	<-t.srv.Started
	_ = t.srv.Close()
	_ = t.ln.Close()
	<-t.served
}
