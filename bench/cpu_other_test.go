//go:build !unix

package bench_test

import (
	"testing"
	"time"
)

// processCPU is not measured here (0): cpu-ns/op is not reported.
func processCPU(testing.TB) time.Duration { return 0 }
