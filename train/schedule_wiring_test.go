package train

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/relorago/harness/relora"
)

// The learning rate the training loop actually uses, read back from
// metrics.jsonl, against the closed-form schedule written here (not
// relora's code): 40 steps, warmup 5, cosine to 0.1, full-rank peak 3e-3,
// LoRA peak 6e-3, warm start 10, restarts every 10, re-warms of 3 steps.
//
//	cosine(p)  = 0.1 + 0.45·(1 + cos πp),   p = (step − 5)/35
//	multiplier = step/5 (step < 5);  (step − R)/3 · cosine((R + 3 − 5)/35) for R ≤ step < R + 3;
//	             cosine((step − 5)/35) otherwise
//	lr         = peak · multiplier, peak = 3e-3 before the switch, 6e-3 from it
//
// and the method events on the right lines (line n is 0-based step n − 1).
func TestLoopUsesTheScheduledLR(t *testing.T) {
	const steps, warmup, rewarm = 40, 5, 3
	const fullLR, loraLR = 3e-3, 6e-3
	cosine := func(p float64) float64 { return 0.1 + 0.45*(1+math.Cos(math.Pi*p)) }
	for _, row := range []struct {
		name       string
		method     string
		r, o, j    bool
		ws         int
		rewarms    []int
		switchStep int
		events     map[int]string // by 0-based step
	}{
		{"full", relora.MethodFull, false, false, false, 0, nil, steps, nil},
		{"LoRA+WS", relora.MethodLoRA, false, false, false, 10, []int{10}, 10, map[int]string{10: "switch"}},
		{"R+J", relora.MethodLoRA, true, false, true, 0, []int{10, 20, 30}, 0,
			map[int]string{0: "switch", 10: "merge", 20: "merge", 30: "merge"}},
		{"ReLoRA", relora.MethodLoRA, true, true, true, 10, []int{10, 20, 30}, 10,
			map[int]string{10: "switch", 20: "merge+reset", 30: "merge+reset"}},
	} {
		t.Run(row.name, func(t *testing.T) {
			cfg := nanoConfig(t, steps)
			cfg.Batch, cfg.ValWindows, cfg.EvalEvery = 1, 4, steps
			cfg.LR, cfg.Warmup, cfg.MinLRRatio = fullLR, warmup, 0.1
			m := &cfg.ReLoRA
			m.Method, m.Rank, m.Alpha, m.LR = row.method, 4, 4, loraLR
			m.Restarts, m.OptimizerReset, m.Jagged = row.r, row.o, row.j
			m.WarmStartSteps, m.ResetEvery, m.RestartWarmup = row.ws, 10, rewarm
			dir := t.TempDir()
			runIn(t, cfg, dir)

			f, err := os.Open(filepath.Join(dir, MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			n := 0
			for ; sc.Scan(); n++ {
				var line struct {
					Step  int     `json:"step"`
					LR    float64 `json:"lr"`
					Event string  `json:"event"`
				}
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
					t.Fatal(err)
				}
				step := line.Step - 1
				if step != n {
					t.Fatalf("line %d is for step %d", n+1, line.Step)
				}
				peak := fullLR
				if step >= row.switchStep {
					peak = loraLR
				}
				want := peak * cosine(float64(step-warmup)/(steps-warmup))
				if step < warmup {
					want = peak * float64(step) / warmup
				}
				for _, r := range row.rewarms {
					if r <= step && step < r+rewarm {
						want = peak * float64(step-r) / rewarm * cosine(float64(r+rewarm-warmup)/(steps-warmup))
					}
				}
				if math.Abs(line.LR-want) > 1e-15 {
					t.Errorf("step %d: lr %.12g, want %.12g", step, line.LR, want)
				}
				if line.Event != row.events[step] {
					t.Errorf("step %d: event %q, want %q", step, line.Event, row.events[step])
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if n != steps {
				t.Fatalf("%d lines in metrics.jsonl, want %d", n, steps)
			}
		})
	}
}
