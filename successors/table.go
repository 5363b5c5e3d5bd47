// Package successors builds the table that sets ReLoRA beside the methods
// published after it (GaLore, plain low-rank) and full training: each
// method's learning-rate search, then the methods across model sizes at
// their chosen rates, with what each trains and keeps in optimizer state.
package successors

import (
	"fmt"
	"math"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/stats"
	"github.com/relorago/harness/train"
)

// Search is one method's learning-rate search.
type Search struct {
	Points   []experiments.LRLoss `json:"points"` // ascending rate
	Chosen   float64              `json:"chosen_lr"`
	Interior bool                 `json:"interior"` // a searched rate lies either side of the chosen one
}

// Cell is one method at one size, over seeds.
type Cell struct {
	Seeds     []uint64  `json:"seeds"`
	PPLs      []float64 `json:"perplexities"`
	MeanPPL   float64   `json:"mean_perplexity"`
	StdPPL    float64   `json:"std_perplexity"`
	Diverged  int       `json:"diverged"`
	Trainable int       `json:"trainable_params"`
	Total     int       `json:"total_params"`
	// OptimizerFloats are the floats the run's AdamW held at its end (both
	// moments): GaLore's live in the projected space.
	OptimizerFloats int `json:"optimizer_floats"`
	// StepMillis is the mean training time per step over the seeds, the
	// GaLore runs' subspace recomputations included (the runs shared the
	// machine with one other run: compare within the table only).
	StepMillis float64 `json:"step_millis"`
}

// Table is the successors table.
type Table struct {
	Preset     string                      `json:"preset"`
	Sizes      []experiments.Size          `json:"sizes"`
	SearchSize string                      `json:"search_size"`
	Methods    []string                    `json:"methods"`
	Searches   map[string]*Search          `json:"searches"`
	Cells      map[string]map[string]*Cell `json:"cells"` // method → size → cell
	// Memory is measured by probes, not read from the runs (whose
	// processes trained two runs at once).
	Memory []MemoryRow `json:"memory,omitempty"`
}

// Build assembles the table from the searches' and the ladder's runs and
// their outcomes.
func Build(s experiments.SuccessorsSpec, search []experiments.Run, searchOuts []runner.Outcome,
	ladder []experiments.Run, ladderOuts []runner.Outcome) (*Table, error) {
	if len(search) != len(searchOuts) || len(ladder) != len(ladderOuts) {
		return nil, fmt.Errorf("successors: %d search runs with %d outcomes, %d ladder runs with %d outcomes",
			len(search), len(searchOuts), len(ladder), len(ladderOuts))
	}
	t := &Table{Preset: s.Preset.Name, Sizes: s.Sizes, SearchSize: s.SearchSize.Name,
		Searches: map[string]*Search{}, Cells: map[string]map[string]*Cell{}}
	for _, m := range experiments.SuccessorMethods {
		t.Methods = append(t.Methods, m.Name)
		t.Cells[m.Name] = map[string]*Cell{}
	}
	for m, pts := range Points(search, searchOuts) {
		best, interior := experiments.Best(pts)
		t.Searches[m] = &Search{Points: pts, Chosen: best.LR, Interior: interior}
	}
	for i, r := range ladder {
		if err := t.add(r, ladderOuts[i]); err != nil {
			return nil, err
		}
	}
	for _, bySize := range t.Cells {
		for _, c := range bySize {
			c.MeanPPL, c.StdPPL = stats.Mean(c.PPLs), stats.Std(c.PPLs)
		}
	}
	return t, nil
}

func (t *Table) add(r experiments.Run, o runner.Outcome) error {
	res := o.Result
	if res == nil {
		return fmt.Errorf("successors: %s at %s seed %d has no result (%v)", r.Row, r.Size, r.Seed, o.Err)
	}
	c := t.Cells[r.Row][r.Size]
	if c == nil {
		c = &Cell{}
		t.Cells[r.Row][r.Size] = c
	}
	if res.Status == train.StatusDiverged {
		c.Diverged++
	}
	if ppl := float64(res.FinalVal.Perplexity); !math.IsInf(ppl, 0) && !math.IsNaN(ppl) && res.Status == train.StatusOK {
		c.PPLs, c.Seeds = append(c.PPLs, ppl), append(c.Seeds, r.Seed)
	}
	c.Trainable, c.Total, c.OptimizerFloats = res.TrainableParams, res.TotalParams, res.OptimizerFloats
	if res.Steps > 0 {
		n := float64(len(c.PPLs) + c.Diverged)
		c.StepMillis += (1000*res.TrainSeconds/float64(res.Steps) - c.StepMillis) / n // running mean
	}
	return nil
}

// Points are the searches' (rate, final validation loss) by method,
// ascending in rate; a diverged or unfinished run counts as +Inf.
func Points(search []experiments.Run, outs []runner.Outcome) map[string][]experiments.LRLoss {
	out := map[string][]experiments.LRLoss{}
	for i, r := range search {
		res := outs[i].Result
		if res == nil {
			continue
		}
		loss := float64(res.FinalVal.Loss)
		if res.Status != train.StatusOK || math.IsNaN(loss) {
			loss = math.Inf(1)
		}
		out[r.Row] = append(out[r.Row], experiments.LRLoss{LR: rateOf(r), Loss: loss})
	}
	for _, pts := range out {
		slices.SortFunc(pts, func(a, b experiments.LRLoss) int {
			if a.LR < b.LR {
				return -1
			}
			if a.LR > b.LR {
				return 1
			}
			return 0
		})
	}
	return out
}

// rateOf is the searched rate of a run: ReLoRA's low-rank phase's, the
// run's own for every other method.
func rateOf(r experiments.Run) float64 {
	if r.Row == experiments.RowScalingReLoRA {
		return r.Config.ReLoRA.LR
	}
	return r.Config.LR
}

func (t *Table) cell(method, size string) *Cell { return t.Cells[method][size] }

// Chosen maps each method to its chosen rate.
func (t *Table) Chosen() map[string]float64 {
	out := map[string]float64{}
	for m, s := range t.Searches {
		out[m] = s.Chosen
	}
	return out
}
