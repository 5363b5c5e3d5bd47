package throughput

import (
	"fmt"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
)

// WarmFraction is the share of a ReLoRA run trained full-rank (the warm
// start) in the paper's warm-start-adjusted throughput.
const WarmFraction = 0.33

// Setup is a way to use the machine's two cores (the CPU analog of the
// paper's hardware configurations).
type Setup struct {
	Name    string `json:"name"`
	Workers int    `json:"workers"` // runs at once, one process each
	Threads int    `json:"threads"` // cores per run
}

// Setups are the configurations measured.
var Setups = []Setup{
	{"1 core (1 run)", 1, 1},
	{"2 cores (2 runs at once)", 2, 1},
	{"2 cores (1 run, 2 threads)", 1, 2},
}

// Row is one setup's comparison.
type Row struct {
	Setup
	FullTokS      float64 `json:"full_tokens_per_sec"` // summed over workers
	ReLoRATokS    float64 `json:"relora_tokens_per_sec"`
	FullExS       float64 `json:"full_examples_per_sec"`
	ReLoRAExS     float64 `json:"relora_examples_per_sec"`
	Immediate     float64 `json:"immediate_speedup"`          // ReLoRA / full
	AdjustedTokS  float64 `json:"ws_adjusted_tokens_per_sec"` // 33% full-rank, 67% ReLoRA
	AdjustedSpeed float64 `json:"ws_adjusted_speedup"`
}

// RankRow is the single-core speed-up at one rank, measured and by the FLOP model.
type RankRow struct {
	Rank          int     `json:"rank"`
	Trainable     int     `json:"trainable_params"`
	FLOPRatio     float64 `json:"flop_speedup"`     // full FLOPs / ReLoRA FLOPs
	MeasuredRatio float64 `json:"measured_speedup"` // ReLoRA tokens/s / full tokens/s
	ReLoRAGFLOPs  float64 `json:"relora_gflops"`
}

// Table is the regenerated Table 4.
type Table struct {
	Preset string          `json:"preset"`
	Rank   int             `json:"rank"`
	Rows   []Row           `json:"rows"`
	Fused  Row             `json:"fused"`  // 1 core, ReLoRA with the fused LoRA op
	Memory []Measurement   `json:"memory"` // the single-core full and ReLoRA measurements
	Ranks  []RankRow       `json:"ranks"`
	Claims []report.Claim  `json:"claims"`
	Raw    [][]Measurement `json:"raw"`    // the reported probes, by setup then method
	Rounds int             `json:"rounds"` // times the plan was measured; each probe is its median round
}

// Plan returns the probe batches Build needs, in order:
//   - memory: a full-rank, a ReLoRA and a fused-op ReLoRA probe, one core
//     each, each alone in its process (so its peak RSS is its own);
//   - speed: for each setup, Workers paired ReLoRA probes run at once (each
//     alternates full-rank and ReLoRA steps, see Spec.Paired), then a paired
//     fused-op probe and a paired probe per extra rank, on one core.
func Plan(p experiments.Preset, warmup, steps int, ranks []int) [][]Spec {
	rank := p.Base.ReLoRA.Rank
	spec := func(r, threads int, fused, paired bool) Spec {
		return Spec{Preset: p.Name, Rank: r, Threads: threads, Warmup: warmup, Steps: steps, Fused: fused, Paired: paired}
	}
	plan := [][]Spec{{spec(0, 1, false, false)}, {spec(rank, 1, false, false)}, {spec(rank, 1, true, false)}}
	for _, s := range Setups {
		var b []Spec
		for w := 0; w < s.Workers; w++ {
			b = append(b, spec(rank, s.Threads, false, true))
		}
		plan = append(plan, b)
	}
	plan = append(plan, []Spec{spec(rank, 1, true, true)})
	for _, r := range ranks {
		if r != rank {
			plan = append(plan, []Spec{spec(r, 1, false, true)})
		}
	}
	return plan
}

// memoryProbes is the number of memory batches at the head of a plan.
const memoryProbes = 3

