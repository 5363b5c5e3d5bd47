package experiments

import (
	"testing"

	"github.com/relorago/harness/relora"
)

// The equal-FLOP experiment gives every row full-rank's FLOPs: each row's
// steps fit the budget and one more would not; ReLoRA and LoRA+WS, whose
// steps after the warm start are cheaper, train more of them at the
// default preset's width, and the control more still.
func TestBudgetRowsSpendFullRanksFLOPs(t *testing.T) {
	for _, name := range []string{"default", "quick"} {
		p, _ := Get(name)
		spec, err := Budget(p)
		if err != nil {
			t.Fatal(err)
		}
		if name == "default" && (spec.Model.Dim != 128 || spec.Rank != 16 || spec.Model.Heads != 4 || spec.Model.FFN != 352) {
			t.Errorf("default budget shape %+v, rank %d: want d 128, 4 heads, ffn 352, r 16", spec.Model, spec.Rank)
		}
		if len(spec.Runs) != 4*len(p.Seeds) {
			t.Fatalf("%s: %d runs", name, len(spec.Runs))
		}
		for _, r := range spec.Runs {
			cfg := r.Config
			f, err := RunFLOPs(cfg, cfg.Steps)
			if err != nil {
				t.Fatal(err)
			}
			more, _ := RunFLOPs(cfg, cfg.Steps+1)
			if f > spec.Budget*(1+1e-9) || more <= spec.Budget {
				t.Errorf("%s %s: %d steps cost %.4g, %d cost %.4g, budget %.4g", name, r.Row, cfg.Steps, f, cfg.Steps+1, more, spec.Budget)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("%s %s: %v", name, r.Row, err)
			}
		}
		st := spec.Steps
		if st[RowBudgetFull] != p.Base.Steps || st[RowBudgetControl] <= st[RowBudgetReLoRA] || st[RowBudgetReLoRA] != st[RowBudgetLoRAWS] {
			t.Errorf("%s: steps %v", name, st)
		}
		if name == "default" && st[RowBudgetReLoRA] <= st[RowBudgetFull] {
			t.Errorf("default: ReLoRA gets %d steps, full-rank %d: its cheaper steps buy none", st[RowBudgetReLoRA], st[RowBudgetFull])
		}
	}
}

// The FLOP model per step: full-rank as model.Config.FLOPsPerStep, a
// ReLoRA step after the switch with frozen projections (what
// train.Stepper.FLOPs computes), merges extra, the control its own shape.
func TestCostsOfEachMethod(t *testing.T) {
	p, _ := Get("default")
	m, batch := p.Base.Model, p.Base.Batch
	relo := withMethod(p.Base, relora.MethodLoRA, true, true, true, true)
	c, err := CostsOf(relo)
	if err != nil {
		t.Fatal(err)
	}
	dense := relora.TrainableParams(m, 0)
	want := m.FLOPsPerStep(batch, m.NumParams()-dense, relora.TrainableParams(m, 8)-dense)
	if c.Full != m.FLOPsPerStep(batch, 0, 0) || c.LowRank != want || c.Switch != 600 || c.Merge <= 0 {
		t.Fatalf("ReLoRA costs %+v", c)
	}
	if c.Step(599, false) != c.Full || c.Step(600, false) != c.LowRank || c.Step(1200, true) != c.LowRank+c.Merge {
		t.Error("steps before the switch must cost full-rank's, after it the low-rank step's, merges extra")
	}
	total, _ := RunFLOPs(relo, 2400)
	if want := 600*c.Full + 1800*c.LowRank + 2*c.Merge; total != want { // merges after steps 1200 and 1800
		t.Errorf("run FLOPs %.6g, want %.6g", total, want)
	}
	control := withMethod(p.Base, relora.MethodControl, false, false, false, false)
	cc, err := CostsOf(control)
	if err != nil || cc.Full >= c.Full || cc.Switch != -1 {
		t.Errorf("control costs %+v (%v): want a smaller full-rank model", cc, err)
	}
}
