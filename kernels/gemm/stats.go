package gemm

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Optional accounting of GEMM work, for benchmarks that report how fast the
// GEMMs of a training step run and what share of the step they take. Off by
// default; when on, each call costs two clock reads and a map update under
// a mutex (~100 ns, against the microseconds of the smallest attention
// GEMM).
var (
	statsOn    atomic.Bool
	statsNanos atomic.Int64
	statsFlops atomic.Int64
)

// Shape is one GEMM's shape: Sgemm's transposes and sizes, and the Tri
// mode of a SgemmTri call (Full for Sgemm).
type Shape struct {
	Tri            Tri
	TransA, TransB bool
	M, N, K        int
}

// ShapeStat is the work and time of every call of one Shape since
// EnableStats.
type ShapeStat struct {
	Shape
	Calls int64
	Flops int64
	Spent time.Duration
}

// byShape accumulates the calls by shape, for benchmarks that split a
// step's GEMM time into kinds of products (dense, low-rank, attention).
var (
	shapeMu sync.Mutex
	byShape = map[Shape]*ShapeStat{}
)

// EnableStats turns the accounting on or off and clears the counters.
func EnableStats(on bool) {
	statsOn.Store(on)
	statsNanos.Store(0)
	statsFlops.Store(0)
	shapeMu.Lock()
	clear(byShape)
	shapeMu.Unlock()
}

// ShapeStats returns the accounting by shape since EnableStats, ordered by
// time spent, largest first.
func ShapeStats() []ShapeStat {
	shapeMu.Lock()
	defer shapeMu.Unlock()
	out := make([]ShapeStat, 0, len(byShape))
	for _, s := range byShape {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b ShapeStat) int {
		if c := cmp.Compare(b.Spent, a.Spent); c != 0 {
			return c
		}
		return cmp.Compare(b.Flops, a.Flops)
	})
	return out
}

// Stats returns the floating-point operations the GEMMs did since
// EnableStats (2·m·n·k per Sgemm; only the products that are not skipped
// for SgemmTri) and the time spent in them, summed over concurrent calls.
func Stats() (flops int64, spent time.Duration) {
	return statsFlops.Load(), time.Duration(statsNanos.Load())
}

// record adds one call's work and time to the counters.
func record(shape Shape, flops int64, start time.Time) {
	spent := time.Since(start)
	statsNanos.Add(int64(spent))
	statsFlops.Add(flops)
	shapeMu.Lock()
	st := byShape[shape]
	if st == nil {
		st = &ShapeStat{Shape: shape}
		byShape[shape] = st
	}
	st.Calls++
	st.Flops += flops
	st.Spent += spent
	shapeMu.Unlock()
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
