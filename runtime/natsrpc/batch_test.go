package natsrpc_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
)

// untilBatching calls f's server until its transport sends batches (its
// hello was answered), failing after a generous wait.
func untilBatching(t *testing.T, f *fixture) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !natsrpc.Batching(f.tr, f.id) {
		if time.Now().After(deadline) {
			t.Fatal("the transport never started sending batches")
		}
		var res strRes
		if err := f.client.Invoke(ctxFor(t, 10*time.Second), f.id, routeEcho, &strArgs{A0: "hi"}, &res); err != nil || res.R0 != "hi" {
			t.Fatalf("call before batching: %q, %v", res.R0, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// echoMany makes callers×n echo calls at once and fails on any wrong answer.
func echoMany(t *testing.T, client *runtime.Client, id string, callers, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				msg := fmt.Sprintf("caller %d call %d <&>", i, j)
				var res strRes
				if err := client.Invoke(ctxFor(t, 20*time.Second), id, routeEcho, &strArgs{A0: msg}, &res); err != nil || res.R0 != msg {
					errc <- fmt.Errorf("call %q: %q, %v", msg, res.R0, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

// Under concurrent callers a transport sends several calls in one NATS
// message, and every call gets its own answer.
func TestBatchesCarrySeveralCalls(t *testing.T) {
	f := newFixture(t, nil)
	untilBatching(t, f)
	var batches, entries atomic.Int64
	mon := connect(t, f.nats.URL())
	if _, err := mon.Subscribe(f.prefix+"."+f.id+".v2", func(m *nats.Msg) {
		if m.Header != nil {
			return // a control message
		}
		batches.Add(1)
		entries.Add(int64(countEntries(t, m.Data)))
	}); err != nil {
		t.Fatal(err)
	}
	if err := mon.Flush(); err != nil {
		t.Fatal(err)
	}
	const callers, n = 64, 50
	echoMany(t, f.client, f.id, callers, n)
	if err := mon.Flush(); err != nil {
		t.Fatal(err)
	}
	// The monitor may still be reading the last batches: wait for them.
	deadline := time.Now().Add(10 * time.Second)
	for entries.Load() < callers*n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	b, e := batches.Load(), entries.Load()
	t.Logf("%d calls in %d batches", e, b)
	if e != callers*n || b >= e {
		t.Fatalf("%d calls in %d batches, want %d calls in fewer batches", e, b, callers*n)
	}
}

// countEntries counts the calls in a batch.
func countEntries(t *testing.T, data []byte) int {
	t.Helper()
	if len(data) == 0 || data[0] != 2 {
		t.Errorf("batch of version %v", data[:min(1, len(data))])
		return 0
	}
	n := 0
	for rest := data[1:]; len(rest) > 0; n++ {
		_, k := binary.Uvarint(rest)
		if k <= 0 || len(rest) < k+4 {
			t.Errorf("malformed batch")
			return n
		}
		rest = rest[k+4+int(binary.BigEndian.Uint32(rest[k:])):]
	}
	return n
}

// A server of the batch wire replaced by one of the wire before batches, on
// the same id: the batches the transport sends find nobody, and their calls
// go again singly, so that none fails.
func TestOldServerReplacesNew(t *testing.T) {
	f := newFixture(t, nil)
	untilBatching(t, f)
	f.server.Close()
	f.sopts = append(f.sopts, natsrpc.WithBatches(false))
	f.serve(t, connect(t, f.nats.URL()))
	echoMany(t, f.client, f.id, 16, 20)
	if natsrpc.Batching(f.tr, f.id) {
		t.Fatal("the transport still sends batches to a server of the old wire")
	}
}

// A cancelled call that went in a batch is cancelled on the server: the
// cancel names it as a single call, on the subject of batches, after it.
func TestCancelOfBatchedCall(t *testing.T) {
	f := newFixture(t, nil)
	untilBatching(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := f.blockCalls(t, ctx, 4)
	cancel()
	for range 4 {
		select {
		case err := <-f.svc.ended:
			if err != context.Canceled {
				t.Fatalf("handler's ctx ended with %v, want Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the handlers of cancelled batched calls still run")
		}
		wantCode(t, <-errc, runtime.Canceled)
	}
}

// A call whose caller gives up while it still waits for its batch to leave
// is cancelled after the batch, not before: the cancel must follow the call
// to cancel it.
func TestCancelBeforeBatchLeaves(t *testing.T) {
	f := newFixture(t, nil)
	untilBatching(t, f)
	release := natsrpc.HoldSender(f.tr, f.id)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.client.Invoke(ctx, f.id, routeBlock, &emptyArg{}, nil) }()
	// A call that stays live goes in the same batch, so that the batch
	// leaves (one of calls whose callers all gave up does not).
	echoc := make(chan error, 1)
	waitQueued := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for natsrpc.SenderQueued(f.tr, f.id) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d calls never reached the sender", n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitQueued(1)
	go func() {
		var res strRes
		echoc <- f.client.Invoke(ctxFor(t, 20*time.Second), f.id, routeEcho, &strArgs{A0: "x"}, &res)
	}()
	waitQueued(2)
	cancel()
	wantCode(t, <-errc, runtime.Canceled)
	release()
	if err := <-echoc; err != nil {
		t.Fatal(err)
	}
	// A later call on the same subject is served after the batch and the
	// cancel were: by its answer, the cancelled call was cancelled or never
	// started.
	echoMany(t, f.client, f.id, 1, 1)
	deadline := time.Now().Add(10 * time.Second)
	for f.svc.running.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the handler of a call cancelled before its batch left still runs")
		}
		time.Sleep(time.Millisecond)
	}
}

// The callers of calls that went in batches to a server whose process died
// learn it from probes, as callers of single calls do.
func TestDeadServerFoundByProbeOfBatchedCalls(t *testing.T) {
	f := newFixture(t, nil, natsrpc.WithProbeInterval(200*time.Millisecond))
	untilBatching(t, f)
	errc := f.blockCalls(t, ctxFor(t, 30*time.Second), 3)
	f.snc.Close() // the process's connection drops; Server.Close is never called
	for range 3 {
		select {
		case err := <-errc:
			wantCode(t, err, runtime.Unavailable)
			if !strings.Contains(err.Error(), "gone") {
				t.Errorf("err = %v, want the server gone", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("callers of a dead server still waiting")
		}
	}
}

// batchOf builds a batch of calls with the given ids and envelopes.
func batchOf(ids []uint64, envs [][]byte) []byte {
	b := []byte{2}
	for i, id := range ids {
		b = binary.AppendUvarint(b, id)
		b = binary.BigEndian.AppendUint32(b, uint32(len(envs[i])))
		b = append(b, envs[i]...)
	}
	return b
}

// answersOf reads a batch of answers: response envelopes by call id.
func answersOf(t *testing.T, data []byte) map[uint64]runtime.Response {
	t.Helper()
	out := map[uint64]runtime.Response{}
	if len(data) == 0 || data[0] != 2 {
		t.Fatalf("answers of version %v", data[:min(1, len(data))])
	}
	for rest := data[1:]; len(rest) > 0; {
		id, k := binary.Uvarint(rest)
		n := int(binary.BigEndian.Uint32(rest[k:]))
		resp, err := runtime.ParseResponse(rest[k+4 : k+4+n])
		if err != nil {
			t.Fatal(err)
		}
		out[id] = resp
		rest = rest[k+4+n:]
	}
	return out
}

// A hostile batch costs the server no more than its calls: a batch of more
// calls than any transport sends, a malformed one and one without a reply
// subject are dropped unanswered; in a well-formed batch each call is its
// own, a malformed envelope answered InvalidArgument, the calls over the
// server's budget ResourceExhausted without running, the others run; and a
// well-behaved caller is served throughout.
func TestHostileBatches(t *testing.T) {
	f := newFixture(t, nil)
	subject := f.prefix + "." + f.id + ".v2"
	raw := connect(t, f.nats.URL())
	answers, err := raw.SubscribeSync("hostile.*")
	if err != nil {
		t.Fatal(err)
	}
	echo := func(s string) []byte {
		return runtime.AppendRequest(nil, &runtime.Request{Route: routeEcho, Payload: []byte(`{"A0":"` + s + `"}`)})
	}
	many := make([]uint64, 1025)
	envs := make([][]byte, len(many))
	for i := range many {
		many[i], envs[i] = uint64(i+1), echo("x")
	}
	for name, m := range map[string]*nats.Msg{
		"too many calls":  {Subject: subject, Reply: "hostile.1", Data: batchOf(many, envs)},
		"cut short":       {Subject: subject, Reply: "hostile.1", Data: batchOf([]uint64{1}, [][]byte{echo("x")})[:10]},
		"unknown version": {Subject: subject, Reply: "hostile.1", Data: append([]byte{3}, batchOf([]uint64{1}, [][]byte{echo("x")})[1:]...)},
		"no reply":        {Subject: subject, Data: batchOf([]uint64{1}, [][]byte{echo("x")})},
	} {
		if err := raw.PublishMsg(m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if m, err := answers.NextMsg(500 * time.Millisecond); err == nil {
		t.Fatalf("a dropped batch was answered: %q", m.Data)
	}
	echoMany(t, f.client, f.id, 4, 5)

	if err := raw.PublishMsg(&nats.Msg{Subject: subject, Reply: "hostile.1",
		Data: batchOf([]uint64{7, 8, 9}, [][]byte{echo("a"), {9, 9, 9}, echo("c")})}); err != nil {
		t.Fatal(err)
	}
	got := map[uint64]runtime.Response{}
	for len(got) < 3 {
		m, err := answers.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("answers so far %v: %v", got, err)
		}
		if m.Subject != "hostile._" {
			t.Fatalf("answer on %s", m.Subject)
		}
		for id, r := range answersOf(t, m.Data) {
			got[id] = r
		}
	}
	if got[7].Code != runtime.OK || string(got[7].Payload) != `{"R0":"a"}` || got[9].Code != runtime.OK || got[8].Code != runtime.InvalidArgument {
		t.Fatalf("answers %+v", got)
	}
}

// Each call of a batch is charged to the server's budget on its own: those
// over it are refused at once, without running, and the others run.
func TestBatchedCallsChargedOneByOne(t *testing.T) {
	ns := startNATS(t)
	prefix := uniquePrefix()
	svc := newSvc()
	rs := runtime.NewServer(runtime.WithLogger(quiet), runtime.WithServerBudget(4<<10))
	rs.RegisterService(svc.desc(), svc)
	srv, err := natsrpc.Serve(connect(t, ns.URL()), "srv-1", rs, natsrpc.WithSubjectPrefix(prefix), natsrpc.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(svc.release); srv.Close() })
	raw := connect(t, ns.URL())
	answers, err := raw.SubscribeSync("hostile.*")
	if err != nil {
		t.Fatal(err)
	}
	block := runtime.AppendRequest(nil, &runtime.Request{Route: routeBlock, Payload: []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)})
	const n = 20
	ids, envs := make([]uint64, n), make([][]byte, n)
	for i := range ids {
		ids[i], envs[i] = uint64(i+1), block
	}
	if err := raw.PublishMsg(&nats.Msg{Subject: prefix + ".srv-1.v2", Reply: "hostile.1", Data: batchOf(ids, envs)}); err != nil {
		t.Fatal(err)
	}
	m, err := answers.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	refused := answersOf(t, m.Data)
	for id, r := range refused {
		if r.Code != runtime.ResourceExhausted {
			t.Fatalf("call %d answered %v at once, want ResourceExhausted", id, r.Code)
		}
	}
	ran := 0
	for ran+len(refused) < n {
		select {
		case <-svc.started:
			ran++
		case <-time.After(10 * time.Second):
			t.Fatalf("%d calls ran and %d were refused, of %d", ran, len(refused), n)
		}
	}
	if ran == 0 || len(refused) == 0 || ran > 4 {
		t.Fatalf("%d calls ran and %d were refused, want a budget of 4 KiB to admit a few", ran, len(refused))
	}
}
