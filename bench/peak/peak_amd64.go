package peak

import (
	"errors"
	"runtime"
	"slices"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// flopsPerIter is the work of one fmaLoop iteration: 12 VFMADD231PS of 8
// lanes, 2 flops each.
const flopsPerIter = 12 * 8 * 2

// fmaLoop runs n iterations of 12 independent VFMADD231PS (peak_amd64.s).
func fmaLoop(n int)

// cpuSeconds is the process's CPU time: other work sharing the core does
// not advance it, so a round on a busy machine is not slowed by the wait.
func cpuSeconds() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return float64(ts.Nano()) / 1e9
}

// Measure times rounds runs of iters fmaLoop iterations on one locked OS
// thread, after an untimed tenth of a round that lets the core reach its
// clock, and returns each round's GFLOP/s, sorted. Call it with nothing
// else running in the process: the time is the whole process's.
func Measure(rounds, iters int) ([]float64, error) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return nil, errors.New("peak: this CPU lacks AVX2 or FMA")
	}
	if rounds < 1 || iters < 1 {
		return nil, errors.New("peak: rounds and iters must be positive")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fmaLoop(max(1, iters/10))
	g := make([]float64, 0, rounds)
	for range rounds {
		t0 := cpuSeconds()
		fmaLoop(iters)
		g = append(g, flopsPerIter*float64(iters)/(cpuSeconds()-t0)/1e9)
	}
	slices.Sort(g)
	return g, nil
}
