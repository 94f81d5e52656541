// Package rpctest is the conformance suite every [runtime.Transport] must
// pass, in the manner of testing/fstest: a transport's own test is three lines
// that call [Run].
package rpctest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// Network is a transport under test.
type Network interface {
	// Transport returns the client side. The suite makes one per test and
	// keeps it across server restarts.
	Transport() runtime.Transport
	// Serve serves srv under serverID until the returned Listener stops.
	// Serving an id again after Close must make it reachable again through
	// the same Transport.
	Serve(serverID string, srv *runtime.Server) (Listener, error)
	// MaxPayload is the largest encoded argument payload the transport
	// carries; one byte more must be refused with ResourceExhausted.
	MaxPayload() int
}

// Listener is one served server id: the lifecycle every transport's server
// has.
type Listener interface {
	// Shutdown stops taking new calls and waits for those in flight.
	Shutdown(ctx context.Context) error
	// Close ends serving at once, as if the process died: calls in flight
	// must fail with Unavailable promptly, and their handlers' contexts
	// end. It returns once the handlers have returned.
	Close() error
}

// Run runs every check against the transport newNetwork builds; it calls
// newNetwork once per check.
func Run(t *testing.T, newNetwork func(t *testing.T) Network) {
	checks := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"RoundTripShapes", testRoundTripShapes},
		{"CodedErrors", testCodedErrors},
		{"UnknownRoute", testUnknownRoute},
		{"UnknownServer", testUnknownServer},
		{"PanicIsInternal", testPanic},
		{"NilErrorIsInternal", testNilError},
		{"AdmissionBeforeDecoding", testAdmission},
		{"ObserverSeesEveryCall", testObserver},
		{"DeadlinePropagates", testDeadlinePropagates},
		{"DeadlineExceeded", testDeadlineExceeded},
		{"CancelReachesHandler", testCancel},
		{"Metadata", testMetadata},
		{"RawMessage", testRawMessage},
		{"Concurrent1000", testConcurrent},
		{"PayloadLimit", testPayloadLimit},
		{"PayloadNotKept", testPayloadNotKept},
		{"StopMidCall", testStopMidCall},
		{"ServerComesBack", testServerBack},
		{"GracefulShutdown", testGracefulShutdown},
		{"Interceptors", testInterceptors},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newEnv(t, newNetwork))
		})
	}
}

// A call that should answer at once gets this long before the suite calls
// it a hang; generous, because CI machines are shared.
const patience = 5 * time.Second

