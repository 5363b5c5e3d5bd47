package train

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/relorago/harness/relora"
)

func reloraConfig(t *testing.T, steps int) Config {
	cfg := nanoConfig(t, steps)
	cfg.ReLoRA.Method = relora.MethodLoRA
	cfg.ReLoRA.Rank, cfg.ReLoRA.Alpha, cfg.ReLoRA.LR = 4, 4, 6e-3
	cfg.ReLoRA.Restarts, cfg.ReLoRA.OptimizerReset, cfg.ReLoRA.Jagged = true, true, true
	cfg.ReLoRA.WarmStartSteps, cfg.ReLoRA.ResetEvery, cfg.ReLoRA.RestartWarmup = 10, 10, 3
	return cfg
}

// startRun builds a run and trains it up to stopAfter steps, keeping its
// state for inspection.
func startRun(t *testing.T, cfg Config, stopAfter int) *run {
	t.Helper()
	cfg.stopAfter = stopAfter
	r, err := newRun(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close)
	if err := r.resume(); err != nil {
		t.Fatal(err)
	}
	if err := r.loop(); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFrozenWeightsHaveNoGradientAndNoOptimizerState(t *testing.T) {
	cfg := reloraConfig(t, 30)
	r := startRun(t, cfg, 15) // past the switch at 10
	loras := relora.LoRAs(r.m)
	if len(loras) != 7*r.m.Config.Layers {
		t.Fatalf("%d LoRA linears, want %d", len(loras), 7*r.m.Config.Layers)
	}
	for _, p := range r.m.Params() {
		frozen := !p.RequiresGrad()
		if frozen != (filepath.Ext(p.Name) == ".weight") {
			t.Errorf("%s: frozen = %v", p.Name, frozen)
		}
		if frozen && (p.HasGrad() || r.opt.States[p.Name] != nil) {
			t.Errorf("%s is frozen but has a gradient (%v) or optimizer state (%v)", p.Name, p.HasGrad(), r.opt.States[p.Name] != nil)
		}
	}
	_, trainable := r.m.Count()
	if r.opt.Floats() != 2*trainable {
		t.Errorf("optimizer holds %d floats, want 2 × %d trainable", r.opt.Floats(), trainable)
	}
}

// Between merges W is frozen; a merge changes it; after it B is zero.
func TestWeightsChangeOnlyAtMerges(t *testing.T) {
	cfg := reloraConfig(t, 40)
	r := startRun(t, cfg, 12) // switch at step 10 (0-based), next merge after step 20
	l := relora.LoRAs(r.m)[0]
	w0 := append([]float32(nil), l.W.Raw()...)
	if err := r.continueTo(20); err != nil { // up to just before the restart step
		t.Fatal(err)
	}
	if !equal(w0, l.W.Raw()) {
		t.Fatal("W changed between merges")
	}
	if allZero(l.B.Raw()) {
		t.Fatal("B did not train")
	}
	if err := r.continueTo(21); err != nil { // step index 20: the restart step, then the merge
		t.Fatal(err)
	}
	if equal(w0, l.W.Raw()) || !allZero(l.B.Raw()) || r.merges != 1 {
		t.Fatalf("after the merge step: W changed %v, B zero %v, merges %d", !equal(w0, l.W.Raw()), allZero(l.B.Raw()), r.merges)
	}
}

// continueTo continues r's loop until stopAfter steps are done.
func (r *run) continueTo(stopAfter int) error {
	r.start = r.res.Steps
	r.cfg.stopAfter = stopAfter
	return r.loop()
}

func TestOptimizerResetPrunesOnlyLoRAMomentsAndKeepsStep(t *testing.T) {
	cfg := reloraConfig(t, 40)
	// Rank 15 (the largest below d/2) gives enough moment values for the
	// binomial bound below to be tighter than 1e-3: zeroing every value
	// (fraction 1) fails it.
	cfg.ReLoRA.Rank, cfg.ReLoRA.Alpha = 15, 15
	r := startRun(t, cfg, 15)
	before := map[string]AdamState{}
	for name, s := range r.opt.States {
		before[name] = AdamState{M: append([]float32(nil), s.M...), V: append([]float32(nil), s.V...), Step: s.Step}
	}
	reset := r.pruneOptimizer(15)
	// Random pruning at 0.999 over the n LoRA moment values of each of M and
	// V (rank 15, per layer 15·(4·(32+32) + 2·(32+88) + (88+32)) = 9240, 2
	// layers): each zeroed fraction is Binomial(n, 0.999)/n, within 5σ =
	// 5·√(0.999·0.001/n) ≈ 1.2e-3 of 0.999, and their mean (2n independent
	// draws) within 5σ/√2 ≈ 8.2e-4, which excludes 1.
	n := 0
	for name, s := range r.opt.States {
		if relora.IsLoRAParam(name) {
			n += len(s.M)
		}
	}
	if n != 18480 {
		t.Fatalf("%d LoRA moment values, want 18480", n)
	}
	sigma := math.Sqrt(0.999 * 0.001 / float64(n))
	if math.Abs(reset.ZeroedM-0.999) > 5*sigma || math.Abs(reset.ZeroedV-0.999) > 5*sigma {
		t.Errorf("zeroed M %.5f, V %.5f, want 0.999 ± %.2g", reset.ZeroedM, reset.ZeroedV, 5*sigma)
	}
	if mean := (reset.ZeroedM + reset.ZeroedV) / 2; math.Abs(mean-0.999) > 5*sigma/math.Sqrt2 {
		t.Errorf("zeroed M and V together %.5f, want 0.999 ± %.2g", mean, 5*sigma/math.Sqrt2)
	}
	if reset.Step != 15 {
		t.Errorf("reset recorded at step %d, want 15", reset.Step)
	}
	for name, s := range r.opt.States {
		b := before[name]
		if s.Step != b.Step {
			t.Errorf("%s: step counter %d → %d", name, b.Step, s.Step)
		}
		if !relora.IsLoRAParam(name) && (!equal(b.M, s.M) || !equal(b.V, s.V)) {
			t.Errorf("%s is not a LoRA factor but its moments changed", name)
		}
		if relora.IsLoRAParam(name) {
			for i := range s.M {
				if (s.M[i] != 0 && s.M[i] != b.M[i]) || (s.V[i] != 0 && s.V[i] != b.V[i]) {
					t.Fatalf("%s[%d]: a pruned moment is neither zero nor its old value", name, i)
				}
			}
		}
	}
}

// Starting the LoRA phase from a full-rank run's checkpoint gives the same
// run as training the warm start in place.
func TestWarmStartFromCheckpointMatchesInPlaceWarmStart(t *testing.T) {
	cfg := reloraConfig(t, 30)
	inPlace := t.TempDir()
	runIn(t, cfg, inPlace)

	full := nanoConfig(t, 30)
	full.SaveAt = []int{10}
	fullDir := t.TempDir()
	runIn(t, full, fullDir)

	from := cfg
	from.WarmStartFrom = filepath.Join(fullDir, KeptCheckpoint(10))
	fromDir := t.TempDir()
	runIn(t, from, fromDir)
	a, b := readFile(t, filepath.Join(inPlace, MetricsFile)), readFile(t, filepath.Join(fromDir, MetricsFile))
	if !bytes.Equal(a, b) {
		t.Fatalf("metrics differ:\n%s\n---\n%s", a, b)
	}
}

// Every row of the paper's Table 1 is a valid config that trains, merges and
// resets after the steps written here by hand (30 steps, warm start 10,
// restarts every 10 from the switch: after step index 20 with WS, 10 and
// 20 without; a reset is recorded at the step count after it, 21 or 11
// and 21), and trains the number of parameters worked out by hand for
// nano at rank 4: 21,472 for the LoRA rows (see relora's
// TestControlShapeAndCountByHand), 41,632 for full rank, and the control is
// the full-rank shape L 1, d 26, 1 head, ffn 72 with 21,710 parameters,
// within 1.2% of the LoRA rows' trainable count.
func TestAblationRowsTrain(t *testing.T) {
	const loraTrainable, fullParams, controlParams = 21472, 41632, 21710
	for _, row := range []struct {
		name        string
		r, o, j, ws bool
		method      string
		resets      []int // Reset.Step of each merge (with or without O)
		trainable   int
	}{
		{"lora", false, false, false, false, relora.MethodLoRA, nil, loraTrainable},
		{"R", true, false, false, false, relora.MethodLoRA, []int{11, 21}, loraTrainable},
		{"R+O", true, true, false, false, relora.MethodLoRA, []int{11, 21}, loraTrainable},
		{"R+J", true, false, true, false, relora.MethodLoRA, []int{11, 21}, loraTrainable},
		{"R+O+J", true, true, true, false, relora.MethodLoRA, []int{11, 21}, loraTrainable},
		{"WS", false, false, false, true, relora.MethodLoRA, nil, loraTrainable},
		{"ReLoRA", true, true, true, true, relora.MethodLoRA, []int{21}, loraTrainable},
		{"full", false, false, false, false, relora.MethodFull, nil, fullParams},
		{"control", false, false, false, false, relora.MethodControl, nil, controlParams},
	} {
		t.Run(row.name, func(t *testing.T) {
			cfg := reloraConfig(t, 30)
			cfg.ReLoRA.Method = row.method
			cfg.ReLoRA.Restarts, cfg.ReLoRA.OptimizerReset, cfg.ReLoRA.Jagged = row.r, row.o, row.j
			if !row.ws {
				cfg.ReLoRA.WarmStartSteps = 0
			}
			res := runIn(t, cfg, t.TempDir())
			if res.Status != StatusOK {
				t.Fatalf("%s: %s", res.Status, res.DivergedReason)
			}
			if res.Merges != len(row.resets) {
				t.Errorf("merges %d, want %d", res.Merges, len(row.resets))
			}
			var got []int
			for _, r := range res.Resets {
				got = append(got, r.Step)
				if tol := 5 * math.Sqrt(0.999*0.001/4928); math.Abs(r.ZeroedM-0.999) > tol || math.Abs(r.ZeroedV-0.999) > tol {
					t.Errorf("reset at %d zeroed M %.5f, V %.5f, want 0.999 ± %.2g", r.Step, r.ZeroedM, r.ZeroedV, tol)
				}
			}
			if !row.o && len(got) != 0 {
				t.Errorf("optimizer resets at %v without O", got)
			}
			if row.o && !slices.Equal(got, row.resets) {
				t.Errorf("optimizer resets after steps %v, want %v", got, row.resets)
			}
			if res.TrainableParams != row.trainable {
				t.Errorf("%d trainable parameters, want %d", res.TrainableParams, row.trainable)
			}
			if row.method == relora.MethodControl {
				want := cfg.Model
				want.Layers, want.Dim, want.Heads, want.FFN = 1, 26, 1, 72
				if res.Model != want || res.TotalParams != controlParams {
					t.Errorf("control model %+v with %d params, want %+v with %d", res.Model, res.TotalParams, want, controlParams)
				}
				if rel := math.Abs(float64(res.TotalParams-loraTrainable)) / loraTrainable; rel > 0.012 {
					t.Errorf("control has %d params, %.2f%% off the LoRA rows' %d trainable", res.TotalParams, 100*rel, loraTrainable)
				}
			}
		})
	}
}

func equal(a, b []float32) bool { return bytes.Equal(f32bytes(a), f32bytes(b)) }

func f32bytes(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		u := math.Float32bits(v)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

func allZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}
