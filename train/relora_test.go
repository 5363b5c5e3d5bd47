package train

import (
	"bytes"
	"math"
	"path/filepath"
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
	r := startRun(t, cfg, 15)
	before := map[string]AdamState{}
	for name, s := range r.opt.States {
		before[name] = AdamState{M: append([]float32(nil), s.M...), V: append([]float32(nil), s.V...), Step: s.Step}
	}
	reset := r.pruneOptimizer(15)
	if math.Abs(reset.ZeroedM-0.999) > 0.01 || math.Abs(reset.ZeroedV-0.999) > 0.01 {
		t.Errorf("zeroed M %.4f, V %.4f, want 0.999 ± 0.01", reset.ZeroedM, reset.ZeroedV)
	}
	for name, s := range r.opt.States {
		b := before[name]
		if s.Step != b.Step {
			t.Errorf("%s: step counter %d → %d", name, b.Step, s.Step)
		}
		if !relora.IsLoRAParam(name) && (!equal(b.M, s.M) || !equal(b.V, s.V)) {
			t.Errorf("%s is not a LoRA factor but its moments changed", name)
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

// Every row of the paper's Table 1 is a valid config that trains.
func TestAblationRowsTrain(t *testing.T) {
	for _, row := range []struct {
		name        string
		r, o, j, ws bool
		method      string
	}{
		{"lora", false, false, false, false, relora.MethodLoRA},
		{"R", true, false, false, false, relora.MethodLoRA},
		{"R+O", true, true, false, false, relora.MethodLoRA},
		{"R+J", true, false, true, false, relora.MethodLoRA},
		{"R+O+J", true, true, true, false, relora.MethodLoRA},
		{"WS", false, false, false, true, relora.MethodLoRA},
		{"ReLoRA", true, true, true, true, relora.MethodLoRA},
		{"full", false, false, false, false, relora.MethodFull},
		{"control", false, false, false, false, relora.MethodControl},
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
			wantMerges := 0
			if row.r {
				wantMerges = len(cfg.ReLoRA.MergeSteps(cfg.Steps))
			}
			if res.Merges != wantMerges || (row.o && len(res.Resets) != wantMerges) {
				t.Errorf("merges %d, resets %d, want %d", res.Merges, len(res.Resets), wantMerges)
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