type env struct {
	newNet func(t *testing.T) Network
	net    Network
	echo   *echo
	server *runtime.Server
	client *runtime.Client
	ln     Listener
	id     string
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newEnv(t *testing.T, newNet func(t *testing.T) Network, opts ...runtime.ServerOption) *env {
	n := newNet(t)
	e := &env{newNet: newNet, net: n, id: "srv-1", echo: &echo{
		cancelled: make(chan error, 1024),
		started:   make(chan struct{}, 1024),
		release:   make(chan struct{}),
	}}
	limit := runtime.WithMaxPayload(n.MaxPayload())
	e.server = runtime.NewServer(append([]runtime.ServerOption{limit, runtime.WithLogger(quiet)}, opts...)...)
	e.server.RegisterService(e.echo.desc(), e.echo)
	e.client = runtime.NewClient(n.Transport(), limit)
	e.serve(t)
	return e
}

func (e *env) serve(t *testing.T) {
	t.Helper()
	ln, err := e.net.Serve(e.id, e.server)
	if err != nil {
		t.Fatalf("Serve(%q): %v", e.id, err)
	}
	e.ln = ln
	t.Cleanup(func() { ln.Close() })
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t *testing.T, err error, want runtime.Code) {
	t.Helper()
	if got := runtime.CodeOf(err); got != want {
		t.Fatalf("err = %v (code %v), want code %v", err, got, want)
	}
	var re *runtime.Error
	if !errors.As(err, &re) {
		t.Fatalf("err %v (%T) is not a *runtime.Error", err, err)
	}
}

func testRoundTripShapes(t *testing.T, e *env) {
	seven := 7
	in := Shapes{
		Int64: math.MinInt64, Uint64: math.MaxUint64, Float: 0.1 + 0.2, String: "héllo \x00 世界 \"q\"",
		Bool: true, Bytes: []byte{0, 255, 1}, Ptr: &seven, Slice: []string{"a", ""},
		Map: map[string]int64{"max": math.MaxInt64, "2^53+1": 1<<53 + 1}, Array: [3]uint8{1, 2, 3},
		Nested: []map[string]any{{"k": []any{"v", true, nil}}}, Raw: []byte(`{"x":[1,2.5,"s"]}`),
		Inner: struct{ A, B int }{-1, 1},
	}
	var out echoResult
	if err := e.client.Invoke(ctxFor(t, patience), e.id, routeEcho, &echoArgs{A0: in}, &out); err != nil {
		t.Fatalf("echo: %v", err)
	}
	if diff := cmp.Diff(in, out.R0); diff != "" {
		t.Fatalf("echo changed the payload (-sent +received):\n%s", diff)
	}
}

func testCodedErrors(t *testing.T, e *env) {
	ctx := ctxFor(t, patience)
	err := e.client.Invoke(ctx, e.id, routeFail, &failArgs{A0: runtime.FailedPrecondition, A1: "detail"}, nil)
	wantCode(t, err, runtime.FailedPrecondition)
	if !errors.Is(err, errSentinel) {
		t.Errorf("errors.Is(%v, sentinel) = false after the wire", err)
	}
	if !strings.Contains(err.Error(), "rpctest sentinel: detail") {
		t.Errorf("message lost: %q", err.Error())
	}
	for c := runtime.Canceled; c <= runtime.Unauthenticated; c++ {
		err := e.client.Invoke(ctx, e.id, routeFail, &failArgs{A0: c, A1: "m-" + c.String()}, nil)
		wantCode(t, err, c)
		var re *runtime.Error
		errors.As(err, &re)
		if c != runtime.FailedPrecondition && re.Message() != "m-"+c.String() {
			t.Errorf("code %v: message = %q", c, re.Message())
		}
	}
}

func testUnknownRoute(t *testing.T, e *env) {
	err := e.client.Invoke(ctxFor(t, patience), e.id, "rpctest.echo.nope", &emptyArgs{}, nil)
	wantCode(t, err, runtime.Unimplemented)
	if !strings.Contains(err.Error(), "rpctest.echo.nope") {
		t.Errorf("error does not name the route: %v", err)
	}
}

func testUnknownServer(t *testing.T, e *env) {
	// A deadline far away: only an immediate Unavailable passes, a hang
	// until the deadline gives DeadlineExceeded.
	start := time.Now()
	err := e.client.Invoke(ctxFor(t, 4*patience), "no-such-server", routeEcho, &echoArgs{}, &echoResult{})
	wantCode(t, err, runtime.Unavailable)
	// The transport knows the call never reached a server, so a caller
	// may send it elsewhere.
	if !errors.Is(err, runtime.ErrNotDelivered) {
		t.Errorf("call to an unknown server: %v does not match runtime.ErrNotDelivered", err)
	}
	if d := time.Since(start); d > patience {
		t.Errorf("unknown server took %v to fail", d)
	}
}

func testPanic(t *testing.T, e *env) {
	ctx := ctxFor(t, patience)
	err := e.client.Invoke(ctx, e.id, routePanic, &emptyArgs{}, nil)
	wantCode(t, err, runtime.Internal)
	if !errors.Is(err, runtime.ErrPanicked) {
		t.Errorf("a handler's panic = %v, want it to match runtime.ErrPanicked", err)
	}
	// The panic's value may hold secrets: it goes to the server's log only.
	if strings.Contains(err.Error(), panicValue) {
		t.Errorf("the caller saw the panic's value: %v", err)
	}
	var out echoResult
	if err := e.client.Invoke(ctx, e.id, routeEcho, &echoArgs{A0: Shapes{Seq: 1}}, &out); err != nil || out.R0.Seq != 1 {
		t.Fatalf("server did not keep serving after a panic: %v", err)
	}
}

// A handler that returns a nil *runtime.Error as its error (var e
// *runtime.Error; return e) gets Internal, and the server keeps serving.
func testNilError(t *testing.T, e *env) {
	ctx := ctxFor(t, patience)
	err := e.client.Invoke(ctx, e.id, routeNilError, &emptyArgs{}, nil)
	wantCode(t, err, runtime.Internal)
	if !strings.Contains(err.Error(), "nil *runtime.Error") {
		t.Errorf("error does not say what went wrong: %v", err)
	}
	var out echoResult
	if err := e.client.Invoke(ctx, e.id, routeEcho, &echoArgs{A0: Shapes{Seq: 1}}, &out); err != nil || out.R0.Seq != 1 {
		t.Fatalf("server did not keep serving after a nil error: %v", err)
	}
}

// errDenied is what the suite's admission refuses with.
var errDenied = runtime.NewError(runtime.PermissionDenied, "rpctest: denied")

// deny is an Admission that refuses calls carrying the metadata key "deny".
func deny(ctx context.Context, info runtime.CallInfo) error {
	if _, ok := runtime.MetadataFromContext(ctx)["deny"]; ok {
		return fmt.Errorf("%w: %s", errDenied, info.Route)
	}
	return nil
}

// An admission runs before the arguments are decoded: arguments that do
// not decode are refused by it, not by the codec, and the handler never
// runs.
func testAdmission(t *testing.T, plain *env) {
	e := newEnv(t, plain.newNet, runtime.WithAdmission(deny))
	ctx := ctxFor(t, patience)
	denied := runtime.Metadata{"deny": "1"}
	resp, err := e.net.Transport().RoundTrip(ctx, e.id, &runtime.Request{Route: routeBlock, Metadata: denied.Encode(), Payload: []byte("not json")})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Err(); !errors.Is(err, errDenied) {
		t.Fatalf("undecodable arguments to a refused call: %v, want the admission's refusal", err)
	}
	err = e.client.Invoke(runtime.WithMetadata(ctx, denied), e.id, routeBlock, &blockArgs{}, nil)
	wantCode(t, err, runtime.PermissionDenied)
	select {
	case <-e.echo.started:
		t.Fatal("the handler of a refused call ran")
	default:
	}
	// Without the key, the admission lets calls through.
	var out echoResult
	if err := e.client.Invoke(ctx, e.id, routeEcho, &echoArgs{A0: Shapes{Seq: 2}}, &out); err != nil || out.R0.Seq != 2 {
		t.Fatalf("admitted call: %v", err)
	}
}

// observed is one call an Observer saw end.
type observed struct {
	Route string
	Code  runtime.Code
	Ran   bool
	Args  bool // the arguments were decoded
	Peer  bool // the call carried its Peer
	// Unknown is CallInfo.UnknownRoute; Metadata is whether StartCall's
	// context carried the caller's metadata.
	Unknown, Metadata bool
}

type recorder struct {
	mu   sync.Mutex
	seen []observed
}

type startKey struct{}

// started is what StartCall saw.
type started struct {
	route    string
	metadata bool
}

// traceKey is metadata every call of testObserver carries, as a tracer's
// would.
const traceKey = "traceparent"

func (r *recorder) StartCall(ctx context.Context, info runtime.CallInfo) context.Context {
	_, md := runtime.MetadataFromContext(ctx)[traceKey]
	return context.WithValue(ctx, startKey{}, started{info.Route, md})
}

func (r *recorder) EndCall(ctx context.Context, info runtime.CallInfo, end runtime.CallEnd) {
	st, _ := ctx.Value(startKey{}).(started)
	if st.route != info.Route {
		panic("EndCall did not get the context StartCall returned")
	}
	_, hasPeer := runtime.PeerFromContext(ctx)
	r.mu.Lock()
	r.seen = append(r.seen, observed{info.Route, end.Code, end.Ran, end.Args != nil, hasPeer && info.Peer != nil,
		info.UnknownRoute, st.metadata})
	r.mu.Unlock()
}

// The Observer sees every call that parsed, refused ones included, with its
// final code; interceptors see a handler's panic as the Internal error the
// caller gets.
func testObserver(t *testing.T, plain *env) {
	rec := &recorder{}
	var icMu sync.Mutex
	var icSaw []runtime.Code
	ic := func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
		err := next(ctx, args, result)
		icMu.Lock()
		icSaw = append(icSaw, runtime.CodeOf(err))
		icMu.Unlock()
		return err
	}
	e := newEnv(t, plain.newNet, runtime.WithObserver(rec), runtime.WithAdmission(deny), runtime.WithInterceptors(ic))
	ctx := runtime.WithMetadata(ctxFor(t, patience), runtime.Metadata{traceKey: "t"})
	_ = e.client.Invoke(ctx, e.id, routeEcho, &echoArgs{}, &echoResult{})
	_ = e.client.Invoke(ctx, e.id, "rpctest.echo.nope", &emptyArgs{}, nil)
	_ = e.client.Invoke(runtime.WithMetadata(ctx, runtime.Metadata{"deny": ""}), e.id, routeEcho, &echoArgs{}, &echoResult{})
	_ = e.client.Invoke(ctx, e.id, routePanic, &emptyArgs{}, nil)
	_ = e.client.Invoke(ctx, e.id, routeNilError, &emptyArgs{}, nil)
	_, _ = e.net.Transport().RoundTrip(ctx, e.id, &runtime.Request{Route: routeEcho, Payload: []byte("{")})
	_, _ = e.net.Transport().RoundTrip(ctx, e.id, &runtime.Request{Route: routeEcho, Payload: []byte("{}"),
		Metadata: runtime.Metadata{traceKey: "t"}.Encode()})
	want := []observed{
		{routeEcho, runtime.OK, true, true, true, false, true},
		{"rpctest.echo.nope", runtime.Unimplemented, false, false, true, true, true},
		{routeEcho, runtime.PermissionDenied, false, false, true, false, true},
		{routePanic, runtime.Internal, true, true, true, false, true},
		{routeNilError, runtime.Internal, true, true, true, false, true},
		{routeEcho, runtime.InvalidArgument, false, false, true, false, false},
		{routeEcho, runtime.OK, true, true, true, false, true},
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// The in-process transport knows nothing of its callers: no Peer there.
	for i := range rec.seen {
		if !rec.seen[i].Peer {
			for j := range want {
				want[j].Peer = false
			}
			break
		}
	}
	if diff := cmp.Diff(want, rec.seen); diff != "" {
		t.Errorf("the observer saw (-want +got):\n%s", diff)
	}
	icMu.Lock()
	defer icMu.Unlock()
	if diff := cmp.Diff([]runtime.Code{runtime.OK, runtime.Internal, runtime.Internal, runtime.OK}, icSaw); diff != "" {
		t.Errorf("the interceptor saw (-want +got):\n%s", diff)
	}
	st := e.server.Stats()
	wantRefused := map[runtime.Code]int64{runtime.Unimplemented: 1, runtime.PermissionDenied: 1, runtime.InvalidArgument: 1}
	if diff := cmp.Diff(wantRefused, st.Refused); diff != "" {
		t.Errorf("Stats().Refused (-want +got):\n%s", diff)
	}
}

func testDeadlinePropagates(t *testing.T, e *env) {
	var out deadlineRes
	if err := e.client.Invoke(ctxFor(t, 3*time.Second), e.id, routeDeadline, &emptyArgs{}, &out); err != nil {
		t.Fatal(err)
	}
	if !out.R1 || out.R0 <= 0 || out.R0 > 3*time.Second {
		t.Fatalf("handler saw deadline %v (set %v), want within (0, 3s]", out.R0, out.R1)
	}
	out = deadlineRes{}
	if err := e.client.Invoke(context.Background(), e.id, routeDeadline, &emptyArgs{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.R1 {
		t.Fatalf("handler saw a deadline %v the caller never set", out.R0)
	}
}

func testDeadlineExceeded(t *testing.T, e *env) {
	err := e.client.Invoke(ctxFor(t, 100*time.Millisecond), e.id, routeBlock, &blockArgs{}, nil)
	wantCode(t, err, runtime.DeadlineExceeded)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, context.DeadlineExceeded) = false for %v", err)
	}
	select {
	case herr := <-e.echo.cancelled:
		if herr == nil {
			t.Fatal("handler ctx ended without an error")
		}
	case <-time.After(patience):
		t.Fatal("handler ctx was never cancelled after the deadline")
	}
}

func testCancel(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.client.Invoke(ctx, e.id, routeBlock, &blockArgs{}, nil) }()
	select {
	case <-e.echo.started:
	case <-time.After(patience):
		t.Fatal("handler never started")
	}
	cancel()
	select {
	case err := <-errc:
		wantCode(t, err, runtime.Canceled)
	case <-time.After(patience):
		t.Fatal("caller did not return after cancelling")
	}
	select {
	case <-e.echo.cancelled:
	case <-time.After(patience):
		t.Fatal("cancellation never reached the handler")
	}
}

