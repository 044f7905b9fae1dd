//go:build unix

package bench_test

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time (user and system, all threads, the garbage
// collector's included) this process has used so far.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
