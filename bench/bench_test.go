package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// quickConfig is -quick.
func quickConfig(t *testing.T) config {
	t.Helper()
	cfg, err := parseFlags([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestEveryPeerQuick runs every peer, extras included, as -quick does and
// checks that each produced a sane result. Every call checks its echo, so a
// result at all means that every call succeeded and echoed the message.
func TestEveryPeerQuick(t *testing.T) {
	cfg := quickConfig(t)
	e := &env{}
	defer e.close()
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			r, err := benchOne(e, &p, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != p.name {
				t.Errorf("name %q, want %q", r.Name, p.name)
			}
			if r.SerialUsP50 <= 0 || r.SerialUsP99 < r.SerialUsP50 {
				t.Errorf("serial p50 %v µs, p99 %v µs: want 0 < p50 ≤ p99", r.SerialUsP50, r.SerialUsP99)
			}
			// Even a 2-core machine under load manages more than this.
			if r.CallsPerS < 100 {
				t.Errorf("%v calls/s", r.CallsPerS)
			}
			if r.AllocsPerCall < 0 || r.AllocsPerCall > 1000 {
				t.Errorf("%v allocations per call", r.AllocsPerCall)
			}
		})
	}
}

// TestJSON checks that -json prints an array of objects with exactly the
// documented keys, and -sweep -json one point per peer and level.
func TestJSON(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-quick", "-json", "-n", "50", "-duration", "50ms", "-only", "raw-tcp-pingpong,sessionrpc-inproc"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v in %s", err, out.Bytes())
	}
	want := []string{"allocs_per_call", "calls_per_s", "name", "serial_us_p50", "serial_us_p99"}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2: %s", len(rows), out.Bytes())
	}
	for _, row := range rows {
		var keys []string
		for k := range row {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("keys %v, want %v", keys, want)
		}
	}

	out.Reset()
	svg := filepath.Join(t.TempDir(), "sweep.svg")
	if err := run([]string{"-sweep", "-json", "-duration", "50ms", "-levels", "1,8", "-svg", svg}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var points []sweepResult
	if err := json.Unmarshal(out.Bytes(), &points); err != nil {
		t.Fatalf("%v in %s", err, out.Bytes())
	}
	if len(points) != 2*len(sweepPeers) {
		t.Fatalf("%d sweep points, want %d peers × 2 levels: %s", len(points), len(sweepPeers), out.Bytes())
	}
	for _, p := range points {
		if p.CallsPerS <= 0 || p.P99Us <= 0 {
			t.Errorf("sweep point %+v", p)
		}
	}
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if got := svgLines(t, data); !slices.Equal(got, sweepPeers) {
		t.Errorf("-svg drew lines %q, want %q", got, sweepPeers)
	}
}

// TestTable checks that the table and the target lines come out.
func TestTable(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-quick", "-n", "50", "-duration", "50ms", "-only", "sessionrpc-tcp,raw-tcp-pingpong,raw-mux-tcp"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sessionrpc-tcp", "raw-tcp-pingpong", "sessionrpc-tcp serial p50 ÷ raw-tcp-pingpong p50", "allocs/call (client+server)", "sessionrpc-tcp ÷ raw-mux-tcp", "CPU µs/call"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("no %q in\n%s", want, out.Bytes())
		}
	}
}

// TestMismatchFails checks that a wrong echo fails the measurement.
func TestMismatchFails(t *testing.T) {
	ctx := context.Background()
	bad := badTarget{}
	if _, err := measureSerial(ctx, bad, 0, 10); !errors.Is(err, errMismatch) {
		t.Errorf("serial: %v, want a mismatch", err)
	}
	if _, err := measureLoad(ctx, bad, 4, time.Millisecond, 10*time.Millisecond); !errors.Is(err, errMismatch) {
		t.Errorf("load: %v, want a mismatch", err)
	}
}

type badTarget struct{}

func (badTarget) name() string               { return "bad" }
func (badTarget) call(context.Context) error { return checkEcho(message[1:]) }
func (badTarget) close()                     {}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct{ p, want int }{{50, 50}, {99, 99}, {100, 100}, {1, 1}} {
		if got := percentile(d, c.p); got != time.Duration(c.want) {
			t.Errorf("p%d = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(d[:1], 99); got != 1 {
		t.Errorf("p99 of one = %v", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of none = %v", got)
	}
}

// A fast phase must not round to zero: that is how a 60-session index
// fill on a quick machine once reported 0 s.
func TestRoundSig3(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{0.0042137, 0.00421}, {1.23456, 1.23}, {987.65, 988}, {0, 0}, {-0.012345, -0.0123},
	} {
		if got := roundSig3(c.in); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("roundSig3(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// The benchmarks run the same targets under go test, for profiling:
//
//	go test -run '^$' -bench 'Parallel/sessionrpc-tcp$' -cpuprofile cpu.out
//	go tool pprof -top cpu.out

// BenchmarkSerial is one call at a time.
func BenchmarkSerial(b *testing.B) {
	forEachPeer(b, func(b *testing.B, ctx context.Context, t target) {
		b.ReportAllocs()
		for b.Loop() {
			if err := t.call(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParallel is b.N calls made by 64 callers.
func BenchmarkParallel(b *testing.B) {
	forEachPeer(b, func(b *testing.B, ctx context.Context, t target) {
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ReportAllocs()
		b.ResetTimer()
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(b.N) {
					if err := t.call(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}

// forEachPeer runs f as a sub-benchmark per peer, with the peer started,
// warmed up and, afterwards, stopped; ctx carries a far deadline, as in the
// command.
func forEachPeer(b *testing.B, f func(*testing.B, context.Context, target)) {
	e := &env{}
	b.Cleanup(e.close)
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			t, err := p.start(e)
			if err != nil {
				b.Fatal(err)
			}
			defer t.close()
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			if _, err := measureSerial(ctx, t, 100, 1); err != nil {
				b.Fatal(err)
			}
			f(b, ctx, t)
		})
	}
}
