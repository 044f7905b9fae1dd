//go:build !unix

package bench_test

import (
	"testing"
	"time"
)

// processCPU is not measured here: cpu-ns/op reads 0.
func processCPU(testing.TB) time.Duration { return 0 }
