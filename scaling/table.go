// Package scaling builds the paper's Table 2 (full training, control, LoRA,
// LoRA with warm start and ReLoRA across model sizes) and Table 3 (the
// largest size at several checkpoints) from finished runs.
package scaling

import (
	"fmt"
	"math"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/stats"
	"github.com/relorago/harness/train"
)

// Cell is one method at one size, over seeds.
type Cell struct {
	Seeds     []uint64  `json:"seeds"` // the seeds of PPLs, in order
	PPLs      []float64 `json:"perplexities"`
	MeanPPL   float64   `json:"mean_perplexity"`
	StdPPL    float64   `json:"std_perplexity"`
	Diverged  int       `json:"diverged"`
	Trainable int       `json:"trainable_params"`
	Total     int       `json:"total_params"`
	Tokens    int       `json:"training_tokens"`
	// FLOPs is a run's training compute by the FLOP model
	// (experiments.RunFLOPs): the same for every seed of the cell.
	FLOPs float64 `json:"training_flops"`
	// Evals holds the seeds' mean validation perplexity at each evaluated
	// step, and EvalPPLs each run's, a diverged run's included (Table 3
	// gives mean ± std).
	Evals    map[int]float64   `json:"evals"`
	EvalPPLs map[int][]float64 `json:"eval_perplexities"`
}

// Table holds Tables 2 and 3.
type Table struct {
	Preset  string                      `json:"preset"`
	Sizes   []experiments.Size          `json:"sizes"`
	Methods []string                    `json:"methods"`
	Cells   map[string]map[string]*Cell `json:"cells"` // method → size → cell
}

// Build assembles the tables from the runner's outcomes for Scaling(p).
func Build(p experiments.Preset, runs []experiments.Run, outs []runner.Outcome) (*Table, error) {
	ladder, err := experiments.Ladder(p)
	if err != nil {
		return nil, err
	}
	t := &Table{Preset: p.Name, Sizes: ladder, Cells: map[string]map[string]*Cell{}}
	for _, m := range experiments.ScalingMethods {
		t.Methods = append(t.Methods, m.Name)
		t.Cells[m.Name] = map[string]*Cell{}
	}
	for i, r := range runs {
		res := outs[i].Result
		if res == nil {
			return nil, fmt.Errorf("scaling: %s at %s seed %d has no result (%v)", r.Row, r.Size, r.Seed, outs[i].Err)
		}
		c := t.Cells[r.Row][r.Size]
		if c == nil {
			c = &Cell{Evals: map[int]float64{}, EvalPPLs: map[int][]float64{}}
			t.Cells[r.Row][r.Size] = c
		}
		if res.Status == train.StatusDiverged {
			c.Diverged++
		}
		if ppl := float64(res.FinalVal.Perplexity); !math.IsInf(ppl, 0) && !math.IsNaN(ppl) {
			c.PPLs, c.Seeds = append(c.PPLs, ppl), append(c.Seeds, r.Seed)
		}
		for _, ev := range res.Evals {
			c.EvalPPLs[ev.Step] = append(c.EvalPPLs[ev.Step], float64(ev.Perplexity))
		}
		c.Trainable, c.Total = res.TrainableParams, res.TotalParams
		c.Tokens = r.Config.Steps * r.Config.Batch * r.Config.Model.SeqLen
		if c.FLOPs, err = experiments.RunFLOPs(r.Config, r.Config.Steps); err != nil {
			return nil, fmt.Errorf("scaling: %s at %s: %w", r.Row, r.Size, err)
		}
	}
	for _, bySize := range t.Cells {
		for _, c := range bySize {
			c.MeanPPL, c.StdPPL = stats.Mean(c.PPLs), stats.Std(c.PPLs)
			for step, ppls := range c.EvalPPLs {
				c.Evals[step] = stats.Mean(ppls)
			}
		}
	}
	return t, nil
}

func (t *Table) cell(method, size string) *Cell { return t.Cells[method][size] }

// pairedDiffs is a's perplexity minus b's for every seed both cells have.
func pairedDiffs(a, b *Cell) []float64 {
	bySeed := map[uint64]float64{}
	for i, s := range b.Seeds {
		bySeed[s] = b.PPLs[i]
	}
	var d []float64
	for i, s := range a.Seeds {
		if pb, ok := bySeed[s]; ok {
			d = append(d, a.PPLs[i]-pb)
		}
	}
	return d
}
