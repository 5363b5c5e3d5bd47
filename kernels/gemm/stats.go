package gemm

import (
	"sync/atomic"
	"time"
)

// Optional accounting of GEMM work, for benchmarks that report how fast the
// GEMMs of a training step run and what share of the step they take. Off by
// default; when on, each call costs two clock reads (~50 ns, against the
// microseconds of the smallest attention GEMM).
var (
	statsOn    atomic.Bool
	statsNanos atomic.Int64
	statsFlops atomic.Int64
)

// EnableStats turns the accounting on or off and clears the counters.
func EnableStats(on bool) {
	statsOn.Store(on)
	statsNanos.Store(0)
	statsFlops.Store(0)
}

// Stats returns the floating-point operations the GEMMs did since
// EnableStats (2·m·n·k per Sgemm; only the products that are not skipped
// for SgemmTri) and the time spent in them, summed over concurrent calls.
func Stats() (flops int64, spent time.Duration) {
	return statsFlops.Load(), time.Duration(statsNanos.Load())
}

// record adds one call's work and time to the counters.
func record(flops int64, start time.Time) {
	statsNanos.Add(int64(time.Since(start)))
	statsFlops.Add(flops)
}

// triFlops is 2·n times the number of (i, p) pairs of the m×k op(A) that a
// Tri mode multiplies (for LowerC, the wanted C elements times k).
func triFlops(tri Tri, m, n, k int) int64 {
	var pairs int64
	for i := 0; i < m; i++ {
		switch tri {
		case LowerC:
			pairs += int64(min(n, i+1)) * int64(k)
		case LowerA:
			pairs += int64(min(k, i+1)) * int64(n)
		case UpperA:
			pairs += int64(max(0, k-i)) * int64(n)
		default:
			pairs += int64(k) * int64(n)
		}
	}
	return 2 * pairs
}
