package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// serveTCP serves d on a loopback port and returns a client transport that
// reaches it as serverID, and a function that stops both.
func serveTCP(d *runtime.Server) (*tcp.Transport, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	srv := tcp.NewServer(d, tcp.WithLogger(quiet))
	go srv.Serve(ln)
	tr := tcp.NewTransport(tcp.NewStaticResolver(map[string]string{serverID: ln.Addr().String()}), tcp.WithLogger(quiet))
	return tr, func() { _ = tr.Close(); _ = srv.Close() }, nil
}

// newTCP is sessionrpc-tcp: the echo service through generated code over
// the TCP transport; all callers share the transport, so one connection.
func newTCP(*env) (target, error) {
	tr, stop, err := serveTCP(newEchoServer())
	if err != nil {
		return nil, err
	}
	return &echoTarget{peer: "sessionrpc-tcp", client: NewEchoClient(runtime.NewClient(tr)), stop: stop}, nil
}

// pushTarget is sessionrpc-tcp-push: the call the framework exists for,
// SessionRemoteClient.Push of a small setting to a real frontend store over
// TCP. Push returns only an error, so the echo check reads the setting back
// from the store (same process), which costs a map lookup under a lock.
type pushTarget struct {
	client *sessionremote.SessionRemoteClient
	sess   *session.Session
	value  json.RawMessage
	stop   func()
}

// pushKey is the setting the push peer writes.
const pushKey = "room"

func newTCPPush(*env) (target, error) {
	store := session.NewStore(serverID)
	srv := runtime.NewServer(runtime.WithLogger(quiet))
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	tr, stop, err := serveTCP(srv)
	if err != nil {
		return nil, err
	}
	// The setting is the message as a JSON string: 50 bytes.
	value, _ := json.Marshal(message)
	return &pushTarget{
		client: sessionremote.NewSessionRemoteClient(runtime.NewClient(tr)),
		sess:   store.Create(nopConn{}),
		value:  value,
		stop:   stop,
	}, nil
}

func (t *pushTarget) name() string { return "sessionrpc-tcp-push" }

func (t *pushTarget) call(ctx context.Context) error {
	if err := t.client.Push(ctx, serverID, t.sess.ID(), pushKey, sessionremote.Setting{JSON: t.value}); err != nil {
		return err
	}
	if got, _ := t.sess.Raw(pushKey); string(got) != string(t.value) {
		return fmt.Errorf("%w: setting is %s", errMismatch, got)
	}
	return nil
}

func (t *pushTarget) close() { t.stop() }

// nopConn is the client connection of the push peer's session: nobody.
type nopConn struct{}

func (nopConn) Kick(string)               {}
func (nopConn) Close()                    {}
func (nopConn) Send(string, []byte) error { return nil }
