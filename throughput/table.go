package throughput

import (
	"fmt"
	"math"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/stats"
)

// PaperWarmFraction is the share of a ReLoRA run the paper's
// warm-start-adjusted throughput counts as full-rank warm start (33%).
const PaperWarmFraction = 0.33

// Options sizes the measurement.
type Options struct {
	Threads   []int   // thread counts to measure (1 and 2)
	Warmup    int     // untimed rounds per speed probe
	MinRounds int     // timed rounds per speed probe, at least
	MaxRounds int     // and at most
	Seconds   float64 // time budget of a speed probe's timed rounds
	Retries   int     // extra attempts of a speed probe whose readings say the core was shared (MeasureQuiet)
}

// DefaultOptions: one warm-up round, then rounds for ~75 s per probe,
// between 5 and 12 (at d 1024 one round of five steps takes ~45 s on one
// core of this EPYC: `make throughput` took 23 minutes with the machine
// loaded, 4 rounds at d 512 and 1024; ~15 on a quiet one).
var DefaultOptions = Options{Threads: []int{1, 2}, Warmup: 1, MinRounds: 5, MaxRounds: 12, Seconds: 75, Retries: DefaultRetries}

// Plan is what Build needs measured, in the order it is run.
type Plan struct {
	Preset string `json:"preset"`
	Widths []Width
	// Speed holds one probe per width and thread count: full-rank and
	// ReLoRA at every rank with both ops, paired round by round.
	Speed []Spec
	// Memory holds per width a full-rank probe, a fused ReLoRA probe per
	// rank and a composed one at the main rank, one core each.
	Memory []Spec
}

// NewPlan lays out the probes for the widths.
func NewPlan(p experiments.Preset, widths []Width, o Options) Plan {
	plan := Plan{Preset: p.Name, Widths: widths}
	for _, w := range widths {
		var vs []Variant
		for _, r := range w.Ranks {
			vs = append(vs, Variant{r, true}, Variant{r, false})
		}
		for _, th := range o.Threads {
			plan.Speed = append(plan.Speed, Spec{Preset: p.Name, Width: w, Threads: th, Variants: vs,
				Warmup: o.Warmup, MinRounds: o.MinRounds, MaxRounds: o.MaxRounds, Seconds: o.Seconds})
		}
		mem := []Variant{{}}
		for _, r := range w.Ranks {
			mem = append(mem, Variant{r, true})
		}
		mem = append(mem, Variant{w.MainRank(), false})
		for _, v := range mem {
			plan.Memory = append(plan.Memory, Spec{Preset: p.Name, Width: w, Threads: 1, Memory: &v})
		}
	}
	return plan
}

// Cell is one ReLoRA step kind at one width and thread count against the
// full-rank step it was paired with.
type Cell struct {
	Dim     int  `json:"dim"`
	Rank    int  `json:"rank"`
	Fused   bool `json:"fused"`
	Threads int  `json:"threads"`
	// Ratios are the per-round speed-ups: the round's full-rank step time
	// over its ReLoRA step time, by Clock: the process's CPU time on one
	// thread (which other work on the core does not advance: a step's
	// cost, not its wait), wall time with more threads (where the time the
	// threads wait for each other is part of the step). WallRatios are the
	// wall-time ratios in every case.
	Ratios      []float64 `json:"ratios"`
	Clock       string    `json:"clock"`
	WallRatios  []float64 `json:"wall_ratios"`
	FLOPSpeedup float64   `json:"flop_speedup"` // full-rank FLOPs / ReLoRA FLOPs (model.Config.FLOPsPerStep)
	// Medians over rounds of the two steps' times and of their GEMM time
	// by class (Classes order); GEMM work per step by class.
	FullMillis       float64   `json:"full_ms"`
	ReLoRAMillis     float64   `json:"relora_ms"`
	FullGEMMMillis   []float64 `json:"full_gemm_ms"`
	ReLoRAGEMMMillis []float64 `json:"relora_gemm_ms"`
	FullGEMMFLOPs    []float64 `json:"full_gemm_flops"`
	ReLoRAGEMMFLOPs  []float64 `json:"relora_gemm_flops"`
	FullFLOPs        float64   `json:"full_flops"`
	ReLoRAFLOPs      float64   `json:"relora_flops"`
}

