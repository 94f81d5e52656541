package main

import (
	"context"
	"net"
	"net/rpc"
)

// EchoRPC is the net/rpc echo service (net/rpc serves only exported types).
type EchoRPC struct{}

// Echo sets reply to msg.
func (EchoRPC) Echo(msg string, reply *string) error {
	*reply = msg
	return nil
}

// netRPCTarget is net-rpc: net/rpc with its default gob codec over one TCP
// connection, which net/rpc's client multiplexes for all callers. net/rpc
// knows no contexts: ctx is ignored.
type netRPCTarget struct {
	ln     net.Listener
	client *rpc.Client
}

func newNetRPC(*env) (target, error) {
	srv := rpc.NewServer()
	if err := srv.Register(EchoRPC{}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// Not srv.Accept, which logs the listener's closing.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.ServeConn(c)
		}
	}()
	client, err := rpc.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, err
	}
	return &netRPCTarget{ln: ln, client: client}, nil
}

func (t *netRPCTarget) name() string { return "net-rpc" }

func (t *netRPCTarget) call(context.Context) error {
	var reply string
	if err := t.client.Call("EchoRPC.Echo", message, &reply); err != nil {
		return err
	}
	return checkEcho(reply)
}

func (t *netRPCTarget) close() { _ = t.client.Close(); _ = t.ln.Close() }
