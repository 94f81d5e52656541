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

// sessionTarget is the calls the framework exists for, against a real
// frontend store over TCP, on a session of a given number of settings:
// sessionrpc-tcp-push-N is SessionRemoteClient.Push of one setting (the
// message as a JSON string, 50 bytes) into a session of N settings, and
// sessionrpc-tcp-get-N is GetBackendSessionBySid of such a session, whose
// answer grows with N. Push returns only an error, so its check reads the
// setting back from the store (same process), which costs a map lookup under
// a lock; Get's checks the number of settings and the pushed one.
type sessionTarget struct {
	peer   string
	get    bool
	n      int
	client *sessionremote.SessionRemoteClient
	sess   *session.Session
	value  json.RawMessage
	stop   func()
}

// pushKey is the setting the session peers push and read.
const pushKey = "room"

// sessionPeer returns the start function of the session peer that pushes
// (get false) or reads (get true) a session of n settings.
func sessionPeer(get bool, n int) func(*env) (target, error) {
	return func(*env) (target, error) {
		store := session.NewStore(serverID)
		srv := runtime.NewServer(runtime.WithLogger(quiet))
		sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
		tr, stop, err := serveTCP(srv)
		if err != nil {
			return nil, err
		}
		// The setting is the message as a JSON string: 50 bytes. The
		// others are small objects, as game state is.
		value, _ := json.Marshal(message)
		sess := store.Create(nopConn{})
		for i := range n - 1 {
			if err := sess.Set(fmt.Sprintf("key%d", i), map[string]any{"level": i, "name": fmt.Sprintf("player %d", i)}); err != nil {
				stop()
				return nil, err
			}
		}
		if err := sess.Set(pushKey, message); err != nil {
			stop()
			return nil, err
		}
		verb := "push"
		if get {
			verb = "get"
		}
		return &sessionTarget{
			peer:   fmt.Sprintf("sessionrpc-tcp-%s-%d", verb, n),
			get:    get,
			n:      n,
			client: sessionremote.NewSessionRemoteClient(runtime.NewClient(tr)),
			sess:   sess,
			value:  value,
			stop:   stop,
		}, nil
	}
}

func (t *sessionTarget) name() string { return t.peer }

func (t *sessionTarget) call(ctx context.Context) error {
	if t.get {
		info, err := t.client.GetBackendSessionBySid(ctx, serverID, t.sess.ID())
		if err != nil {
			return err
		}
		if len(info.Settings) != t.n || string(info.Settings[pushKey]) != string(t.value) {
			return fmt.Errorf("%w: %d settings, %s is %s", errMismatch, len(info.Settings), pushKey, info.Settings[pushKey])
		}
		return nil
	}
	if err := t.client.Push(ctx, serverID, t.sess.ID(), pushKey, sessionremote.Setting{JSON: t.value}); err != nil {
		return err
	}
	if got, _ := t.sess.Raw(pushKey); string(got) != string(t.value) {
		return fmt.Errorf("%w: setting is %s", errMismatch, got)
	}
	return nil
}

func (t *sessionTarget) close() { t.stop() }

// nopConn is the client connection of the push peer's session: nobody.
type nopConn struct{}

func (nopConn) Kick(string)               {}
func (nopConn) Close()                    {}
func (nopConn) Send(string, []byte) error { return nil }