// Speedup is the mean per-round speed-up with its 95% interval: paired
// rounds, so the machine's drift between rounds cancels in each ratio.
func (c Cell) Speedup() stats.Interval { return stats.MeanInterval(c.Ratios) }

// Adjusted is the warm-start-adjusted speed-up when a fraction f of the
// run is full-rank (the paper's definition: throughput 1 / (f/full +
// (1−f)/ReLoRA), over full-rank's).
func Adjusted(speedup, f float64) float64 { return 1 / (f + (1-f)/speedup) }

// MemoryRow is one memory probe: a step kind alone in its process.
type MemoryRow struct {
	Dim int `json:"dim"`
	Variant
	Trainable  int     `json:"trainable_params"`
	Total      int     `json:"total_params"`
	OptFloats  int     `json:"optimizer_floats"`
	ArenaBytes int     `json:"activation_bytes"`
	MaxRSS     int64   `json:"max_rss_bytes"`
	FLOPs      float64 `json:"flops_per_step"`
}

// Table is the regenerated Table 4.
type Table struct {
	Preset string      `json:"preset"`
	Rank   int         `json:"rank"` // the preset's own LoRA rank (at its own width)
	Widths []Width     `json:"widths"`
	Cells  []Cell      `json:"cells"`
	Memory []MemoryRow `json:"memory"`
	// WarmFraction is the preset's warm start as a share of its run (600
	// of 2,400 steps at the default preset), beside the paper's 33%.
	WarmFraction float64   `json:"warm_fraction"`
	Backend      string    `json:"gemm_backend"`
	Date         string    `json:"date"`     // when it was measured (UTC)
	Load         []float64 `json:"load_avg"` // lowest and highest 1-minute load average the probes saw
	Rounds       []int     `json:"rounds"`   // fewest and most timed rounds of a speed probe
	// CPU names the processor, with its family and model numbers.
	CPU string `json:"cpu,omitempty"`
	// Kernel names the GEMM micro-kernel the CPU ran (gemm.MicroKernel);
	// empty in tables measured before it was recorded (all AVX2).
	Kernel string `json:"gemm_kernel,omitempty"`
	// FMAPeak is the lowest and highest of the speed probes' one-core FMA
	// peak readings (GFLOP/s; Measurement.Peak).
	FMAPeak []float64 `json:"fma_peak_gflops,omitempty"`
	// ProbePeaks are each speed probe's own readings (start and end of
	// the attempt kept), so that a low one can be traced to its probe;
	// empty in tables measured before they were recorded.
	ProbePeaks []ProbePeak `json:"probe_fma_peaks,omitempty"`
	// Remeasured counts the speed probes measured again because their own
	// readings said the core was shared (MeasureQuiet), Reattempts the
	// extra attempts they took.
	Remeasured int `json:"remeasured_probes,omitempty"`
	Reattempts int `json:"extra_attempts,omitempty"`
}

