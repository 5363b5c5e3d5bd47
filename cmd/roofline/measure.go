package main

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/relorago/harness/bench/peak"
	"github.com/relorago/harness/kernels/gemm"
	"github.com/relorago/harness/train"
)

// kind is one step kind's measurement at one width, on one core.
type kind struct {
	name string
	// Medians over the timed steps, wall clock: the step, the GEMM calls
	// inside it and the rest (step − GEMM), in ms.
	stepMs, gemmMs, restMs float64
	// gemmGFLOPs is the median over the timed steps of the GEMMs' work
	// (gemm.Stats: 2·m·n·k a call, attention's skipped triangle not
	// counted) over their time.
	gemmGFLOPs float64
	// cpuPerWall is the process's CPU time over the wall time of the timed
	// steps: about 1 on a quiet machine, lower when other work took the
	// core (wall-clock rates are then understated).
	cpuPerWall float64
	// allocs and bytes are the heap allocations and bytes a step makes in
	// steady state (runtime.MemStats over the timed steps, per step).
	allocs, bytes float64
}

// untimed is the steps before the timed ones: the first builds the arena
// and the optimizer state, the second still makes a few dozen one-off
// allocations; from the third on, every step allocates the same.
const untimed = 2

// measure runs untimed steps of cfg's model (full-rank for rank 0, else
// ReLoRA after its warm start with the fused LoRA op training uses), then
// rounds timed steps, on one thread. The GEMM accounting is switched on
// before the untimed steps, so that its per-shape entries exist before the
// timed steps and their allocations are the step's own; each timed step
// reads the accounting's running totals before and after.
func measure(cfg train.Config, rank, rounds int) (kind, error) {
	s, err := train.NewStepper(cfg, 1, rank)
	if err != nil {
		return kind{}, err
	}
	s.SetLoRAFused(true)
	gemm.EnableStats(true)
	defer gemm.EnableStats(false)
	for range untimed {
		if err := s.Step(); err != nil {
			return kind{}, err
		}
	}
	// Preallocated so that the loop's own bookkeeping allocates nothing.
	step, gemmMs, rest, rate := make([]float64, 0, rounds), make([]float64, 0, rounds),
		make([]float64, 0, rounds), make([]float64, 0, rounds)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0, wall0 := cpuTime(), time.Now()
	for range rounds {
		f0, g0 := gemm.Stats()
		t0 := time.Now()
		if err := s.Step(); err != nil {
			return kind{}, err
		}
		wall := time.Since(t0)
		f1, g1 := gemm.Stats()
		g := g1 - g0
		step = append(step, ms(wall))
		gemmMs = append(gemmMs, ms(g))
		rest = append(rest, ms(wall-g))
		rate = append(rate, float64(f1-f0)/g.Seconds()/1e9)
	}
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	runtime.ReadMemStats(&m1)
	return kind{
		stepMs: peak.Median(step), gemmMs: peak.Median(gemmMs), restMs: peak.Median(rest), gemmGFLOPs: peak.Median(rate),
		cpuPerWall: cpu.Seconds() / wall.Seconds(),
		allocs:     float64(m1.Mallocs-m0.Mallocs) / float64(rounds),
		bytes:      float64(m1.TotalAlloc-m0.TotalAlloc) / float64(rounds),
	}, nil
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }

// cpuTime is the CPU time the process has used, all threads (0 if the
// clock cannot be read).
func cpuTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
