// Package throughput regenerates the paper's Table 4 at CPU scale: the speed
// of a ReLoRA training step (after the warm start) against a full-rank step
// across model widths, on one core and on two threads, with the fused LoRA
// op training uses and the composed one, next to the FLOP model
// (model.Config.FLOPsPerStep), the warm-start-adjusted speed-up, memory and
// optimizer state, and where the step's time goes (GEMMs by kind of
// product, the rest).
package throughput

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/relorago/harness/bench/peak"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/kernels/gemm"
	"github.com/relorago/harness/train"
)

// Spec is one probe, run in its own process: either a speed probe (Variants
// set), which alternates full-rank steps with steps of every variant in
// rounds, or a memory probe (Memory set), one step kind alone.
type Spec struct {
	Preset  string `json:"preset"`
	Width   Width  `json:"width"`
	Threads int    `json:"threads"`

	// Speed probe. Every round runs one full-rank step and one step of each
	// variant, in an order that rotates from round to round, so that each
	// ReLoRA step has a full-rank step of the same round to be compared
	// with: on a shared machine the same step's speed drifts by tens of
	// percent over minutes, but little within a round.
	Variants []Variant `json:"variants,omitempty"`
	Warmup   int       `json:"warmup,omitempty"` // untimed rounds (arena, optimizer state, caches)
	// Timed rounds: as many as fill Seconds (judged by the last warm-up
	// round), at least MinRounds and at most MaxRounds.
	MinRounds int     `json:"min_rounds,omitempty"`
	MaxRounds int     `json:"max_rounds,omitempty"`
	Seconds   float64 `json:"seconds,omitempty"`

	// Memory probe: one step of this kind (Rank 0 = full-rank) in a fresh
	// process, whose peak RSS is then the step's.
	Memory *Variant `json:"memory,omitempty"`
}

// GEMM classes: a step's GEMM time by kind of product.
const (
	ClassDense     = "dense"     // the projections' and the head's full-width products
	ClassLowRank   = "low-rank"  // the LoRA factors' products (one dimension is r)
	ClassAttention = "attention" // the causal attention products (gemm.SgemmTri)
)

// Classes lists the GEMM classes in table order.
var Classes = []string{ClassDense, ClassLowRank, ClassAttention}

// Kind is what a probe measured of one step kind.
type Kind struct {
	Variant
	StepMillis []float64 `json:"step_ms"` // wall time of its step in each timed round
	// StepCPUMillis is the process's CPU time over the step in each round
	// (all its threads): what a one-thread step costs whatever else shares
	// the core, since the time it waits for the core is not counted.
	StepCPUMillis []float64 `json:"step_cpu_ms"`
	// GEMMMillis is each round's GEMM time by class (Classes order),
	// summed over the threads' calls; GEMMFLOPs the class's work per step.
	GEMMMillis [][]float64 `json:"gemm_ms"`
	GEMMFLOPs  []float64   `json:"gemm_flops"`
	FLOPs      float64     `json:"flops_per_step"` // the FLOP model's
	Total      int         `json:"total_params"`
	Trainable  int         `json:"trainable_params"`
	OptFloats  int         `json:"optimizer_floats"`
}

// Measurement is what one probe measured.
type Measurement struct {
	Spec
	Full     Kind   `json:"full"`               // speed probe: the full-rank steps; memory probe: the step
	Variants []Kind `json:"variants,omitempty"` // speed probe, in Spec.Variants order
	// Memory probe: activations and gradients of the step, and the
	// process's peak resident memory.
	ArenaBytes  int   `json:"activation_bytes,omitempty"`
	MaxRSSBytes int64 `json:"max_rss_bytes,omitempty"`
	// Load is the 1-minute load average when the probe started and ended:
	// a figure above the probe's threads means other work shared the cores.
	Load []float64 `json:"load_avg"`
	// Peak is, for a speed probe, one core's FMA peak in GFLOP/s (the
	// median of peakRounds rounds of bench/peak's loop) when the probe
	// started and when it ended: the ceiling of its GEMM rates, and a
	// reading of the host that the load average misses, since a virtual
	// machine's neighbours slow its cores without running in it.
	Peak []float64 `json:"fma_peak_gflops,omitempty"`
	// Attempts is how many times the probe was run before this measurement
	// was kept (MeasureQuiet); 0 or 1: once.
	Attempts int `json:"attempts,omitempty"`
}

// Measure runs spec in this process. Run it in a fresh process (relora's
// hidden "probe" command), so that a memory probe's peak RSS is its own.
func Measure(spec Spec) (Measurement, error) {
	p, err := experiments.Get(spec.Preset)
	if err != nil {
		return Measurement{}, err
	}
	cfg, err := spec.Width.Config(p)
	if err != nil {
		return Measurement{}, err
	}
	if spec.Threads < 1 || (spec.Memory == nil) == (len(spec.Variants) == 0) {
		return Measurement{}, fmt.Errorf("throughput: bad spec %+v: want threads ≥ 1 and either variants or memory", spec)
	}
	runtime.GOMAXPROCS(spec.Threads)
	out := Measurement{Spec: spec, Load: []float64{loadAverage()}}
	if spec.Memory != nil {
		err = measureMemory(cfg, spec, &out)
	} else {
		readPeak(&out)
		err = measureSpeed(cfg, spec, &out)
		// The kernels' helper threads spin for 2 ms after a step's last
		// section; the peak's clock is the process's CPU time.
		time.Sleep(20 * time.Millisecond)
		readPeak(&out)
	}
	out.Load = append(out.Load, loadAverage())
	return out, err
}

