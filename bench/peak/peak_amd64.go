package peak

import (
	"errors"
	"runtime"
	"slices"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"

	"github.com/relorago/harness/internal/kernelchoice"
)

// fmaLoop runs n iterations of 12 independent 8-lane VFMADD231PS, and
// fmaLoop512 of 12 16-lane ones (peak_amd64.s).
func fmaLoop(n int)
func fmaLoop512(n int)

// Lanes is the vector width of the loop Measure times, in floats: 16 where
// the CPU and OS have AVX-512F and the GEMM uses it (its ZMM kernels,
// unless RELORA_GEMM_KERNEL keeps the AVX2 ones; OpenBLAS picks its own
// AVX-512 kernels), else 8. The peak is the ceiling of the kernel that
// runs: with the AVX2 kernels kept on an AVX-512 core, the 16-lane loop's
// peak is one they cannot reach.
var Lanes = lanes(cpu.X86.HasAVX512F, goGEMM && kernelchoice.AVX2Only())

func lanes(avx512, avx2Kept bool) int {
	if avx512 && !avx2Kept {
		return 16
	}
	return 8
}

// loop runs n iterations of the loop of Lanes lanes.
func loop(n int) {
	if Lanes == 16 {
		fmaLoop512(n)
		return
	}
	fmaLoop(n)
}

// cpuSeconds is the process's CPU time: other work sharing the core does
// not advance it, so a round on a busy machine is not slowed by the wait.
func cpuSeconds() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return float64(ts.Nano()) / 1e9
}

// Measure times rounds runs of iters loop iterations on one locked OS
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
	loop(max(1, iters/10))
	g := make([]float64, 0, rounds)
	for range rounds {
		t0 := cpuSeconds()
		loop(iters)
		g = append(g, FlopsPerIter()*float64(iters)/(cpuSeconds()-t0)/1e9)
	}
	slices.Sort(g)
	return g, nil
}
