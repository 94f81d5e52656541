package main

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPeersCloseCleanly checks that every peer, extras included, leaves no
// goroutine and no socket behind once closed. Each peer runs twice: the
// first run may start what a library starts once per process; the second
// must end with no more goroutines and sockets than there were before it.
// Some stacks finish closing on goroutines of their own, so the check waits
// for the counts to come down.
func TestPeersCloseCleanly(t *testing.T) {
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			exercise(t, &p)
			settle(func() bool { return runtime.NumGoroutine() <= before }, 2*time.Second)
			goroutines, sockets := runtime.NumGoroutine(), openSockets()
			exercise(t, &p)
			ok := settle(func() bool {
				return runtime.NumGoroutine() <= goroutines && openSockets() <= sockets
			}, 30*time.Second)
			if !ok {
				var stacks strings.Builder
				_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
				t.Errorf("after close: %d goroutines (before: %d), %d sockets (before: %d)\n%s",
					runtime.NumGoroutine(), goroutines, openSockets(), sockets, stacks.String())
			}
		})
	}
}

// exercise starts p in an environment of its own, makes serial and
// concurrent calls, and closes p and the environment.
func exercise(t *testing.T, p *peer) {
	t.Helper()
	e := &env{}
	defer e.close()
	tg, err := p.start(e)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if err := tg.call(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// settle waits until done reports true or d has passed, and reports
// whether done did.
func settle(done func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if done() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
}

// openSockets counts the process's open sockets; 0 where /proc cannot say.
func openSockets() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}
