package relora_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/relorago/harness/relora"
)

// The learning rate of every Table 1 row, from the closed-form formula
// (written here, not taken from the code): a run of steps = 100, warmup 10,
// cosine to min_lr_ratio 0.1, full-rank peak 1e-3; the low-rank phase has
// peak 2e-3, warm start 30 steps (WS rows), restarts every 20 steps counted
// from the switch, re-warms of 5 steps.
//
//	cosine(p)    = 0.1 + 0.9·½·(1 + cos πp),   p = (step − 10)/90
//	multiplier   = step/10                                   step < 10 (first warmup)
//	             = (step − R)/5 · cosine((R + 5 − 10)/90)     R ≤ step < R + 5, R a re-warm start
//	             = cosine((step − 10)/90)                     otherwise
//	peak         = 1e-3 before the switch (full rank, and WS rows before step 30),
//	               2e-3 from the switch on (LoRA rows without WS: from step 0)
//	re-warm starts: the switch (WS rows) and, with J, every merge step.
//	merge steps:    WS + 20k < 100, k ≥ 1 (rows with R).
const (
	wSteps, wWarmup, wRewarm = 100, 10, 5
	wMinRatio                = 0.1
	wFullLR, wLoRALR         = 1e-3, 2e-3
	wWarmStart, wResetEvery  = 30, 20
)

func wCosine(p float64) float64 { return wMinRatio + (1-wMinRatio)*0.5*(1+math.Cos(math.Pi*p)) }

// row is a Table 1 row as experiments/ablation.go configures it (see
// withMethod there): method and switches; unused low-rank fields zeroed for
// full rank.
type wRow struct {
	name       string
	full       bool
	r, o, j    bool
	ws         bool
	merges     []int // hand-written
	rewarms    []int // hand-written re-warm starts
	switchStep int   // first step at the LoRA peak
}

var wRows = []wRow{
	{name: "Full-rank", full: true, switchStep: wSteps}, // never
	{name: "LoRA", switchStep: 0},
	{name: "+R", r: true, merges: []int{20, 40, 60, 80}, switchStep: 0},
	{name: "+R+O", r: true, o: true, merges: []int{20, 40, 60, 80}, switchStep: 0},
	{name: "+R+J", r: true, j: true, merges: []int{20, 40, 60, 80}, rewarms: []int{20, 40, 60, 80}, switchStep: 0},
	{name: "+R+O+J", r: true, o: true, j: true, merges: []int{20, 40, 60, 80}, rewarms: []int{20, 40, 60, 80}, switchStep: 0},
	{name: "LoRA+WS", ws: true, rewarms: []int{30}, switchStep: 30},
	{name: "ReLoRA (R+O+J+WS)", r: true, o: true, j: true, ws: true, merges: []int{50, 70, 90}, rewarms: []int{30, 50, 70, 90}, switchStep: 30},
}

func (w wRow) config() relora.Config {
	if w.full {
		return relora.Config{Method: relora.MethodFull}
	}
	c := relora.Config{Method: relora.MethodLoRA, Rank: 4, Alpha: 4, LR: wLoRALR,
		Restarts: w.r, OptimizerReset: w.o, Jagged: w.j,
		ResetEvery: wResetEvery, RestartWarmup: wRewarm, PruneMode: relora.PruneRandom, PruneRatio: 0.999}
	if w.ws {
		c.WarmStartSteps = wWarmStart
	}
	return c
}

// expectedLR is the formula above.
func (w wRow) expectedLR(step int) float64 {
	peak := wFullLR
	if !w.full && step >= w.switchStep {
		peak = wLoRALR
	}
	if step < wWarmup {
		return peak * float64(step) / wWarmup
	}
	for _, r := range w.rewarms {
		if r <= step && step < r+wRewarm {
			return peak * float64(step-r) / wRewarm * wCosine(float64(r+wRewarm-wWarmup)/(wSteps-wWarmup))
		}
	}
	return peak * wCosine(float64(step-wWarmup)/(wSteps-wWarmup))
}

func lrOf(c relora.Config, step int) float64 {
	s := c.Schedule(wSteps, wWarmup, wMinRatio)
	return c.PeakLR(step, wFullLR) * s.Multiplier(step)
}

func TestMergeStepsByHand(t *testing.T) {
	for _, w := range wRows {
		c := w.config()
		if err := c.Validate(wSteps); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if got := c.MergeSteps(wSteps); !slices.Equal(got, w.merges) {
			t.Errorf("%s: merge steps %v, want %v", w.name, got, w.merges)
		}
	}
	// Edge cases: a merge step must be < steps; the first one is a full
	// period after the switch.
	for _, tc := range []struct {
		ws, every, steps int
		want             []int
	}{
		{0, 25, 100, []int{25, 50, 75}},      // 100 is not a step of a 100-step run
		{0, 25, 101, []int{25, 50, 75, 100}}, // … of a 101-step run it is
		{10, 30, 100, []int{40, 70}},
		{50, 60, 100, nil}, // the first would be at 110
		{0, 1, 4, []int{1, 2, 3}},
	} {
		c := relora.Config{Method: relora.MethodLoRA, Rank: 1, Alpha: 1, LR: 1, Restarts: true, WarmStartSteps: tc.ws, ResetEvery: tc.every, RestartWarmup: 1}
		if got := c.MergeSteps(tc.steps); !slices.Equal(got, tc.want) {
			t.Errorf("warm start %d, every %d, %d steps: merges %v, want %v", tc.ws, tc.every, tc.steps, got, tc.want)
		}
	}
}

