package session_test

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// threadCPU runs f on one locked OS thread and returns the CPU time that thread spent in
// it. Unlike wall time it does not grow when the machine is busy with other work, which
// is what lets tests compare the cost of two runs on a loaded machine.
func threadCPU(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadClock()
	f()
	return threadClock() - before
}

// clockThreadCPUTime is CLOCK_THREAD_CPUTIME_ID: the calling thread's CPU time, to the
// nanosecond (getrusage's per-thread times move in scheduler ticks).
const clockThreadCPUTime = 3

func threadClock() time.Duration {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		panic(errno)
	}
	return time.Duration(ts.Nano())
}
