package train

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/relorago/harness/relora"
)

// wholeRunConfig is a nano run of GaLore (rank 4, its subspace refreshed
// every 7 steps, so a 20-step run refreshes at steps 1, 8 and 15) or of the
// low-rank factorisation at rank 4.
func wholeRunConfig(t *testing.T, method string, steps int) Config {
	cfg := nanoConfig(t, steps)
	r := &cfg.ReLoRA
	r.Method, r.Rank = method, 4
	if method == relora.MethodGaLore {
		r.GaLoreRefreshEvery, r.GaLoreScale = 7, relora.DefaultGaLoreScale
	}
	return cfg
}

// Same config and seed, 1 or 2 threads: byte-identical metrics. Killed
// after step 13 (checkpoint at 10: GaLore's subspace of step 8 and its
// projected moments) and resumed: byte-identical metrics and the same
// final weights and optimizer state, projectors included.
func TestWholeRunMethodsReproduceAndResume(t *testing.T) {
	for _, method := range []string{relora.MethodGaLore, relora.MethodLowRank} {
		t.Run(method, func(t *testing.T) {
			cfg := wholeRunConfig(t, method, 20)
			cfg.CheckpointEvery = 10
			one, two, split := t.TempDir(), t.TempDir(), t.TempDir()
			res := runIn(t, cfg, one)
			if res.Status != StatusOK {
				t.Fatalf("%s: %s", res.Status, res.DivergedReason)
			}
			twoThreads := cfg
			twoThreads.Threads = 2
			runIn(t, twoThreads, two)
			cut := cfg
			cut.stopAfter = 13
			runIn(t, cut, split)
			runIn(t, cfg, split)
			whole := readFile(t, filepath.Join(one, MetricsFile))
			if !bytes.Equal(whole, readFile(t, filepath.Join(two, MetricsFile))) {
				t.Error("metrics differ between 1 and 2 threads")
			}
			if !bytes.Equal(whole, readFile(t, filepath.Join(split, MetricsFile))) {
				t.Error("resumed metrics differ from the uninterrupted run's")
			}
			a, err := LoadCheckpoint(filepath.Join(one, CheckpointFile))
			if err != nil {
				t.Fatal(err)
			}
			b, err := LoadCheckpoint(filepath.Join(split, CheckpointFile))
			if err != nil {
				t.Fatal(err)
			}
			projectors := 0
			for name, s := range a.Adam {
				o := b.Adam[name]
				if o == nil || !equal(s.M, o.M) || !equal(s.V, o.V) || s.Step != o.Step || (s.Proj == nil) != (o.Proj == nil) {
					t.Fatalf("%s: optimizer state differs after the resume", name)
				}
				if s.Proj != nil {
					projectors++
					if !equal(s.Proj.P, o.Proj.P) || s.Proj.Left != o.Proj.Left || s.Proj.Rows != o.Proj.Rows || s.Proj.Cols != o.Proj.Cols || s.Proj.Rank != o.Proj.Rank {
						t.Fatalf("%s: projector differs after the resume", name)
					}
				}
			}
			for name, v := range a.Params {
				if !equal(v, b.Params[name]) {
					t.Fatalf("%s differs after the resume", name)
				}
			}
			if want := 7 * cfg.Model.Layers; method == relora.MethodGaLore && projectors != want {
				t.Errorf("%d projectors in the checkpoint, want %d", projectors, want)
			}
		})
	}
}

// result.json's counts, by hand for nano (d 32, ffn 88, 2 layers, vocab
// 256) at rank 4. GaLore trains every weight; its optimizer holds AdamW's
// two moments of the embedding, head and norms (2·16,544) and, per layer,
// for q, k, v, o (32×32, left) P 32×4 and two 4×32 moments, for gate and
// up (88×32, right) Q 32×4 and two 88×4 moments, for down (32×88, left) P
// 32×4 and two 4×88 moments: 4·384 + 2·832 + 832 = 4,032 per layer, 41,152
// in all, against full-rank AdamW's 83,264. The factorisation trains (and
// has) LoRA's count, 21,472, with two moments each.
func TestWholeRunMethodsCountParamsAndOptimizerState(t *testing.T) {
	for _, tc := range []struct {
		method                      string
		total, trainable, optimizer int
	}{
		{relora.MethodGaLore, 41632, 41632, 2*16544 + 2*4032},
		{relora.MethodLowRank, 21472, 21472, 2 * 21472},
	} {
		res := runIn(t, wholeRunConfig(t, tc.method, 6), t.TempDir())
		if res.TotalParams != tc.total || res.TrainableParams != tc.trainable || res.OptimizerFloats != tc.optimizer {
			t.Errorf("%s: %d params, %d trainable, %d optimizer floats; want %d, %d, %d", tc.method,
				res.TotalParams, res.TrainableParams, res.OptimizerFloats, tc.total, tc.trainable, tc.optimizer)
		}
	}
}

// Both methods learn: 60 nano steps take the held-out loss well below the
// untrained ln 256 ≈ 5.55.
func TestWholeRunMethodsLearn(t *testing.T) {
	for _, method := range []string{relora.MethodGaLore, relora.MethodLowRank} {
		res := runIn(t, wholeRunConfig(t, method, 60), t.TempDir())
		t.Logf("%s: val loss %.3f → %.3f", method, res.InitialVal.Loss, res.FinalVal.Loss)
		if res.Status != StatusOK || res.FinalVal.Loss > res.InitialVal.Loss-1.5 {
			t.Errorf("%s: %s, val loss %.3f → %.3f: does not learn", method, res.Status, res.InitialVal.Loss, res.FinalVal.Loss)
		}
		if !slices.ContainsFunc(res.Evals, func(e Eval) bool { return e.Step == 60 }) {
			t.Errorf("%s: no evaluation at the last step", method)
		}
	}
}
