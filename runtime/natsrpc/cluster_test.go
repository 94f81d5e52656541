package natsrpc_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

// Three clustered NATS nodes; the server on node A, the client on node B
// with C as its other URL. Node B dies mid-run: calls fail for a while with
// Unavailable or DeadlineExceeded only, then succeed again through C, and
// every acknowledged call took effect exactly once.
func TestClusterNodeFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster failover takes seconds")
	}
	nodes, err := natsembed.StartCluster(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		t.Cleanup(n.Shutdown)
	}
	a, b, c := nodes[0], nodes[1], nodes[2]

	prefix := uniquePrefix()
	svc := newSvc()
	rs := runtime.NewServer(runtime.WithLogger(quiet))
	rs.RegisterService(svc.desc(), svc)
	srv, err := natsrpc.Serve(connect(t, a.URL()), "frontend-1", rs, natsrpc.WithSubjectPrefix(prefix), natsrpc.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	cnc := connect(t, b.URL()+","+c.URL(), nats.DontRandomize(), nats.ReconnectWait(100*time.Millisecond))
	tr := natsrpc.NewTransport(cnc, natsrpc.WithSubjectPrefix(prefix), natsrpc.WithLogger(quiet),
		natsrpc.WithProbeInterval(250*time.Millisecond))
	t.Cleanup(tr.Close)
	client := runtime.NewClient(tr)

	// The subscription on A reaches B's interest table shortly after Serve.
	ready := ctxFor(t, 5*time.Second)
	for {
		err := client.Invoke(ready, "frontend-1", routeEcho, &strArgs{}, &strRes{})
		if err == nil {
			break
		}
		if ready.Err() != nil {
			t.Fatalf("calls never crossed the cluster: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	const callers = 8
	var (
		stop       atomic.Bool
		mu         sync.Mutex
		acked      []string
		failures   int
		byCode     = map[runtime.Code]int{}
		killedAt   time.Time
		lastFail   time.Time
		okAfterBad int // successes after the last failure so far
	)
	var wg sync.WaitGroup
	for g := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				key := fmt.Sprintf("%d-%d", g, i)
				ctx := ctxFor(t, time.Second)
				err := client.Invoke(ctx, "frontend-1", routeAdd, &strArgs{A0: key}, nil)
				mu.Lock()
				if err == nil {
					acked = append(acked, key)
					okAfterBad++
				} else {
					failures++
					byCode[runtime.CodeOf(err)]++
					lastFail = time.Now()
					okAfterBad = 0
					if code := runtime.CodeOf(err); code != runtime.Unavailable && code != runtime.DeadlineExceeded {
						t.Errorf("call %s: %v, want Unavailable or DeadlineExceeded", key, err)
					}
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}

	time.Sleep(time.Second)
	mu.Lock()
	before := len(acked)
	killedAt = time.Now()
	mu.Unlock()
	b.Shutdown()
	time.Sleep(5 * time.Second)
	stop.Store(true)
	wg.Wait()

	if before == 0 {
		t.Fatal("no call succeeded before node B went down")
	}
	if failures > 0 {
		if d := lastFail.Sub(killedAt); d > 3*time.Second {
			t.Errorf("calls still failing %v after node B went down", d)
		}
	}
	if okAfterBad < 10 {
		t.Errorf("only %d calls succeeded after the last failure: the client did not recover", okAfterBad)
	}

	svc.mu.Lock()
	defer svc.mu.Unlock()
	applied := 0
	for key, n := range svc.applied {
		applied += n
		if n != 1 {
			t.Errorf("call %s applied %d times", key, n)
		}
	}
	for _, key := range acked {
		if svc.applied[key] != 1 {
			t.Errorf("acknowledged call %s applied %d times", key, svc.applied[key])
		}
	}
	t.Logf("acknowledged %d (%d before the failure), failed %d %v, applied %d: %d failed calls took effect anyway",
		len(acked), before, failures, byCode, applied, applied-len(acked))
}