func testMetadata(t *testing.T, e *env) {
	// Two layers: the second adds a key and replaces one.
	ctx := runtime.WithMetadata(ctxFor(t, patience), runtime.Metadata{"trace-id": "abc", "user": "u0"})
	ctx = runtime.WithMetadata(ctx, runtime.Metadata{"user": "u1", "room": "r"})
	var out metadataRes
	if err := e.client.Invoke(ctx, e.id, routeMetadata, &emptyArgs{}, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(runtime.Metadata{"trace-id": "abc", "user": "u1", "room": "r"}, out.R0); diff != "" {
		t.Fatalf("metadata (-sent +seen):\n%s", diff)
	}
}

// A raw call sends its bytes as they are and gets the answer's bytes back
// undecoded: what a connector forwarding a client's message does.
func testRawMessage(t *testing.T, e *env) {
	ctx := ctxFor(t, patience)
	args := runtime.RawMessage(`{"A0":{"string":"raw \u00e9","seq":7,"map":{"max":9223372036854775807}}}`)
	var raw runtime.RawMessage
	if err := e.client.Invoke(ctx, e.id, routeEcho, args, &raw); err != nil {
		t.Fatalf("raw echo: %v", err)
	}
	var out echoResult
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("the raw answer %q does not decode: %v", raw, err)
	}
	want := Shapes{String: "raw é", Seq: 7, Map: map[string]int64{"max": math.MaxInt64}, Raw: json.RawMessage("null")}
	if diff := cmp.Diff(want, out.R0); diff != "" {
		t.Fatalf("raw echo (-sent +received):\n%s", diff)
	}
	// Raw arguments meet the server's decoder as any others do.
	err := e.client.Invoke(ctx, e.id, routeEcho, runtime.RawMessage(`{"A0":`), &raw)
	wantCode(t, err, runtime.InvalidArgument)
	// A raw call is a call like any other: its errors come back coded.
	err = e.client.Invoke(ctx, e.id, routeFail, runtime.RawMessage(`{"A0":5,"A1":"raw"}`), &raw)
	wantCode(t, err, runtime.NotFound)
}

