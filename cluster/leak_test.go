package cluster_test

import (
	"context"
	"fmt"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/cluster"
)

// Views, watches and registrations end every goroutine they started when
// they close or leave, whatever they were doing: fetching records,
// answering a roll call, handing events to a watcher nobody reads.
func TestNoGoroutineLeaks(t *testing.T) {
	e := newEnv(t, startNATS(t).URL())
	vnc, mnc := connect(t, e.url), connect(t, e.url)
	round := func(i int) {
		v := e.viewOn(vnc)
		ctx, cancel := context.WithCancel(context.Background())
		unread := v.Watch(ctx) // never read
		read := watch(t, v)
		var regs []*cluster.Registration
		for j := range 3 {
			regs = append(regs, e.joinOn(mnc, cluster.Info{ID: fmt.Sprintf("leak-%d-%d", i, j), Type: "t"}))
		}
		read.next(t, 0, "a join", func(cluster.Event) bool { return true })
		v2 := e.viewOn(vnc) // a roll call the members answer
		_ = regs[0].Leave(ctxFor(t, wait))
		regs[1].Close()
		v2.Close()
		v.Close()
		cancel()
		for range unread {
		}
		_ = regs[2].Leave(ctxFor(t, wait))
	}
	// nats.go starts a goroutine for a connection's requests at its first
	// request, and keeps it: start both before counting.
	for _, nc := range []*nats.Conn{vnc, mnc} {
		_, _ = nc.Request(e.prefix+".warm", nil, time.Second)
	}
	round(0)
	time.Sleep(100 * time.Millisecond)
	base := goruntime.NumGoroutine()
	for i := 1; i <= 3; i++ {
		round(i)
	}
	deadline := time.Now().Add(wait)
	for goruntime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := goruntime.Stack(buf, true)
			t.Fatalf("%d goroutines, %d before:\n%s", goruntime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
