package main

import (
	"context"
	"net"

	"github.com/lesismal/arpc"
	arpclog "github.com/lesismal/arpc/log"
)

// arpc (github.com/lesismal/arpc) runs with its defaults: one client
// connection shared by every caller, a send goroutine batching queued
// messages into one write on each side, and each request handled on a
// goroutine of its own (arpc's default AsyncResponse). Its default codec is
// JSON, so the two peers differ only in what they hand it:
//
//   - arpc: [EchoMsg] through arpc's codec (encoding/json), the {"a0": …}
//     that grpc-go and sessionrpc carry;
//   - arpc-raw (extra): the message as a string, which arpc carries as its
//     bytes without any codec, as grpc-go-raw does.

func init() {
	// arpc logs every connection and disconnection to stdout.
	arpclog.SetLevel(arpclog.LevelNone)
}

// arpcMethod is the route of the echo handler.
const arpcMethod = "/echo"

// arpcTarget calls the echo handler through an arpc client.
type arpcTarget struct {
	peer   string
	raw    bool
	client *arpc.Client
	ln     net.Listener
	served chan struct{} // closed when the server's Serve has returned
}

func newARPC(*env) (target, error)    { return startARPC("arpc", false) }
func newARPCRaw(*env) (target, error) { return startARPC("arpc-raw", true) }

func startARPC(peer string, raw bool) (target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := arpc.NewServer()
	if raw {
		srv.Handler.Handle(arpcMethod, func(ctx *arpc.Context) {
			var s string
			if err := ctx.Bind(&s); err != nil {
				_ = ctx.Error(err)
				return
			}
			_ = ctx.Write(s)
		})
	} else {
		srv.Handler.Handle(arpcMethod, func(ctx *arpc.Context) {
			var m EchoMsg
			if err := ctx.Bind(&m); err != nil {
				_ = ctx.Error(err)
				return
			}
			_ = ctx.Write(&m)
		})
	}
	t := &arpcTarget{peer: peer, raw: raw, ln: ln, served: make(chan struct{})}
	go func() {
		defer close(t.served)
		_ = srv.Serve(ln)
	}()
	addr := ln.Addr().String()
	t.client, err = arpc.NewClient(func() (net.Conn, error) { return net.Dial("tcp", addr) })
	if err != nil {
		t.stopServer()
		return nil, err
	}
	return t, nil
}

func (t *arpcTarget) name() string { return t.peer }

func (t *arpcTarget) call(ctx context.Context) error {
	if t.raw {
		var out string
		if err := t.client.CallWith(ctx, arpcMethod, message, &out); err != nil {
			return err
		}
		return checkEcho(out)
	}
	var out EchoMsg
	if err := t.client.CallWith(ctx, arpcMethod, &EchoMsg{A0: message}, &out); err != nil {
		return err
	}
	return checkEcho(out.A0)
}

// close stops the client first: an arpc client that loses its server
// redials it once a second for as long as it runs.
func (t *arpcTarget) close() {
	t.client.Stop()
	t.stopServer()
}

// stopServer closes the listener and waits for the accept loop to end,
// which stops the server's side of every connection. Not Server.Stop, which
// reads the listener Serve sets on its own goroutine, and may find none.
func (t *arpcTarget) stopServer() {
	_ = t.ln.Close()
	<-t.served
}