func testConcurrent(t *testing.T, e *env) {
	const n = 1000
	ctx := ctxFor(t, 4*patience)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out echoResult
			in := Shapes{Seq: i, String: fmt.Sprint("caller-", i)}
			if err := e.client.Invoke(ctx, e.id, routeEcho, &echoArgs{A0: in}, &out); err != nil {
				errs <- fmt.Errorf("call %d: %w", i, err)
				return
			}
			if out.R0.Seq != i || out.R0.String != in.String {
				errs <- fmt.Errorf("call %d got the answer of call %d", i, out.R0.Seq)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// sizedPayload returns the JSON arguments of routeSize carrying n bytes,
// padded with spaces to exactly size bytes.
func sizedPayload(t *testing.T, size int) ([]byte, int) {
	t.Helper()
	const frame = len(`{"A0":""}`)
	n := base64.StdEncoding.DecodedLen(size-frame) - 3
	enc := base64.StdEncoding.EncodeToString(make([]byte, n))
	p := []byte(`{"A0":"` + enc + `"`)
	for len(p) < size-1 {
		p = append(p, ' ')
	}
	p = append(p, '}')
	if len(p) != size {
		t.Fatalf("built a payload of %d bytes, want %d", len(p), size)
	}
	return p, n
}

func testPayloadLimit(t *testing.T, e *env) {
	limit := e.net.MaxPayload()
	ctx := ctxFor(t, 4*patience)
	tr := e.net.Transport()

	p, n := sizedPayload(t, limit)
	resp, err := tr.RoundTrip(ctx, e.id, &runtime.Request{Route: routeSize, Payload: p})
	if err != nil {
		t.Fatalf("payload of exactly the limit (%d bytes): %v", limit, err)
	}
	if resp.Code != runtime.OK {
		t.Fatalf("payload at the limit: %v", resp.Err())
	}

	p = append(p, ' ')
	_, err = tr.RoundTrip(ctx, e.id, &runtime.Request{Route: routeSize, Payload: p})
	wantCode(t, err, runtime.ResourceExhausted)

	// Through the typed client too, and the server still answers afterwards.
	err = e.client.Invoke(ctx, e.id, routeSize, &sizeArgs{A0: make([]byte, limit)}, &sizeResult{})
	wantCode(t, err, runtime.ResourceExhausted)
	var out sizeResult
	if err := e.client.Invoke(ctx, e.id, routeSize, &sizeArgs{A0: make([]byte, n)}, &out); err != nil || out.R0 != n {
		t.Fatalf("call after a refused one: %v (size %d, want %d)", err, out.R0, n)
	}
}

// gate is an Admission that holds calls until released; the suite uses it
// to act between a request's arrival and the decoding of its arguments.
type gate struct {
	started, release chan struct{}
}

func (g *gate) admit(ctx context.Context, info runtime.CallInfo) error {
	g.started <- struct{}{}
	<-g.release
	return nil
}

// Callers reuse a request's payload once RoundTrip returns (runtime.Client
// does), so a transport must not keep it: here the caller gives up, then
// overwrites its buffer, and only then does the server decode the request.
func testPayloadNotKept(t *testing.T, e *env) {
	g := &gate{started: make(chan struct{}, 1), release: make(chan struct{})}
	srv := runtime.NewServer(runtime.WithAdmission(g.admit), runtime.WithLogger(quiet))
	read := make(chan Shapes, 1)
	srv.RegisterService(&runtime.ServiceDesc{Name: "rpctest.echo", Methods: []runtime.MethodDesc{{
		Route: routeEcho, NewArgs: newArgs[echoArgs](), NewResult: newArgs[echoResult](),
		Handler: func(ctx context.Context, impl, args, result any) error {
			read <- args.(*echoArgs).A0
			return nil
		},
	}}}, nil)
	ln, err := e.net.Serve("gated", srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	const want = "the caller's bytes"
	payload := []byte(`{"A0":{"string":"` + want + `"}}`)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := e.net.Transport().RoundTrip(ctx, "gated", &runtime.Request{Route: routeEcho, Payload: payload})
		errc <- err
	}()
	select {
	case <-g.started:
	case <-time.After(patience):
		t.Fatal("the request never reached the server")
	}
	cancel()
	select {
	case err := <-errc:
		wantCode(t, err, runtime.Canceled)
	case <-time.After(patience):
		t.Fatal("RoundTrip did not return after its ctx was cancelled")
	}
	for i := range payload {
		payload[i] = 'X'
	}
	close(g.release)
	select {
	case got := <-read:
		if got.String != want {
			t.Fatalf("the server read %q, want %q: the transport kept the caller's payload", got.String, want)
		}
	case <-time.After(patience):
		t.Fatal("the handler never read the request")
	}
}

// blockN starts n calls that block in the handler and waits until all run.
func blockN(t *testing.T, e *env, n int, ctx context.Context, args *blockArgs) <-chan error {
	t.Helper()
	errc := make(chan error, n)
	for range n {
		go func() { errc <- e.client.Invoke(ctx, e.id, routeBlock, args, nil) }()
	}
	for range n {
		select {
		case <-e.echo.started:
		case <-time.After(patience):
			t.Fatal("blocked calls never reached the handler")
		}
	}
	return errc
}

func testStopMidCall(t *testing.T, e *env) {
	const n = 10
	errc := blockN(t, e, n, ctxFor(t, 6*patience), &blockArgs{})
	if err := e.ln.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	// Close returns once the handlers have: each reported its context's
	// end on its way out.
	if got := len(e.echo.cancelled); got != n {
		t.Errorf("Close returned with %d of %d handlers done", got, n)
	}
	deadline := time.After(patience)
	for range n {
		select {
		case err := <-errc:
			wantCode(t, err, runtime.Unavailable)
			// These calls reached the server and may have run.
			if errors.Is(err, runtime.ErrNotDelivered) {
				t.Errorf("call in flight when its server stopped: %v claims it was never delivered", err)
			}
		case <-deadline:
			t.Fatal("callers still waiting after the server stopped")
		}
	}
}

func testServerBack(t *testing.T, e *env) {
	ctx := ctxFor(t, 4*patience)
	if err := e.client.Invoke(ctx, e.id, routeEcho, &echoArgs{}, &echoResult{}); err != nil {
		t.Fatal(err)
	}
	e.ln.Close()
	wantCode(t, e.client.Invoke(ctx, e.id, routeEcho, &echoArgs{}, &echoResult{}), runtime.Unavailable)
	e.serve(t)
	// The client may need a moment to reconnect; it must not need replacing.
	var err error
	for ctx.Err() == nil {
		if err = e.client.Invoke(ctx, e.id, routeEcho, &echoArgs{}, &echoResult{}); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("calls never succeeded after the server came back: %v", err)
}

func testGracefulShutdown(t *testing.T, e *env) {
	const n = 5
	errc := blockN(t, e, n, ctxFor(t, 6*patience), &blockArgs{A0: true})
	done := make(chan error, 1)
	go func() { done <- e.ln.Shutdown(ctxFor(t, 4*patience)) }()
	// Shutdown must wait for the calls in flight.
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with calls in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(e.echo.release)
	for range n {
		if err := <-errc; err != nil {
			t.Errorf("call in flight during graceful shutdown failed: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	err := e.client.Invoke(ctxFor(t, patience), e.id, routeEcho, &echoArgs{}, &echoResult{})
	wantCode(t, err, runtime.Unavailable)
}

func testInterceptors(t *testing.T, plain *env) {
	// A fresh environment with interceptors on both sides.
	var mu sync.Mutex
	var seen []string
	record := func(ctx context.Context, info runtime.CallInfo, args, result any, next runtime.CallFunc) error {
		side := "client"
		if info.Server {
			side = "server"
		}
		mu.Lock()
		seen = append(seen, side+" "+info.Route)
		mu.Unlock()
		return next(ctx, args, result)
	}
	e := newEnv(t, plain.newNet, runtime.WithInterceptors(record))
	e.client = runtime.NewClient(e.net.Transport(), runtime.WithMaxPayload(e.net.MaxPayload()), runtime.WithInterceptors(record))
	ctx := ctxFor(t, patience)
	if err := e.client.Invoke(ctx, e.id, routeEcho, &echoArgs{}, &echoResult{}); err != nil {
		t.Fatal(err)
	}
	_ = e.client.Invoke(ctx, e.id, routeFail, &failArgs{A0: runtime.NotFound}, nil)
	want := []string{
		"client " + routeEcho, "server " + routeEcho,
		"client " + routeFail, "server " + routeFail,
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Fatalf("interceptors saw (-want +got):\n%s", diff)
	}
}
