// Package budget compares the methods at equal training compute: the
// validation loss of a run against the training FLOPs it has spent so far
// (the FLOP model of model.Config.FLOPsPerStep, step by step: a ReLoRA
// run's steps after the warm-start switch cost less, its merges a little),
// for Table 1's runs and for the equal-FLOP budget experiment
// (experiments.Budget), whose rows all get full-rank's FLOPs.
package budget

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// Curve is one run's validation loss against its cumulative training FLOPs.
type Curve struct {
	Row  string `json:"row"`
	Seed uint64 `json:"seed"`
	// Steps, FLOPs and ValLoss are per evaluation: step 0 (the untrained
	// model, 0 FLOPs), then every evaluation metrics.jsonl logs.
	Steps   []int     `json:"steps"`
	FLOPs   []float64 `json:"flops"`
	ValLoss []float64 `json:"val_loss"`
	// TotalFLOPs is what the run's logged steps cost (it ends there).
	TotalFLOPs float64 `json:"total_flops"`
	// Seconds is, per evaluation, the training time up to it: the run's
	// measured step time (result.json's train_seconds, evaluations left
	// out) spread over its steps in proportion to their FLOPs. Only the end
	// is measured; empty when the result has no time.
	Seconds  []float64 `json:"seconds,omitempty"`
	Diverged bool      `json:"diverged,omitempty"`
}

// CurveOf builds a run's curve from its config, its result (the initial
// evaluation) and its metrics.jsonl lines. A step costs what
// experiments.CostsOf says for its method; a logged merge event adds a
// merge's cost to its step.
func CurveOf(row string, seed uint64, cfg train.Config, res *train.Result, ms []train.StepMetrics) (Curve, error) {
	costs, err := experiments.CostsOf(cfg)
	if err != nil {
		return Curve{}, err
	}
	c := Curve{Row: row, Seed: seed}
	if res != nil {
		c.Steps, c.FLOPs, c.ValLoss = []int{0}, []float64{0}, []float64{float64(res.InitialVal.Loss)}
		c.Diverged = res.Status != train.StatusOK
	}
	total := 0.0
	for i, m := range ms {
		if m.Step != i+1 {
			return Curve{}, fmt.Errorf("budget: %s seed %d: metrics line %d is step %d", row, seed, i+1, m.Step)
		}
		total += costs.Step(m.Step-1, strings.HasPrefix(m.Event, "merge"))
		if m.ValLoss != nil {
			c.Steps = append(c.Steps, m.Step)
			c.FLOPs = append(c.FLOPs, total)
			c.ValLoss = append(c.ValLoss, *m.ValLoss)
		}
	}
	c.TotalFLOPs = total
	if res != nil && res.TrainSeconds > 0 && total > 0 {
		for _, f := range c.FLOPs {
			c.Seconds = append(c.Seconds, res.TrainSeconds*f/total)
		}
	}
	return c, nil
}

// Curves reads the runs' metrics.jsonl (in their outcomes' folders: the
// cache or the run records) and builds their curves, in runs' order.
func Curves(runs []experiments.Run, outs []runner.Outcome) ([]Curve, error) {
	if len(runs) != len(outs) {
		return nil, fmt.Errorf("budget: %d runs, %d outcomes", len(runs), len(outs))
	}
	var out []Curve
	for i, r := range runs {
		o := outs[i]
		if o.Err != nil || o.Result == nil {
			continue // failed: the tables say so; no curve
		}
		ms, err := train.ReadMetrics(filepath.Join(o.Dir, train.MetricsFile))
		if err != nil {
			return nil, fmt.Errorf("budget: %s seed %d: %w", r.Row, r.Seed, err)
		}
		c, err := CurveOf(r.Row, r.Seed, r.Config, o.Result, ms)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// At is the curve's validation loss after f training FLOPs, interpolated
// linearly between the evaluations around it; false beyond the curve.
func (c Curve) At(f float64) (float64, bool) {
	for i := 1; i < len(c.FLOPs); i++ {
		if f <= c.FLOPs[i] {
			lo, hi := c.FLOPs[i-1], c.FLOPs[i]
			if hi == lo {
				return c.ValLoss[i], true
			}
			w := (f - lo) / (hi - lo)
			return c.ValLoss[i-1] + w*(c.ValLoss[i]-c.ValLoss[i-1]), f >= c.FLOPs[0]
		}
	}
	return 0, false
}

// Final is the curve's last evaluation (the run's final validation loss).
func (c Curve) Final() float64 {
	if len(c.ValLoss) == 0 {
		return 0
	}
	return c.ValLoss[len(c.ValLoss)-1]
}