// readPeak appends one FMA peak reading (peak.Reading, about 0.3 s) to out
// (none where the loop cannot run: the table then says nothing of the
// peak).
func readPeak(out *Measurement) {
	if g, err := peak.Reading(); err == nil {
		out.Peak = append(out.Peak, g)
	}
}

// measureMemory runs one step of spec.Memory's kind on its own context and
// records its memory: what train.Stepper, which training's loop uses, holds.
func measureMemory(cfg train.Config, spec Spec, out *Measurement) error {
	s, err := train.NewStepper(cfg, spec.Threads, spec.Memory.Rank)
	if err != nil {
		return err
	}
	s.SetLoRAFused(spec.Memory.Fused)
	t0 := time.Now()
	if err := s.Step(); err != nil {
		return err
	}
	out.Full = Kind{Variant: *spec.Memory, StepMillis: []float64{ms(time.Since(t0))}, FLOPs: s.FLOPs()}
	out.Full.Total, out.Full.Trainable, out.Full.OptFloats = s.Counts()
	out.ArenaBytes = s.ArenaBytes()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		out.MaxRSSBytes = ru.Maxrss * 1024 // Linux reports kilobytes
	}
	return nil
}

// rounds is how many rounds, warm-up included, a speed probe runs when a
// round takes the given seconds: as many timed ones as fill Seconds, within
// MinRounds and MaxRounds (at least one).
func (spec Spec) rounds(round float64) int {
	want := spec.MinRounds
	if spec.Seconds > 0 && round > 0 {
		want = int(math.Ceil(spec.Seconds / round))
	}
	if spec.MaxRounds > 0 {
		want = min(want, spec.MaxRounds)
	}
	return spec.Warmup + max(1, spec.MinRounds, want)
}

// measureSpeed runs the rounds of a speed probe.
func measureSpeed(cfg train.Config, spec Spec, out *Measurement) error {
	b, err := newBench(cfg, spec.Threads)
	if err != nil {
		return err
	}
	kinds := append([]Variant{{}}, spec.Variants...)
	steppers := make([]*stepper, len(kinds))
	results := make([]*Kind, len(kinds))
	out.Variants = make([]Kind, len(spec.Variants))
	for i, v := range kinds {
		if steppers[i], err = b.add(v); err != nil {
			return err
		}
		results[i] = &out.Full
		if i > 0 {
			results[i] = &out.Variants[i-1]
		}
		k := results[i]
		k.Variant, k.FLOPs = v, steppers[i].flops
		k.Total, k.Trainable = steppers[i].m.Count()
		k.GEMMMillis = make([][]float64, len(Classes))
		k.GEMMFLOPs = make([]float64, len(Classes))
	}
	defer gemm.EnableStats(false)
	rounds, lastRound := spec.Warmup+max(1, spec.MinRounds), time.Duration(0)
	for round := 0; round < rounds; round++ {
		t0 := time.Now()
		for j := range kinds {
			i := (round + j) % len(kinds)
			gemm.EnableStats(true)
			c0, s0 := cpuTime(), time.Now()
			if err := b.step(steppers[i]); err != nil {
				return err
			}
			wall, cpu := time.Since(s0), cpuTime()-c0
			if round < spec.Warmup {
				continue
			}
			k := results[i]
			k.StepMillis = append(k.StepMillis, ms(wall))
			k.StepCPUMillis = append(k.StepCPUMillis, ms(cpu))
			byClass := classify(gemm.ShapeStats(), kinds[i].Rank)
			for c := range Classes {
				k.GEMMMillis[c] = append(k.GEMMMillis[c], ms(byClass[c].spent))
				k.GEMMFLOPs[c] = float64(byClass[c].flops)
			}
		}
		lastRound = time.Since(t0)
		if round == spec.Warmup-1 || (spec.Warmup == 0 && round == 0) {
			rounds = spec.rounds(lastRound.Seconds())
		}
	}
	for i, st := range steppers {
		results[i].OptFloats = st.opt.Floats()
	}
	return nil
}

type classTotal struct {
	flops int64
	spent time.Duration
}

// classify sums a step's GEMM calls by class: SgemmTri calls are
// attention's; with rank > 0, a product with a dimension equal to the rank
// is the LoRA factors' (the widths, the SwiGLU width, the vocabulary, the
// token count and the cuts kernels.Ctx makes of them are all far from the
// ranks measured); the rest are dense.
func classify(stats []gemm.ShapeStat, rank int) []classTotal {
	out := make([]classTotal, len(Classes))
	for _, s := range stats {
		c := 0
		switch {
		case s.Tri != gemm.Full:
			c = 2
		case rank > 0 && (s.M == rank || s.N == rank || s.K == rank):
			c = 1
		}
		out[c].flops += s.Flops
		out[c].spent += s.Spent
	}
	return out
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

// loadAverage is the 1-minute load average (/proc/loadavg), -1 if unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
