package natsrpc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

// The tests here show that credentials and TLS are NATS's business, passed
// through natsrpc.Connect as nats.go options, and what a user sees when
// NATS refuses them.

// greet serves the echo route under id on nc and counts the calls that
// reach the handler.
func greet(t *testing.T, nc *nats.Conn, id string, opts ...natsrpc.ServerOption) *atomic.Int64 {
	t.Helper()
	var ran atomic.Int64
	rs := runtime.NewServer(runtime.WithLogger(quiet))
	rs.RegisterService(&runtime.ServiceDesc{Name: "t.svc", Methods: []runtime.MethodDesc{{
		Route: routeEcho, NewArgs: newOf[strArgs](), NewResult: newOf[strRes](),
		Handler: func(ctx context.Context, impl, args, result any) error {
			ran.Add(1)
			result.(*strRes).R0 = "hello, " + args.(*strArgs).A0
			return nil
		}}}}, nil)
	s, err := natsrpc.Serve(nc, id, rs, append([]natsrpc.ServerOption{natsrpc.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &ran
}

// hello calls the echo route of id through nc.
func hello(t *testing.T, nc *nats.Conn, id string, timeout time.Duration) (string, error) {
	t.Helper()
	tr := natsrpc.NewTransport(nc, natsrpc.WithLogger(quiet))
	defer tr.Close()
	var out strRes
	err := runtime.NewClient(tr).Invoke(ctxFor(t, timeout), id, routeEcho, &strArgs{A0: "backend"}, &out)
	return out.R0, err
}

// wantHello calls id through nc and fails unless the call succeeds.
func wantHello(t *testing.T, nc *nats.Conn, id string) {
	t.Helper()
	got, err := hello(t, nc, id, 5*time.Second)
	if err != nil || got != "hello, backend" {
		t.Fatalf("call to %s: %q, %v", id, got, err)
	}
}

// refused connects to url with opts and returns the error, failing the test
// if the connection succeeds or takes long to fail.
func refused(t *testing.T, url string, opts ...nats.Option) error {
	t.Helper()
	start := time.Now()
	nc, err := natsrpc.Connect(url, append(opts, nats.Timeout(2*time.Second))...)
	if err == nil {
		nc.Close()
		t.Fatalf("connected to %s", url)
	}
	if nc != nil {
		t.Errorf("a refused Connect returned a connection as well as %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("refusal took %v", d)
	}
	return err
}

func TestUserPassword(t *testing.T) {
	ns := startNATS(t, natsembed.WithUserPassword("game", "s3cret"))
	greet(t, connect(t, ns.URL(), nats.UserInfo("game", "s3cret")), "connector-1")
	wantHello(t, connect(t, ns.URL(), nats.UserInfo("game", "s3cret")), "connector-1")

	// Without credentials, or with wrong ones, Connect fails: there is no
	// connection, hence no Transport, no Server, and no call that could
	// hang. The error is nats.go's, as NATS said it.
	for name, opts := range map[string][]nats.Option{
		"no credentials": nil,
		"wrong password": {nats.UserInfo("game", "guess")},
		"wrong user":     {nats.UserInfo("root", "s3cret")},
	} {
		err := refused(t, ns.URL(), opts...)
		if !errors.Is(err, nats.ErrAuthorization) || !strings.Contains(err.Error(), "Authorization Violation") {
			t.Errorf("%s: err = %v, want nats.ErrAuthorization", name, err)
		}
		t.Logf("%s: natsrpc.Connect: %v", name, err)
	}
}

func TestToken(t *testing.T) {
	ns := startNATS(t, natsembed.WithToken("t0ken"))
	greet(t, connect(t, ns.URL(), nats.Token("t0ken")), "connector-1")
	wantHello(t, connect(t, ns.URL(), nats.Token("t0ken")), "connector-1")
	for _, opts := range [][]nats.Option{nil, {nats.Token("t1ken")}} {
		if err := refused(t, ns.URL(), opts...); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("err = %v, want nats.ErrAuthorization", err)
		}
	}
}

// pki is a certificate authority and the files of a server and a client
// certificate it signed, written to a test's temporary directory.
type pki struct {
	dir        string
	caFile     string
	pool       *x509.CertPool
	serverCert tls.Certificate
	clientCert string // PEM files for nats.ClientCert
	clientKey  string
}

// newPKI makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all valid for an hour.
func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), pool: x509.NewCertPool()}
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name + " test CA"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p.pool.AddCert(ca)
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", caDER)

	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    time.Now().Add(-time.Minute),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:     []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	der, key := leaf(2, "nats", x509.ExtKeyUsageServerAuth)
	p.serverCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	der, key = leaf(3, "backend-1", x509.ExtKeyUsageClientAuth)
	p.clientCert = p.write(t, "client.pem", "CERTIFICATE", der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p.clientKey = p.write(t, "client-key.pem", "PRIVATE KEY", keyDER)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func (p *pki) write(t *testing.T, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The NATS server requires TLS and a client certificate from its CA; both
// sides pass the CA and their certificate through natsrpc.Connect.
func TestMutualTLS(t *testing.T) {
	p := newPKI(t, "sessionrpc")
	ns := startNATS(t, natsembed.WithTLS(&tls.Config{
		Certificates: []tls.Certificate{p.serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.pool,
		MinVersion:   tls.VersionTLS12,
	}))
	if !strings.HasPrefix(ns.URL(), "tls://127.0.0.1:") {
		t.Fatalf("URL = %q, want tls://", ns.URL())
	}
	trusted := []nats.Option{nats.RootCAs(p.caFile), nats.ClientCert(p.clientCert, p.clientKey)}
	greet(t, connect(t, ns.URL(), trusted...), "connector-1")
	backend := connect(t, ns.URL(), trusted...)
	if !backend.TLSRequired() {
		t.Fatal("connection not over TLS")
	}
	wantHello(t, backend, "connector-1")

	// A client that does not trust the server's CA refuses the server.
	err := refused(t, ns.URL(), nats.ClientCert(p.clientCert, p.clientKey))
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("untrusted CA: err = %v, want x509.UnknownAuthorityError", err)
	}
	t.Logf("client without the CA: natsrpc.Connect: %v", err)

	// A client with a certificate from another CA, or none, is refused by
	// the server. TLS 1.3 reports the server's verdict after the
	// handshake, so nats.go may see it as a closed connection rather than
	// a TLS alert; either way there is no connection.
	other := newPKI(t, "other")
	err = refused(t, ns.URL(), nats.RootCAs(p.caFile), nats.ClientCert(other.clientCert, other.clientKey))
	t.Logf("client certificate from another CA: natsrpc.Connect: %v", err)
	err = refused(t, ns.URL(), nats.RootCAs(p.caFile))
	t.Logf("no client certificate: natsrpc.Connect: %v", err)
}

// TLS without client certificates: the client only checks the server.
func TestServerTLS(t *testing.T) {
	p := newPKI(t, "sessionrpc")
	ns := startNATS(t, natsembed.WithTLS(&tls.Config{Certificates: []tls.Certificate{p.serverCert}}),
		natsembed.WithUserPassword("game", "s3cret"))
	opts := []nats.Option{nats.RootCAs(p.caFile), nats.UserInfo("game", "s3cret")}
	greet(t, connect(t, ns.URL(), opts...), "connector-1")
	wantHello(t, connect(t, ns.URL(), opts...), "connector-1")
	// Secure with a tls.Config of one's own works as well as RootCAs.
	wantHello(t, connect(t, ns.URL(), nats.Secure(&tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS13}),
		nats.UserInfo("game", "s3cret")), "connector-1")
	var unknown x509.UnknownAuthorityError
	if err := refused(t, ns.URL(), nats.UserInfo("game", "s3cret")); !errors.As(err, &unknown) {
		t.Errorf("untrusted CA: err = %v, want x509.UnknownAuthorityError", err)
	}
}

// permissionUsers are NATS users for a cluster whose frontends are
// connector-1 and connector-2, as an operator would write them in
// nats-server.conf:
//
//	authorization {
//	  users = [
//	    {user: connector-1, password: ..., permissions: {
//	      subscribe: ["sessionrpc.connector-1", "_INBOX_connector-1.>"],
//	      publish: ["sessionrpc.connector-1"],
//	      allow_responses: true}}
//	    {user: connector-2, password: ..., permissions: {
//	      subscribe: ["sessionrpc.connector-2", "_INBOX_connector-2.>"],
//	      allow_responses: true}}
//	    {user: backend-1, password: ..., permissions: {
//	      subscribe: ["_INBOX_backend-1.>"],
//	      publish: ["sessionrpc.>"]}}
//	    {user: intruder, password: ..., permissions: {
//	      subscribe: ["_INBOX_intruder.>"],
//	      publish: ["sessionrpc.connector-2"]}}
//	  ]
//	}
//
// A frontend answers calls through allow_responses: it can answer whoever
// called it, and publish nowhere else. connector-1 may also publish on its
// own subject, which lets Serve check that no one else serves its id;
// connector-2 may not, and Serve skips the check. Each user has an inbox
// prefix of its own (nats.CustomInboxPrefix) and may subscribe only there:
// no one reads the answers meant for another.
func permissionUsers() []*server.User {
	user := func(name string, pub, sub []string, responses bool) *server.User {
		u := &server.User{Username: name, Password: name + "-pw", Permissions: &server.Permissions{
			Subscribe: &server.SubjectPermission{Allow: sub},
		}}
		if pub != nil || responses {
			// An empty publish allow list allows nothing but answers;
			// a nil one, everything.
			u.Permissions.Publish = &server.SubjectPermission{Allow: append([]string{}, pub...)}
		}
		if responses {
			u.Permissions.Response = &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute}
		}
		return u
	}
	return []*server.User{
		// Serves batches: it may subscribe to them and publish batches of
		// answers to its callers' inboxes.
		user("connector-1", []string{"sessionrpc.connector-1", "_INBOX_backend-1.>"}, []string{"sessionrpc.connector-1", "sessionrpc.connector-1.v2", "_INBOX_connector-1.>"}, true),
		// May not subscribe to batches: it serves its callers singly.
		user("connector-2", nil, []string{"sessionrpc.connector-2", "_INBOX_connector-2.>"}, true),
		// May subscribe to batches but only answer to reply subjects, as
		// before batches: it serves its callers singly too.
		user("connector-3", []string{}, []string{"sessionrpc.connector-3", "sessionrpc.connector-3.v2", "_INBOX_connector-3.>"}, true),
		user("backend-1", []string{"sessionrpc.>"}, []string{"_INBOX_backend-1.>"}, false),
		user("intruder", []string{"sessionrpc.connector-2"}, []string{"_INBOX_intruder.>"}, false),
		// Allowed to call anyone, but connects with the default inbox
		// prefix, which it may not subscribe to.
		user("careless", []string{"sessionrpc.>"}, []string{"_INBOX_careless.>"}, false),
	}
}

// as connects as one of permissionUsers, with its own inbox prefix unless
// defaultInbox, and collects the asynchronous errors NATS reports on the
// connection.
func as(t *testing.T, url, user string, defaultInbox bool) (*nats.Conn, <-chan error) {
	t.Helper()
	errc := make(chan error, 64)
	opts := []nats.Option{nats.UserInfo(user, user+"-pw"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errc <- err:
			default:
			}
		})}
	if !defaultInbox {
		opts = append(opts, nats.CustomInboxPrefix("_INBOX_"+user))
	}
	return connect(t, url, opts...), errc
}