// pairedRow compares the full-rank and ReLoRA steps of paired probes run at
// once: throughputs are summed over the probes, as over a matrix's workers.
func pairedRow(s Setup, ms []Measurement) Row {
	r := Row{Setup: s}
	for _, m := range ms {
		perToken := m.ExamplesPerSec / m.TokensPerSec // 1 / sequence length
		r.FullTokS += m.FullTokensPerSec
		r.FullExS += m.FullTokensPerSec * perToken
		r.ReLoRATokS += m.TokensPerSec
		r.ReLoRAExS += m.ExamplesPerSec
	}
	r.Immediate = r.ReLoRATokS / r.FullTokS
	r.AdjustedTokS = 1 / (WarmFraction/r.FullTokS + (1-WarmFraction)/r.ReLoRATokS)
	r.AdjustedSpeed = r.AdjustedTokS / r.FullTokS
	return r
}

// Build turns the measured plan into the table.
func Build(p experiments.Preset, plan [][]Spec, measured [][]Measurement) (*Table, error) {
	speed := memoryProbes + len(Setups) // index of the fused speed probe
	if len(plan) != len(measured) || len(plan) < speed+1 {
		return nil, fmt.Errorf("throughput: %d batches measured for a plan of %d", len(measured), len(plan))
	}
	for i, ms := range measured[memoryProbes:] {
		for _, m := range ms {
			if m.FullTokensPerSec <= 0 || m.TokensPerSec <= 0 {
				return nil, fmt.Errorf("throughput: speed probe %d has no paired full-rank steps", memoryProbes+i)
			}
		}
	}
	t := &Table{Preset: p.Name, Rank: p.Base.ReLoRA.Rank, Raw: measured}
	t.Memory = []Measurement{measured[0][0], measured[1][0], measured[2][0]}
	for i, s := range Setups {
		t.Rows = append(t.Rows, pairedRow(s, measured[memoryProbes+i]))
	}
	t.Fused = pairedRow(Setup{"1 core (1 run), fused LoRA op", 1, 1}, measured[speed])
	fullFLOPs := measured[0][0].FLOPs
	rankRow := func(m Measurement) RankRow {
		return RankRow{Rank: m.Rank, Trainable: m.Trainable, FLOPRatio: fullFLOPs / m.FLOPs,
			MeasuredRatio: m.TokensPerSec / m.FullTokensPerSec, ReLoRAGFLOPs: m.GFLOPs}
	}
	t.Ranks = append(t.Ranks, rankRow(measured[memoryProbes][0]))
	for _, ms := range measured[speed+1:] {
		t.Ranks = append(t.Ranks, rankRow(ms[0]))
	}
	sortRanks(t.Ranks)
	one := t.Rows[0]
	t.Claims = []report.Claim{{
		Statement: "A ReLoRA step is faster than a full-rank step (the paper: 9–40% faster training, depending on size and hardware)",
		Verdict:   verdictOf(one.Immediate > 1),
		Evidence: fmt.Sprintf("1 core: %.0f vs %.0f tokens/s (%.2fx immediate, %.2fx warm-start-adjusted); with the fused LoRA op %.2fx; FLOP model %.2fx",
			one.ReLoRATokS, one.FullTokS, one.Immediate, one.AdjustedSpeed, t.Fused.Immediate, t.Ranks[indexOfRank(t.Ranks, t.Rank)].FLOPRatio),
	}}
	return t, nil
}

func sortRanks(rs []RankRow) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Rank < rs[j-1].Rank; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func indexOfRank(rs []RankRow, r int) int {
	for i, x := range rs {
		if x.Rank == r {
			return i
		}
	}
	return 0
}

// verdictOf maps a measured speed ordering to a verdict. Every probe is the
// median of paired rounds in one process, which is what makes a ratio of
// 0.93 or 1.2 stable from run to run on this machine.
func verdictOf(faster bool) report.Verdict {
	if faster {
		return report.Reproduced
	}
	return report.NotReproduced
}
