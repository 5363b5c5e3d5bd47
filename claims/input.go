package claims

import (
	"github.com/relorago/harness/ablation"
	"github.com/relorago/harness/budget"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/finetune"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/scaling"
	"github.com/relorago/harness/spectra"
	"github.com/relorago/harness/successors"
	"github.com/relorago/harness/throughput"
	"github.com/relorago/harness/train"
	"github.com/relorago/harness/verdict"
)

// Input is what the family is measured on: the tables that exist (a nil
// table leaves its claims unmeasured) and what a run costs.
type Input struct {
	Preset     experiments.Preset
	Ablation   *ablation.Table
	Scaling    *scaling.Table
	Budget     *budget.Table
	Spectra    *spectra.Table
	Throughput *throughput.Table
	Finetune   *finetune.Table
	Successors *successors.Table
	// RunSeconds is the mean wall time of a finished run by its seedless
	// config's hash (SeedlessHash): what one more seed of it costs.
	RunSeconds map[string]float64
}

// SeedlessHash is a config's run hash with its seed cleared: the key of
// Input.RunSeconds, under which every seed of a run costs the same.
func SeedlessHash(c train.Config) string {
	c.Seed = 0
	return runner.Hash(c)
}

// AddRunTimes adds finished outcomes' wall times to RunSeconds (mean over
// seeds).
func (in *Input) AddRunTimes(outs []runner.Outcome) {
	if in.RunSeconds == nil {
		in.RunSeconds = map[string]float64{}
	}
	sum, n := map[string]float64{}, map[string]int{}
	for _, o := range outs {
		if o.Result != nil && o.Result.WallSeconds > 0 {
			k := SeedlessHash(o.Config)
			sum[k] += o.Result.WallSeconds
			n[k]++
		}
	}
	for k := range sum {
		in.RunSeconds[k] = sum[k] / float64(n[k])
	}
}

// part is one estimate a claim rests on, named by its comparison: the
// same comparison (Table 1's ReLoRA − LoRA+WS is Table 2's at the same
// size) has the same name wherever it is used, and the report lists it
// once.
type part struct {
	Comparison string
	Estimate   verdict.Estimate
	Detail     string // the compared values, e.g. "3.39 vs 3.41"
}

// measurement is what a claim's measure function finds.
type measurement struct {
	parts     []part
	forced    verdict.Verdict
	forcedWhy string
	evidence  string // the rest of the evidence: sensitivity analysis, unjudged parts
	missing   string // why nothing was measured (its table is not there)
	// runs are the runs behind the claim for the given seeds (nil when
	// more units cannot be trained, as for timing rounds).
	runs func(p experiments.Preset, seeds []uint64) ([]experiments.Run, error)
}

// Add puts a built table where the claims look for it; values of other
// types (a table no claim reads, or none) are ignored.
func (in *Input) Add(table any) {
	switch t := table.(type) {
	case *ablation.Table:
		in.Ablation = t
	case *scaling.Table:
		in.Scaling = t
	case *budget.Table:
		in.Budget = t
	case *spectra.Table:
		in.Spectra = t
	case *throughput.Table:
		in.Throughput = t
	case *finetune.Table:
		in.Finetune = t
	case *successors.Table:
		in.Successors = t
	}
}