// Build turns the measured plan into the table.
func Build(p experiments.Preset, plan Plan, speed, memory []Measurement) (*Table, error) {
	if len(speed) != len(plan.Speed) || len(memory) != len(plan.Memory) {
		return nil, fmt.Errorf("throughput: %d speed and %d memory probes measured for a plan of %d and %d",
			len(speed), len(memory), len(plan.Speed), len(plan.Memory))
	}
	t := &Table{Preset: p.Name, Rank: p.Base.ReLoRA.Rank, Widths: plan.Widths}
	if s := p.Base.Steps; s > 0 {
		t.WarmFraction = float64(p.Base.ReLoRA.WarmStartSteps) / float64(s)
	}
	load, peaks := []float64{}, []float64{}
	rounds := []int{}
	for i, m := range speed {
		if len(m.Variants) != len(plan.Speed[i].Variants) || len(m.Full.StepMillis) == 0 {
			return nil, fmt.Errorf("throughput: speed probe %d (d %d, %d threads) measured no paired rounds", i, m.Width.Dim, m.Threads)
		}
		load = append(load, m.Load...)
		peaks = append(peaks, m.Peak...)
		if len(m.Peak) > 0 {
			t.ProbePeaks = append(t.ProbePeaks, ProbePeak{Dim: m.Width.Dim, Threads: m.Threads, GFLOPs: m.Peak})
		}
		if m.Attempts > 1 {
			t.Remeasured++
			t.Reattempts += m.Attempts - 1
		}
		rounds = append(rounds, len(m.Full.StepMillis))
		for _, v := range m.Variants {
			if len(v.StepMillis) != len(m.Full.StepMillis) {
				return nil, fmt.Errorf("throughput: speed probe %d: %s has %d rounds, full-rank %d", i, v.Variant, len(v.StepMillis), len(m.Full.StepMillis))
			}
			c := Cell{Dim: m.Width.Dim, Rank: v.Rank, Fused: v.Fused, Threads: m.Threads,
				FLOPSpeedup: m.Full.FLOPs / v.FLOPs, FullFLOPs: m.Full.FLOPs, ReLoRAFLOPs: v.FLOPs,
				FullMillis: median(m.Full.StepMillis), ReLoRAMillis: median(v.StepMillis),
				FullGEMMFLOPs: m.Full.GEMMFLOPs, ReLoRAGEMMFLOPs: v.GEMMFLOPs}
			c.Clock = "wall"
			if m.Threads == 1 && len(v.StepCPUMillis) == len(v.StepMillis) && len(m.Full.StepCPUMillis) == len(v.StepMillis) {
				c.Clock = "cpu"
			}
			for r := range v.StepMillis {
				c.WallRatios = append(c.WallRatios, m.Full.StepMillis[r]/v.StepMillis[r])
				if c.Clock == "cpu" {
					c.Ratios = append(c.Ratios, m.Full.StepCPUMillis[r]/v.StepCPUMillis[r])
				}
			}
			if c.Clock == "wall" {
				c.Ratios = c.WallRatios
			}
			for k := range m.Full.GEMMMillis {
				c.FullGEMMMillis = append(c.FullGEMMMillis, median(m.Full.GEMMMillis[k]))
				c.ReLoRAGEMMMillis = append(c.ReLoRAGEMMMillis, median(v.GEMMMillis[k]))
			}
			t.Cells = append(t.Cells, c)
		}
	}
	for _, m := range memory {
		load = append(load, m.Load...)
		t.Memory = append(t.Memory, MemoryRow{Dim: m.Width.Dim, Variant: m.Full.Variant, Trainable: m.Full.Trainable,
			Total: m.Full.Total, OptFloats: m.Full.OptFloats, ArenaBytes: m.ArenaBytes, MaxRSS: m.MaxRSSBytes, FLOPs: m.Full.FLOPs})
	}
	if load = slices.DeleteFunc(load, func(x float64) bool { return x < 0 }); len(load) > 0 {
		t.Load = []float64{slices.Min(load), slices.Max(load)}
	}
	if len(rounds) > 0 {
		t.Rounds = []int{slices.Min(rounds), slices.Max(rounds)}
	}
	if len(peaks) > 0 {
		t.FMAPeak = []float64{slices.Min(peaks), slices.Max(peaks)}
	}
	return t, nil
}

// SharedSpread is how far the lowest FMA peak reading may fall under the
// highest before the table calls its host shared: on a quiet core the
// loop's medians agree within about 2%, and on 2026-12-07 a shared host's
// ranged 58-93 GFLOP/s within minutes.
const SharedSpread = 0.05

// ProbePeak is one speed probe's FMA peak readings (Measurement.Peak).
type ProbePeak struct {
	Dim     int       `json:"dim"`
	Threads int       `json:"threads"`
	GFLOPs  []float64 `json:"fma_peak_gflops"`
}

