package main

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// startMux starts raw-mux-tcp for a test, closing it at the end.
func startMux(t *testing.T, spawn bool) *muxTarget {
	t.Helper()
	tg, err := startRawMux("raw-mux-tcp", spawn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.close)
	return tg.(*muxTarget)
}

// TestRawMuxConcurrent checks that concurrent callers on the one connection
// each get their own answer, with the server answering inline or on a
// goroutine per request.
func TestRawMuxConcurrent(t *testing.T) {
	for _, spawn := range []bool{false, true} {
		mt := startMux(t, spawn)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for range 32 {
			wg.Go(func() {
				for range 200 {
					if err := mt.call(ctx); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("spawn=%v: %v", spawn, err)
		}
		mt.mu.Lock()
		if n := len(mt.calls); n != 0 {
			t.Errorf("spawn=%v: %d calls left in flight", spawn, n)
		}
		mt.mu.Unlock()
	}
}

// TestRawMuxCancel checks that a caller whose context ends stops waiting,
// and that the connection serves the calls after it.
func TestRawMuxCancel(t *testing.T) {
	mt := startMux(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Its answer may arrive before the caller sees the end of ctx; either
	// way the call returns, and only ever with the echo or ctx's error.
	for range 100 {
		if err := mt.call(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled call: %v", err)
		}
	}
	live, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if err := mt.call(live); err != nil {
		t.Fatalf("call after canceled ones: %v", err)
	}
}

// TestRawMuxConnectionLost checks that calls fail, and do not hang, once
// the server's side of the connection is gone.
func TestRawMuxConnectionLost(t *testing.T) {
	mt := startMux(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := mt.call(ctx); err != nil {
		t.Fatal(err)
	}
	mt.smu.Lock()
	for nc := range mt.sconns {
		nc.Close()
	}
	mt.smu.Unlock()
	for {
		err := mt.call(ctx)
		if err == nil {
			continue // sent before the client saw the close: answered
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call hung until the deadline")
		}
		break
	}
}

// TestRawMuxBadFrame checks that the server drops a connection that sends
// a frame too short to hold a call id, and keeps serving the others.
func TestRawMuxBadFrame(t *testing.T) {
	mt := startMux(t, false)
	nc, err := net.Dial("tcp", mt.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(binary.BigEndian.AppendUint32(nil, 3)); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read after a bad frame: %v, want EOF", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := mt.call(ctx); err != nil {
		t.Errorf("the other connection: %v", err)
	}
}
