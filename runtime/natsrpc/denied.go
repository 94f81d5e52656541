package natsrpc

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"weak"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// NATS drops a publish or a subscription that the connection's user has no
// permission for, and tells only the connection, with an error that nats.go
// hands to the connection's error handler (nats.ErrorHandler). A call whose
// publish was dropped gets no answer and no "no responders", and probing it
// is dropped too: without that error it would wait for its deadline, or
// forever. A Transport therefore listens to its connection's errors.

// handlerMu makes reading and replacing a connection's error handler one
// step, so that transports made at once on one connection keep each other.
var handlerMu sync.Mutex

// watchDenials chains t in front of its connection's error handler, which
// still receives every error. The chain holds t weakly: a transport dropped
// by its user is not kept alive by its connection.
func (t *Transport) watchDenials() { watchDenials(t.nc, t, (*Transport).onDenied) }

// watchDenials chains on(x, err) in front of nc's error handler, holding x
// weakly.
func watchDenials[T any](nc *nats.Conn, x *T, on func(*T, error)) {
	wx := weak.Make(x)
	handlerMu.Lock()
	defer handlerMu.Unlock()
	next := nc.ErrorHandler()
	nc.SetErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
		if x := wx.Value(); x != nil {
			on(x, err)
		}
		if next != nil {
			next(nc, sub, err)
		}
	})
}

// onDenied fails at once the calls that err, an error of the connection,
// shows NATS dropped: every call to a subject it denied publishing to, or
// every call in flight when it denied the answer subscription.
func (t *Transport) onDenied(err error) {
	verb, subject, ok := deniedSubject(err)
	if !ok {
		return
	}
	switch verb {
	case denyPublish:
		t.mu.Lock()
		var lost []*call
		for id, c := range t.calls {
			if c.probe != nil || c.subject != subject {
				continue
			}
			switch {
			case c.batch != nil:
				// Batches may not go there: their calls go singly, and
				// that server's later calls too, for a while.
				delete(t.calls, id)
				t.resendLocked(c)
				continue
			case c.hello:
				t.helloLocked(c, false)
				continue
			}
			if c.in == nil { // else resent with its batch
				t.dropLocked(id, c)
				lost = append(lost, c)
			}
		}
		t.mu.Unlock()
		if len(lost) == 0 {
			return
		}
		derr := runtime.Errorf(runtime.PermissionDenied,
			"natsrpc: NATS denies this connection's user publishing to %s: it may not call server %q", subject, lost[0].serverID)
		for _, c := range lost {
			c.done <- answer{err: derr}
		}
	case denySubscribe:
		t.mu.Lock()
		sub := t.sub
		t.mu.Unlock()
		if sub == nil || sub.Subject != subject {
			return
		}
		// The next call subscribes again, and learns anew whether it may.
		t.loseWith(sub, runtime.Errorf(runtime.PermissionDenied,
			"natsrpc: NATS denies this connection's user subscribing to its answers on %s; allow it, or set nats.CustomInboxPrefix to a prefix it may subscribe to", subject))
		_ = sub.Unsubscribe()
	}
}

const (
	denyPublish   = "Publish to "
	denySubscribe = "Subscription to "
)

// deniedSubject returns what a NATS permissions violation denied: verb is
// denyPublish or denySubscribe, and subject the subject as NATS quoted it.
// nats.go passes on the server's text, e.g.
//
//	nats: permissions violation: Permissions Violation for Publish to "sessionrpc.connector-1"
func deniedSubject(err error) (verb, subject string, ok bool) {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return "", "", false
	}
	const marker = "Violation for "
	msg := err.Error()
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return "", "", false
	}
	rest := msg[i+len(marker):]
	for _, verb := range []string{denyPublish, denySubscribe} {
		q, cut := strings.CutPrefix(rest, verb)
		if !cut {
			continue
		}
		q, qerr := strconv.QuotedPrefix(q)
		if qerr != nil {
			return "", "", false
		}
		subject, qerr := strconv.Unquote(q)
		return verb, subject, qerr == nil
	}
	return "", "", false
}

// deniedSince reports whether nc's last error is a permissions violation
// for verb on subject that arrived after before, nc's last error at an
// earlier moment. nats.go keeps only the last error; one that came later
// hides it, and then deniedSince says false.
func deniedSince(nc *nats.Conn, before error, verb, subject string) (error, bool) {
	err := nc.LastError()
	if err == nil || sameError(err, before) {
		return nil, false
	}
	v, s, ok := deniedSubject(err)
	return err, ok && v == verb && s == subject
}

// sameError reports whether a and b are the same error value; == alone
// panics on errors of incomparable types.
func sameError(a, b error) bool {
	return a != nil && b != nil && reflect.TypeOf(a) == reflect.TypeOf(b) && reflect.TypeOf(a).Comparable() && a == b
}
