package main

import (
	"context"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

// env holds what peers share within one run: the embedded NATS server both
// NATS peers go through, started by the first that needs it.
type env struct {
	ns *natsembed.Server
}

// natsURL returns the URL of the embedded NATS server, starting it.
func (e *env) natsURL() (string, error) {
	if e.ns == nil {
		ns, err := natsembed.Start()
		if err != nil {
			return "", err
		}
		e.ns = ns
	}
	return e.ns.URL(), nil
}

func (e *env) close() {
	if e.ns != nil {
		e.ns.Shutdown()
		e.ns = nil
	}
}

// connectPair opens two connections to the embedded server, one for the
// server side and one for the client side, as two processes would have.
func connectPair(e *env, connect func(string, ...nats.Option) (*nats.Conn, error)) (snc, cnc *nats.Conn, err error) {
	url, err := e.natsURL()
	if err != nil {
		return nil, nil, err
	}
	if snc, err = connect(url); err != nil {
		return nil, nil, err
	}
	if cnc, err = connect(url); err != nil {
		snc.Close()
		return nil, nil, err
	}
	return snc, cnc, nil
}

// newNATS is sessionrpc-nats: the echo service through generated code over
// natsrpc, through the embedded NATS server on loopback.
func newNATS(e *env) (target, error) { return startNATS(e, "sessionrpc-nats", true) }

// newNATSSingle is sessionrpc-nats-single: the same with batches off
// (natsrpc.WithBatches(false)), every call in a NATS message of its own, as
// before batches.
func newNATSSingle(e *env) (target, error) { return startNATS(e, "sessionrpc-nats-single", false) }

func startNATS(e *env, name string, batches bool) (target, error) {
	snc, cnc, err := connectPair(e, natsrpc.Connect)
	if err != nil {
		return nil, err
	}
	srv, err := natsrpc.Serve(snc, serverID, newEchoServer(), natsrpc.WithLogger(quiet), natsrpc.WithBatches(batches))
	if err != nil {
		snc.Close()
		cnc.Close()
		return nil, err
	}
	tr := natsrpc.NewTransport(cnc, natsrpc.WithLogger(quiet), natsrpc.WithBatches(batches))
	return &echoTarget{
		peer:   name,
		client: NewEchoClient(runtime.NewClient(tr)),
		stop:   func() { tr.Close(); srv.Close(); cnc.Close(); snc.Close() },
	}, nil
}

// natsTarget is nats-request: plain nats.go request/reply through the same
// embedded server, the handler replying on the subscription's goroutine.
type natsTarget struct {
	snc, cnc *nats.Conn
	msg      []byte
}

// natsSubject is the subject the plain NATS echo listens on.
const natsSubject = "bench.echo"

func newNATSRequest(e *env) (target, error) {
	snc, cnc, err := connectPair(e, nats.Connect)
	if err != nil {
		return nil, err
	}
	t := &natsTarget{snc: snc, cnc: cnc, msg: []byte(message)}
	if _, err := snc.Subscribe(natsSubject, func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		t.close()
		return nil, err
	}
	if err := snc.Flush(); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

func (t *natsTarget) name() string { return "nats-request" }

func (t *natsTarget) call(ctx context.Context) error {
	m, err := t.cnc.RequestWithContext(ctx, natsSubject, t.msg)
	if err != nil {
		return err
	}
	return checkEchoBytes(m.Data)
}

func (t *natsTarget) close() { t.cnc.Close(); t.snc.Close() }
