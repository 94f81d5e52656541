package cluster_test

import (
	"context"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

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
	round(0) // the connections' request muxes start here, and stay
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
			var ours []string
			for g := range strings.SplitSeq(string(buf[:n]), "\n\n") {
				if strings.Contains(g, "sessionrpc/cluster.") {
					ours = append(ours, g)
				}
			}
			t.Fatalf("%d goroutines, %d before; ours:\n%s", goruntime.NumGoroutine(), base, strings.Join(ours, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
