package train

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func nanoConfig(t *testing.T, steps int) Config {
	t.Helper()
	cfg, err := Default("nano")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Steps, cfg.Warmup, cfg.Batch, cfg.EvalEvery = steps, 5, 4, 10
	cfg.ValWindows, cfg.LR, cfg.Quiet = 64, 3e-3, true
	return cfg
}

func runIn(t *testing.T, cfg Config, dir string) *Result {
	t.Helper()
	cfg.OutDir = dir
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrainingLowersValidationLoss(t *testing.T) {
	res := runIn(t, nanoConfig(t, 60), t.TempDir())
	if res.Status != StatusOK {
		t.Fatalf("status %s: %s", res.Status, res.DivergedReason)
	}
	// Untrained byte model: ln 256 ≈ 5.55 nats; 60 steps must get well below.
	if math.Abs(res.InitialVal.Loss-math.Log(256)) > 0.1 {
		t.Errorf("initial val loss %.3f, want ≈ ln 256", res.InitialVal.Loss)
	}
	if res.FinalVal.Loss > res.InitialVal.Loss-1.5 {
		t.Errorf("val loss %.3f → %.3f: training does not learn", res.InitialVal.Loss, res.FinalVal.Loss)
	}
}

// Same config and seed → byte-identical metrics, whatever the thread count.
func TestRunsAreReproducible(t *testing.T) {
	cfg := nanoConfig(t, 15)
	a, b := t.TempDir(), t.TempDir()
	runIn(t, cfg, a)
	cfg.Threads = 2
	runIn(t, cfg, b)
	ma, mb := readFile(t, filepath.Join(a, MetricsFile)), readFile(t, filepath.Join(b, MetricsFile))
	if !bytes.Equal(ma, mb) {
		t.Fatalf("metrics differ between two runs of one config:\n%s\n---\n%s", ma, mb)
	}
}

// A run killed after a checkpoint and started again logs exactly what an
// uninterrupted run logs.
func TestResumeMatchesUninterruptedRun(t *testing.T) {
	cfg := nanoConfig(t, 20)
	cfg.CheckpointEvery = 10
	whole := t.TempDir()
	runIn(t, cfg, whole)

	split := t.TempDir()
	cut := cfg
	cut.stopAfter = 13 // dies after step 13: the checkpoint holds step 10
	runIn(t, cut, split)
	runIn(t, cfg, split)
	ma, mb := readFile(t, filepath.Join(whole, MetricsFile)), readFile(t, filepath.Join(split, MetricsFile))
	if !bytes.Equal(ma, mb) {
		t.Fatalf("resumed metrics differ from the uninterrupted run:\n%s\n---\n%s", ma, mb)
	}
}

// A diverged run is a result, and its reason names what happened: without
// clipping, lr 50 takes the loss from ln 256 to ~3e4 at step 2 (a blow-up,
// loss > 3× the untrained validation loss), lr 1e30 makes the step-2 loss
// NaN (not finite). Each must be reported as that reason, not another.
func TestDivergenceIsAResultNotAnError(t *testing.T) {
	for _, tc := range []struct {
		lr   float64
		want []string // substrings of the reason, in order
	}{
		{50, []string{"training loss ", " at step 2 is over 3× the untrained model's validation loss ", "the run blew up"}},
		{1e30, []string{"training loss NaN, gradient norm NaN at step 2"}},
	} {
		cfg := nanoConfig(t, 20)
		cfg.LR, cfg.GradClip, cfg.Warmup = tc.lr, 0, 0
		res := runIn(t, cfg, t.TempDir())
		if res.Status != StatusDiverged {
			t.Fatalf("lr %g without clipping: status %q (%q), want diverged", tc.lr, res.Status, res.DivergedReason)
		}
		rest := res.DivergedReason
		for _, w := range tc.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Fatalf("lr %g: diverged for the reason %q, want one containing %q", tc.lr, res.DivergedReason, strings.Join(tc.want, "…"))
			}
			rest = rest[i+len(w):]
		}
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	cfg := nanoConfig(t, 10)
	cfg.Warmup = 10
	if err := cfg.Validate(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("warmup")) {
		t.Fatalf("warmup = steps: got %v", err)
	}
	cfg = nanoConfig(t, 10)
	cfg.Model.Heads = 3
	if err := cfg.Validate(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("heads")) {
		t.Fatalf("dim 32 / heads 3: got %v", err)
	}
}
