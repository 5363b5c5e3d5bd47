package train

import (
	"math"
	"path/filepath"
	"testing"
)

func lossCurve(f func(step int) float64, n int) []StepMetrics {
	ms := make([]StepMetrics, n)
	for i := range ms {
		ms[i] = StepMetrics{Step: i + 1, Loss: f(i + 1)}
	}
	return ms
}

// A falling loss with batch noise is stable; one that jumps to twice its
// level for 40 steps and recovers (what +R+O does at a merge, and lr 1.1
// at the start) is unstable at the jump; a one-batch spike is smoothed
// away.
func TestInstabilityRule(t *testing.T) {
	noise := func(step int) float64 { return 0.3 * math.Sin(float64(step)*1.7) }
	falling := func(step int) float64 { return 2 + 3*math.Exp(-float64(step)/100) + noise(step) }
	if in := InstabilityOf(lossCurve(falling, 600)); in.Unstable() {
		t.Errorf("falling loss flagged: %v", in)
	}
	jump := func(step int) float64 {
		if step > 400 && step <= 440 {
			return 2*falling(step) + 1
		}
		return falling(step)
	}
	in := InstabilityOf(lossCurve(jump, 600))
	if !in.Unstable() || in.Step <= 400 || in.Step > 440 {
		t.Errorf("jump at 400: %v, want unstable between steps 401 and 440", in)
	}
	spike := func(step int) float64 {
		if step == 300 {
			return 8
		}
		return falling(step)
	}
	if in := InstabilityOf(lossCurve(spike, 600)); in.Unstable() {
		t.Errorf("one-batch spike flagged: %v", in)
	}
	if in := InstabilityOf(lossCurve(falling, 10)); in.Ratio != 0 {
		t.Errorf("fewer steps than the window: %v", in)
	}
}

// A diverged run's metrics keep the step it blew up at.
func TestDivergedRunLogsTheBlowUpStep(t *testing.T) {
	cfg := nanoConfig(t, 60)
	cfg.LR = 1e3
	dir := t.TempDir()
	res := runIn(t, cfg, dir)
	if res.Status != StatusDiverged {
		t.Fatalf("lr 1e3: %q", res.Status)
	}
	ms, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	last := ms[len(ms)-1]
	if last.Event != EventDiverged || last.Step != res.Steps+1 {
		t.Fatalf("last metrics line %+v after %d steps, want the blow-up step %d marked %q (%s)", last, res.Steps, res.Steps+1, EventDiverged, res.DivergedReason)
	}
}
