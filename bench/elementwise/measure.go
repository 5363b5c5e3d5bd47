package elementwise

import (
	"runtime"
	"slices"
	"time"

	"github.com/relorago/harness/bench/peak"
)

// roundBytes is the traffic a timed round moves at least: a pass smaller
// than it is repeated, so that a round of an in-cache pass lasts long
// enough (a few ms) for the clock to time it.
const roundBytes = 64 << 20

// Result is one case's measurement: GB/s (1e9 bytes, Case.Bytes per pass)
// per timed round, sorted, and the median seconds of a pass.
type Result struct {
	GBs     []float64
	PassSec float64
}

// Measure builds c's arrays, runs one untimed pass (it faults the pages in
// and warms the caches), then rounds timed rounds of passes on one locked
// OS thread. Wall clock, as bench/stream: memory bandwidth is the
// machine's, so other work lowers it whatever clock is read.
func Measure(c Case, rounds int) Result {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pass := c.New()
	pass()
	reps := max(1, int((roundBytes+c.Bytes-1)/c.Bytes))
	gbs, secs := make([]float64, 0, rounds), make([]float64, 0, rounds)
	for range rounds {
		t0 := time.Now()
		for range reps {
			pass()
		}
		s := time.Since(t0).Seconds() / float64(reps)
		secs = append(secs, s)
		gbs = append(gbs, float64(c.Bytes)/s/1e9)
	}
	slices.Sort(gbs)
	slices.Sort(secs)
	return Result{GBs: gbs, PassSec: peak.Median(secs)}
}