// lowestProbe is the probe with the lowest FMA peak reading; false when
// the table holds no probe's readings.
func (t *Table) lowestProbe() (ProbePeak, bool) {
	var low ProbePeak
	for _, p := range t.ProbePeaks {
		if len(p.GFLOPs) > 0 && (low.GFLOPs == nil || slices.Min(p.GFLOPs) < slices.Min(low.GFLOPs)) {
			low = p
		}
	}
	return low, low.GFLOPs != nil
}

// PeakShortfall is how far the lowest FMA peak reading fell under the
// highest (0.14: 14%), and whether that marks the host as shared; 0 and
// false when the table has no readings.
func (t *Table) PeakShortfall() (float64, bool) {
	if len(t.FMAPeak) != 2 {
		return 0, false
	}
	return shortfall(t.FMAPeak[0], t.FMAPeak[1])
}

// shortfall is how far the lowest reading lo fell under the highest hi,
// and whether that is more than SharedSpread: the one rule for a table's
// readings and a probe's; 0 and false without a positive hi.
func shortfall(lo, hi float64) (float64, bool) {
	if hi <= 0 {
		return 0, false
	}
	f := 1 - lo/hi
	return f, f > SharedSpread
}

// Cell returns the cell of a width, rank, op and thread count.
func (t *Table) Cell(dim, rank int, fused bool, threads int) (Cell, bool) {
	for _, c := range t.Cells {
		if c.Dim == dim && c.Rank == rank && c.Fused == fused && c.Threads == threads {
			return c, true
		}
	}
	return Cell{}, false
}

// mainCells are the cells the claim is judged on, by width: one core, the
// fused op training uses, the main rank (the preset's rank-to-width ratio).
func (t *Table) mainCells() []Cell {
	var out []Cell
	for _, w := range t.Widths {
		if c, ok := t.Cell(w.Dim, w.MainRank(), true, 1); ok {
			out = append(out, c)
		}
	}
	return out
}

// TimeSplit says where a cell's FLOP-model saving went.
func (c Cell) TimeSplit() string {
	if len(c.FullGEMMMillis) != len(Classes) || len(c.ReLoRAGEMMMillis) != len(Classes) {
		return ""
	}
	sum := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s
	}
	restFull, restReLoRA := c.FullMillis-sum(c.FullGEMMMillis), c.ReLoRAMillis-sum(c.ReLoRAGEMMMillis)
	predicted := c.FullMillis * (1 - 1/c.FLOPSpeedup)
	dense := c.FullGEMMMillis[0] - c.ReLoRAGEMMMillis[0]
	low := c.ReLoRAGEMMMillis[1]
	return fmt.Sprintf("the FLOP model saves %.0f%% of the full-rank step (%.1f of %.1f ms); the dense GEMMs save %.1f ms, "+
		"the low-rank products cost %.1f ms (%.0f GFLOP/s, the dense ones %.0f), the rest of the step (norms, softmax, "+
		"SwiGLU, embeddings, optimizer: %.0f%% of the full-rank step) changes by %+.1f ms and attention's GEMMs by %+.1f ms",
		100*(1-1/c.FLOPSpeedup), predicted, c.FullMillis, dense, low, gflops(c.ReLoRAGEMMFLOPs[1], low),
		gflops(c.FullGEMMFLOPs[0], c.FullGEMMMillis[0]), 100*restFull/c.FullMillis, restReLoRA-restFull,
		c.ReLoRAGEMMMillis[2]-c.FullGEMMMillis[2])
}

func gflops(flops, ms float64) float64 {
	if ms <= 0 {
		return 0
	}
	return flops / ms / 1e6
}

// fmtX formats a speed-up interval: "1.21x [1.18, 1.24]".
func fmtX(iv stats.Interval) string {
	if iv.N < 2 || math.IsNaN(iv.Lo) {
		return fmt.Sprintf("%.2fx (one round)", iv.Mean)
	}
	return fmt.Sprintf("%.2fx [%.2f, %.2f]", iv.Mean, iv.Lo, iv.Hi)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
