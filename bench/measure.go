package main

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// target is one peer under test, connected and ready: call makes one call
// with the 48-byte message and checks the echo. call must be safe for
// concurrent use.
type target interface {
	name() string
	call(ctx context.Context) error
	close()
}

// serialStats is what the serial phase measures.
type serialStats struct {
	p50, p99      time.Duration
	allocsPerCall float64
}

// measureSerial makes warm calls, then n calls one at a time, timing each.
// Allocations are the process's malloc count over the n calls divided by n:
// client and server run in this process, so both sides are counted (and
// whatever else allocates meanwhile, such as an embedded NATS server's
// housekeeping, which over thousands of calls is noise).
func measureSerial(ctx context.Context, t target, warm, n int) (serialStats, error) {
	for range warm {
		if err := t.call(ctx); err != nil {
			return serialStats{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	lat := make([]time.Duration, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range lat {
		start := time.Now()
		if err := t.call(ctx); err != nil {
			return serialStats{}, fmt.Errorf("serial call %d: %w", i, err)
		}
		lat[i] = time.Since(start)
	}
	runtime.ReadMemStats(&after)
	slices.Sort(lat)
	return serialStats{
		p50:           percentile(lat, 50),
		p99:           percentile(lat, 99),
		allocsPerCall: float64(after.Mallocs-before.Mallocs) / float64(n),
	}, nil
}

// loadStats is what a concurrent phase measures.
type loadStats struct {
	calls     int64
	elapsed   time.Duration
	callsPerS float64
	p99       time.Duration
	cpuUs     float64 // process CPU time per call, µs
	syscalls  float64 // read and write system calls per call; negative if unknown
}

// Phases of a concurrent run, in order.
const (
	phaseWarm int32 = iota
	phaseMeasure
	phaseStop
)

// measureLoad runs callers goroutines calling t back to back: for warm, then
// for d, counting only the calls that end within d. Each caller keeps its own
// latencies, so that recording them costs no synchronisation.
func measureLoad(ctx context.Context, t target, callers int, warm, d time.Duration) (loadStats, error) {
	var (
		phase    atomic.Int32
		failOnce sync.Once
		failure  error
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lats := make([][]time.Duration, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for {
				p := phase.Load()
				if p == phaseStop {
					break
				}
				start := time.Now()
				err := t.call(ctx)
				if err != nil {
					failOnce.Do(func() { failure = err; phase.Store(phaseStop); cancel() })
					break
				}
				// A call that ended after the window closed is not
				// counted; one that began during warm-up and ended
				// inside it is.
				if phase.Load() == phaseMeasure {
					lat = append(lat, time.Since(start))
				}
			}
			lats[i] = lat
		}()
	}
	sleep(ctx, warm)
	if !phase.CompareAndSwap(phaseWarm, phaseMeasure) {
		wg.Wait()
		return loadStats{}, failure
	}
	begin, osBegin := time.Now(), readOSStats()
	sleep(ctx, d)
	phase.CompareAndSwap(phaseMeasure, phaseStop)
	elapsed, osEnd := time.Since(begin), readOSStats()
	wg.Wait()
	if failure != nil {
		return loadStats{}, failure
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	n := int64(len(all))
	cpuUs, syscalls := perCall(osBegin, osEnd, n)
	return loadStats{
		calls:     n,
		elapsed:   elapsed,
		callsPerS: float64(n) / elapsed.Seconds(),
		p99:       percentile(all, 99),
		cpuUs:     cpuUs,
		syscalls:  syscalls,
	}, nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}

// percentile returns the p-th percentile of sorted, by the nearest-rank
// method; zero for no samples.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (len(sorted)*p + 99) / 100 // ceil(n·p/100), 1-based
	return sorted[max(rank, 1)-1]
}