// A call NATS refuses to carry fails at once, however long its deadline
// (30s here, or none); this leaves room for a loaded machine.
const deniedWithin = 3 * time.Second

// NATS permissions decide who may call whom: an allowed backend's calls
// succeed; a caller without publish permission on a frontend's subject
// fails with PermissionDenied at once, with or without a deadline, and the
// frontend's handler never runs.
func TestPermissions(t *testing.T) {
	ns := startNATS(t, natsembed.WithUsers(permissionUsers()...))
	fnc, ferrs := as(t, ns.URL(), "connector-1", false)
	ran := greet(t, fnc, "connector-1")
	bnc, _ := as(t, ns.URL(), "backend-1", false)
	for range 3 {
		wantHello(t, bnc, "connector-1")
	}
	if n := ran.Load(); n != 3 {
		t.Fatalf("handler ran %d times, want 3", n)
	}

	inc, ierrs := as(t, ns.URL(), "intruder", false)
	tr := natsrpc.NewTransport(inc, natsrpc.WithLogger(quiet))
	t.Cleanup(tr.Close)
	client := runtime.NewClient(tr)
	for name, ctx := range map[string]context.Context{
		"with a deadline":    ctxFor(t, 30*time.Second),
		"without a deadline": t.Context(),
	} {
		start := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- client.Invoke(ctx, "connector-1", routeEcho, &strArgs{A0: "intruder"}, &strRes{}) }()
		var err error
		select {
		case err = <-errc:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the intruder's call still waits", name)
		}
		took := time.Since(start)
		t.Logf("%s: the intruder's call failed after %v: %v", name, took.Round(time.Millisecond), err)
		wantCode(t, err, runtime.PermissionDenied)
		if !strings.Contains(err.Error(), `"connector-1"`) || !strings.Contains(err.Error(), "sessionrpc.connector-1") {
			t.Errorf("error names neither the server nor its subject: %v", err)
		}
		if took > deniedWithin {
			t.Errorf("%s: the denied call took %v", name, took)
		}
	}
	// The connection's own error handler still hears of the violations.
	select {
	case aerr := <-ierrs:
		if !errors.Is(aerr, nats.ErrPermissionViolation) {
			t.Errorf("async error %v, want a permissions violation", aerr)
		}
	case <-time.After(5 * time.Second):
		t.Error("the intruder's error handler never heard of the violation")
	}
	if n := ran.Load(); n != 3 {
		t.Fatalf("handler ran %d times, want 3: the intruder got through", n)
	}
	select {
	case err := <-ferrs:
		t.Errorf("the frontend's connection got an error: %v", err)
	default:
	}

	// What the intruder may publish to but no one serves is no responders,
	// as ever; a call with a denied server id with characters NATS quotes
	// is denied.
	wantCode(t, client.Invoke(ctxFor(t, 5*time.Second), "connector-2", routeEcho, &strArgs{}, &strRes{}), runtime.Unavailable)
	wantCode(t, client.Invoke(ctxFor(t, 5*time.Second), `con"ne\ctor`, routeEcho, &strArgs{}, &strRes{}), runtime.PermissionDenied)

	// The backend still calls, after the intruder's attempts.
	wantHello(t, bnc, "connector-1")
}

