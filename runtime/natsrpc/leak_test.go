package natsrpc_test

import (
	"context"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
)

func TestNoGoroutineLeaks(t *testing.T) {
	ns := startNATS(t)
	snc, cnc := connect(t, ns.URL()), connect(t, ns.URL())
	time.Sleep(50 * time.Millisecond) // let the connections' goroutines start
	base := goruntime.NumGoroutine()

	for round := range 4 {
		f := &fixture{nats: ns, svc: newSvc(), id: "leak", snc: snc, cnc: cnc, prefix: uniquePrefix()}
		f.sopts = []natsrpc.ServerOption{natsrpc.WithSubjectPrefix(f.prefix), natsrpc.WithLogger(quiet), natsrpc.WithMaxConcurrentCalls(4)}
		f.tr = natsrpc.NewTransport(cnc, natsrpc.WithSubjectPrefix(f.prefix), natsrpc.WithLogger(quiet), natsrpc.WithProbeInterval(20*time.Millisecond))
		f.client = runtime.NewClient(f.tr)
		f.server = f.serve(t, snc)
		for range 20 {
			if err := f.client.Invoke(ctxFor(t, 5*time.Second), f.id, routeEcho, &strArgs{A0: "x"}, &strRes{}); err != nil {
				t.Fatal(err)
			}
		}
		blocked := f.blockCalls(t, ctxFor(t, 10*time.Second), 4)
		// Some wait for a slot, long enough to be probed.
		waiting := make(chan error, 3)
		for range 3 {
			go func() { waiting <- f.client.Invoke(ctxFor(t, 10*time.Second), f.id, routeEcho, &strArgs{}, &strRes{}) }()
		}
		time.Sleep(60 * time.Millisecond)
		switch round % 2 {
		case 0:
			f.server.Close()
		case 1:
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_ = f.server.Shutdown(ctx)
			cancel()
		}
		for range 4 {
			<-blocked
		}
		for range 3 {
			<-waiting
		}
		f.tr.Close()
	}
	settleGoroutines(t, base)
}
