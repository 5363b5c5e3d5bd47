package train

import (
	"testing"

	"github.com/relorago/harness/relora"
)

// A LoRA config's stepper wraps what the config targets. On every
// projection its FLOP estimate is what it always was (every projection
// weight frozen, the factors trainable); on the attention ones only, the
// feed-forward weights stay trainable and are not counted frozen.
func TestMethodStepperWrapsTheTargets(t *testing.T) {
	cfg := reloraConfig(t, 10)
	m := cfg.Model
	d, f := m.Dim, m.FFN
	dense := relora.TrainableParams(m, 0)
	ffn := m.Layers * 3 * d * f
	for _, tc := range []struct {
		targets           string
		frozen, trainable int
	}{
		{relora.TargetsAll, m.NumParams() - dense, dense + relora.LoRAParams(m, 4, relora.TargetsAll)},
		{relora.TargetsAttention, m.Layers * 4 * d * d, dense + ffn + relora.LoRAParams(m, 4, relora.TargetsAttention)},
	} {
		cfg.ReLoRA.Targets = tc.targets
		s, err := NewMethodStepper(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		total, trainable, _ := s.Counts()
		if trainable != tc.trainable || total != m.NumParams()+relora.LoRAParams(m, 4, tc.targets) {
			t.Errorf("targets %q: %d of %d trainable, want %d", tc.targets, trainable, total, tc.trainable)
		}
		factors := relora.LoRAParams(m, 4, tc.targets)
		if got, want := s.FLOPs(), m.FLOPsPerStep(cfg.Batch, tc.frozen, factors); got != want {
			t.Errorf("targets %q: %g FLOPs, want %g", tc.targets, got, want)
		}
	}
}