func TestLRScheduleOfEveryRow(t *testing.T) {
	for _, w := range wRows {
		c := w.config()
		s := c.Schedule(wSteps, wWarmup, wMinRatio)
		if err := s.Validate(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if !slices.Equal(s.Restarts, w.rewarms) {
			t.Errorf("%s: schedule re-warms at %v, want %v", w.name, s.Restarts, w.rewarms)
		}
		// Every step against the formula.
		for step := 0; step < wSteps; step++ {
			got, want := lrOf(c, step), w.expectedLR(step)
			if math.Abs(got-want) > 1e-12*wLoRALR {
				t.Errorf("%s step %d: lr %.9g, want %.9g", w.name, step, got, want)
			}
		}
	}
}

// Spot values written out, so that a mistake shared by the formula above
// and the code cannot hide: the first warmup, the peak, the last step
// before the switch (full-rank peak), the switch (0, then the LoRA peak
// re-warming), a restart and its re-warm, the end.
func TestLRSpotValues(t *testing.T) {
	c19 := wCosine(19.0 / 90) // step 29, the last full-rank step of a WS row
	c25 := wCosine(25.0 / 90) // target of the re-warm at 30 (ends at 35)
	c45 := 0.55               // cos(π/2) = 0: target of the re-warm at 50 (ends at 55, p = 45/90)
	c89 := wCosine(89.0 / 90) // the last step
	byName := map[string]relora.Config{}
	for _, w := range wRows {
		byName[w.name] = w.config()
	}
	for _, tc := range []struct {
		row  string
		step int
		want float64
	}{
		{"Full-rank", 0, 0},
		{"Full-rank", 1, 1e-3 * 0.1},
		{"Full-rank", 5, 1e-3 * 0.5},
		{"Full-rank", 10, 1e-3}, // the peak
		{"Full-rank", 29, 1e-3 * c19},
		{"Full-rank", 30, 1e-3 * wCosine(20.0/90)}, // no switch: the cosine at p = 20/90
		{"Full-rank", 55, 1e-3 * c45},
		{"Full-rank", 99, 1e-3 * c89},
		{"LoRA", 5, 2e-3 * 0.5}, // the LoRA peak from step 0
		{"LoRA", 10, 2e-3},
		{"LoRA", 50, 2e-3 * wCosine(40.0/90)},
		{"LoRA", 99, 2e-3 * c89},
		{"LoRA+WS", 29, 1e-3 * c19}, // full-rank peak before the switch
		{"LoRA+WS", 30, 0},          // the switch re-warms from 0
		{"LoRA+WS", 31, 2e-3 * c25 / 5},
		{"LoRA+WS", 34, 2e-3 * c25 * 4 / 5},
		{"LoRA+WS", 35, 2e-3 * c25}, // continuous with the cosine
		{"LoRA+WS", 50, 2e-3 * wCosine(40.0/90)},
		{"+R", 20, 2e-3 * wCosine(10.0/90)}, // R without J: no re-warm
		{"+R+J", 19, 2e-3 * wCosine(9.0/90)},
		{"+R+J", 20, 0},
		{"+R+J", 22, 2e-3 * wCosine(15.0/90) * 2 / 5},
		{"+R+J", 25, 2e-3 * wCosine(15.0/90)},
		{"+R+O+J", 40, 0},
		{"+R+O+J", 43, 2e-3 * wCosine(35.0/90) * 3 / 5},
		{"+R+O+J", 99, 2e-3 * c89},
		{"ReLoRA (R+O+J+WS)", 9, 1e-3 * 0.9},
		{"ReLoRA (R+O+J+WS)", 29, 1e-3 * c19},
		{"ReLoRA (R+O+J+WS)", 30, 0},
		{"ReLoRA (R+O+J+WS)", 33, 2e-3 * c25 * 3 / 5},
		{"ReLoRA (R+O+J+WS)", 49, 2e-3 * wCosine(39.0/90)},
		{"ReLoRA (R+O+J+WS)", 50, 0},
		{"ReLoRA (R+O+J+WS)", 52, 2e-3 * c45 * 2 / 5}, // = 4.4e-4
		{"ReLoRA (R+O+J+WS)", 55, 2e-3 * c45},
		{"ReLoRA (R+O+J+WS)", 90, 0},
		{"ReLoRA (R+O+J+WS)", 94, 2e-3 * wCosine(85.0/90) * 4 / 5},
		{"ReLoRA (R+O+J+WS)", 99, 2e-3 * c89},
	} {
		if got := lrOf(byName[tc.row], tc.step); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s step %d: lr %.12g, want %.12g", tc.row, tc.step, got, tc.want)
		}
	}
	if got := lrOf(byName["ReLoRA (R+O+J+WS)"], 52); math.Abs(got-4.4e-4) > 1e-15 {
		t.Errorf("ReLoRA step 52: lr %.12g, want 4.4e-4", got)
	}
	// The cosine ends at min_lr_ratio: one step past the last, p = 1.
	s := byName["ReLoRA (R+O+J+WS)"].Schedule(wSteps, wWarmup, wMinRatio)
	if got := s.Multiplier(wSteps); math.Abs(got-wMinRatio) > 1e-15 {
		t.Errorf("multiplier at p = 1: %.15g, want min_lr_ratio %g", got, wMinRatio)
	}
	if m := s.Multiplier(wSteps - 1); !(m > wMinRatio && m < wMinRatio+1e-3) {
		t.Errorf("last step's multiplier %.6g, want just above min_lr_ratio %g", m, wMinRatio)
	}
}

func ExampleConfig_MergeSteps() {
	c := relora.Config{Method: relora.MethodLoRA, Restarts: true, WarmStartSteps: 600, ResetEvery: 600}
	fmt.Println(c.MergeSteps(2400))
	// Output: [1200 1800]
}
