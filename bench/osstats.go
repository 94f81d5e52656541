package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// osStats is what the kernel counts for this process: CPU time, user and
// system, and read and write system calls (Linux's /proc/self/io syscr and
// syscw, which count read, write, readv and writev: the socket I/O of every
// peer). Per call, they say what a call costs whatever else the machine is
// running, which wall-clock throughput on a shared machine does not.
type osStats struct {
	cpu      time.Duration
	syscalls int64 // -1 when /proc/self/io cannot be read
}

func readOSStats() osStats {
	var s osStats
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.syscalls = -1
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return s
	}
	var n int64
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(": "))
		if !ok || (string(k) != "syscr" && string(k) != "syscw") {
			continue
		}
		x, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return s
		}
		n += x
		found++
	}
	if found == 2 {
		s.syscalls = n
	}
	return s
}

// perCall returns, over calls, the CPU time in microseconds and the read
// and write system calls between a and b; syscalls is negative when they
// were not counted.
func perCall(a, b osStats, calls int64) (cpuUs, syscalls float64) {
	if calls == 0 {
		return 0, -1
	}
	cpuUs = float64(b.cpu-a.cpu) / float64(time.Microsecond) / float64(calls)
	syscalls = -1
	if a.syscalls >= 0 && b.syscalls >= 0 {
		syscalls = float64(b.syscalls-a.syscalls) / float64(calls)
	}
	return cpuUs, syscalls
}
