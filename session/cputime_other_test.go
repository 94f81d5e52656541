//go:build !linux

package session_test

import "time"

// threadCPU returns how long f took. Where per-thread CPU time is not available, wall
// time stands in for it: noisier on a loaded machine, but the tests that use it compare
// minimums of several runs with a wide margin.
func threadCPU(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
