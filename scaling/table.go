// Package scaling builds the paper's Table 2 (full training, control, LoRA,
// LoRA with warm start and ReLoRA across model sizes) and Table 3 (the
// largest size at several checkpoints) from finished runs.
package scaling

import (
	"fmt"
	"math"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/stats"
	"github.com/relorago/harness/train"
)

// Cell is one method at one size, over seeds.
type Cell struct {
	PPLs      []float64 `json:"perplexities"`
	MeanPPL   float64   `json:"mean_perplexity"`
	StdPPL    float64   `json:"std_perplexity"`
	Diverged  int       `json:"diverged"`
	Trainable int       `json:"trainable_params"`
	Total     int       `json:"total_params"`
	Tokens    int       `json:"training_tokens"`
	// Evals holds the seeds' mean validation perplexity at each evaluated step.
	Evals map[int]float64 `json:"evals"`
}

// Table holds Tables 2 and 3.
type Table struct {
	Preset  string                      `json:"preset"`
	Sizes   []experiments.Size          `json:"sizes"`
	Methods []string                    `json:"methods"`
	Cells   map[string]map[string]*Cell `json:"cells"` // method → size → cell
	Claims  []report.Claim              `json:"claims"`
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
	evals := map[*Cell]map[int][]float64{}
	for i, r := range runs {
		res := outs[i].Result
		if res == nil {
			return nil, fmt.Errorf("scaling: %s at %s seed %d has no result (%v)", r.Row, r.Size, r.Seed, outs[i].Err)
		}
		c := t.Cells[r.Row][r.Size]
		if c == nil {
			c = &Cell{Evals: map[int]float64{}}
			t.Cells[r.Row][r.Size] = c
			evals[c] = map[int][]float64{}
		}
		if res.Status == train.StatusDiverged {
			c.Diverged++
		}
		if ppl := float64(res.FinalVal.Perplexity); !math.IsInf(ppl, 0) && !math.IsNaN(ppl) {
			c.PPLs = append(c.PPLs, ppl)
		}
		for _, ev := range res.Evals {
			evals[c][ev.Step] = append(evals[c][ev.Step], float64(ev.Perplexity))
		}
		c.Trainable, c.Total = res.TrainableParams, res.TotalParams
		c.Tokens = r.Config.Steps * r.Config.Batch * r.Config.Model.SeqLen
	}
	for c, byStep := range evals {
		c.MeanPPL, c.StdPPL = stats.Mean(c.PPLs), stats.Std(c.PPLs)
		for step, ppls := range byStep {
			c.Evals[step] = stats.Mean(ppls)
		}
	}
	t.Claims = t.claims()
	return t, nil
}

func (t *Table) cell(method, size string) *Cell { return t.Cells[method][size] }

func (t *Table) claims() []report.Claim {
	var claims []report.Claim
	beatsEverywhere := func(a, b string) {
		ok, n := true, 0
		var ev []string
		for _, s := range t.Sizes {
			ca, cb := t.cell(a, s.Name), t.cell(b, s.Name)
			if ca == nil || cb == nil {
				continue
			}
			n++
			if !(ca.MeanPPL < cb.MeanPPL) || ca.Diverged > 0 {
				ok = false
			}
			ev = append(ev, fmt.Sprintf("%s %.2f vs %.2f", s.Name, ca.MeanPPL, cb.MeanPPL))
		}
		if n > 0 {
			claims = append(claims, report.Claim{Statement: fmt.Sprintf("%s beats %s at every size", a, b), Reproduced: ok, Evidence: strings.Join(ev, "; ")})
		}
	}
	beatsEverywhere(experiments.RowScalingReLoRA, experiments.RowScalingControl)
	beatsEverywhere(experiments.RowScalingReLoRA, experiments.RowScalingLoRAWS)
	beatsEverywhere(experiments.RowScalingReLoRA, experiments.RowScalingLoRA)

	// The gap between ReLoRA and full training shrinks as the model grows.
	var gaps []float64
	var ev []string
	for _, s := range t.Sizes {
		r, f := t.cell(experiments.RowScalingReLoRA, s.Name), t.cell(experiments.RowScalingFull, s.Name)
		if r == nil || f == nil {
			continue
		}
		gaps = append(gaps, r.MeanPPL-f.MeanPPL)
		ev = append(ev, fmt.Sprintf("%s %+.2f", s.Name, r.MeanPPL-f.MeanPPL))
	}
	if len(gaps) >= 2 {
		shrinks := true
		for i := 1; i < len(gaps); i++ {
			if gaps[i] > gaps[i-1] {
				shrinks = false
			}
		}
		claims = append(claims, report.Claim{Statement: "The gap between ReLoRA and full training shrinks with size",
			Reproduced: shrinks, Evidence: "ReLoRA − full perplexity: " + strings.Join(ev, "; ")})
	}
	return claims
}