// A frontend whose user may only answer, not publish on its own subject,
// serves without the id check, at once rather than after the check's
// timeout; a user that may not subscribe to a subject cannot serve it.
func TestServePermissions(t *testing.T) {
	ns := startNATS(t, natsembed.WithUsers(permissionUsers()...))
	fnc, _ := as(t, ns.URL(), "connector-2", false)
	start := time.Now()
	greet(t, fnc, "connector-2")
	// Waiting for an answer to a ping NATS dropped would take 2s.
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Serve took %v", d)
	}
	bnc, _ := as(t, ns.URL(), "backend-1", false)
	wantHello(t, bnc, "connector-2")

	inc, _ := as(t, ns.URL(), "intruder", false)
	start = time.Now()
	_, err := natsrpc.Serve(inc, "connector-1", runtime.NewServer(), natsrpc.WithLogger(quiet))
	if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), "sessionrpc.connector-1") {
		t.Fatalf("Serve without permission to subscribe: %v, want a permissions violation naming the subject", err)
	}
	t.Logf("Serve without permission: %v", err)
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("refused Serve took %v", d)
	}
}

// Frontends whose users may not subscribe to batches of calls, or may not
// publish batches of answers (they may only answer to reply subjects, as
// before batches), still serve every call, singly, and with the
// permissions batches need a frontend serves them.
func TestPermissionsWithoutBatches(t *testing.T) {
	ns := startNATS(t, natsembed.WithUsers(permissionUsers()...))
	for _, id := range []string{"connector-1", "connector-2", "connector-3"} {
		fnc, _ := as(t, ns.URL(), id, false)
		ran := greet(t, fnc, id)
		bnc, _ := as(t, ns.URL(), "backend-1", false)
		tr := natsrpc.NewTransport(bnc, natsrpc.WithLogger(quiet))
		t.Cleanup(tr.Close)
		client := runtime.NewClient(tr)
		// Concurrent callers, over longer than a hello may wait, so that
		// batches are tried where they are possible.
		const callers, rounds = 8, 40
		var wg sync.WaitGroup
		errc := make(chan error, callers*rounds)
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					var res strRes
					if err := client.Invoke(ctxFor(t, 10*time.Second), id, routeEcho, &strArgs{A0: "backend"}, &res); err != nil || res.R0 != "hello, backend" {
						errc <- fmt.Errorf("call to %s: %q, %v", id, res.R0, err)
						return
					}
					time.Sleep(75 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		if n := ran.Load(); n != callers*rounds {
			t.Fatalf("%s: handler ran %d times, want %d", id, n, callers*rounds)
		}
		t.Logf("%s: %d calls, batches used: %v", id, callers*rounds, natsrpc.Batching(tr, id))
		if want := id == "connector-1"; natsrpc.Batching(tr, id) != want {
			t.Errorf("%s: batching %v, want %v", id, !want, want)
		}
	}
}

// A caller that may not subscribe to its inbox cannot hear answers: its
// calls fail with PermissionDenied, which says what to change, rather than
// wait.
func TestDeniedInbox(t *testing.T) {
	ns := startNATS(t, natsembed.WithUsers(permissionUsers()...))
	fnc, _ := as(t, ns.URL(), "connector-1", false)
	greet(t, fnc, "connector-1")
	cnc, _ := as(t, ns.URL(), "careless", true)
	tr := natsrpc.NewTransport(cnc, natsrpc.WithLogger(quiet))
	t.Cleanup(tr.Close)
	client := runtime.NewClient(tr)
	for range 2 { // the second call subscribes again, and is denied again
		start := time.Now()
		err := client.Invoke(t.Context(), "connector-1", routeEcho, &strArgs{}, &strRes{})
		wantCode(t, err, runtime.PermissionDenied)
		if !strings.Contains(err.Error(), "CustomInboxPrefix") {
			t.Errorf("error does not say how to fix it: %v", err)
		}
		if d := time.Since(start); d > deniedWithin {
			t.Errorf("denied call took %v", d)
		}
	}
	// With an inbox of its own, the same user calls.
	ok, _ := as(t, ns.URL(), "careless", false)
	wantHello(t, ok, "connector-1")
}

// A transport hooks its connection's error handler without the connection
// keeping it alive: once closed and dropped, it is collected, and the
// handler the application set still gets every error.
func TestTransportNotKeptByItsConnection(t *testing.T) {
	f := newFixture(t, nil)
	got := make(chan error, 1)
	nc := connect(t, f.nats.URL(), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { got <- err }))
	tr := natsrpc.NewTransport(nc, f.topts...)
	if err := runtime.NewClient(tr).Invoke(ctxFor(t, 5*time.Second), f.id, routeEcho, &strArgs{}, &strRes{}); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	w := weak.Make(tr)
	tr = nil
	deadline := time.Now().Add(5 * time.Second)
	for w.Value() != nil {
		if time.Now().After(deadline) {
			t.Fatal("a closed transport is still reachable")
		}
		goruntime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	want := errors.New("test")
	nc.ErrorHandler()(nc, nil, want)
	if err := <-got; err != want {
		t.Fatalf("application's handler got %v, want %v", err, want)
	}
}
