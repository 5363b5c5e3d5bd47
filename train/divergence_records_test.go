package train

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
)

// The one divergence rule, replayed over every committed record's
// metrics.jsonl with its objective's inputs, gives the status the record
// holds: sharing the rule between pre-training and fine-tuning changed no
// committed result.
func TestDivergenceRuleKeepsEveryCommittedStatus(t *testing.T) {
	paths, err := filepath.Glob("../results/runs/*/" + ResultFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Skip("no committed run records")
	}
	kinds := map[string]int{}
	for _, path := range paths {
		dir := filepath.Dir(path)
		res, err := ReadResult(dir)
		if err != nil {
			t.Fatal(err)
		}
		var cfg Config
		if err := json.Unmarshal(readFile(t, filepath.Join(dir, ConfigFile)), &cfg); err != nil {
			t.Fatal(err)
		}
		rule := (&pretraining{}).divergence()
		kind := "pre-training"
		if cfg.Finetune != nil {
			rule, kind = (&finetuning{}).divergence(), "fine-tuning"
		}
		kinds[kind]++
		if rule.scoresUntrained {
			rule.untrained = res.InitialVal.Loss
		}
		ms, err := ReadMetrics(filepath.Join(dir, MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		status, reason := replayDivergence(rule, ms, res.FinalVal.Loss)
		if status != res.Status || reason != res.DivergedReason {
			t.Errorf("%s (%s): the rule says %s %q, the record %s %q", dir, kind, status, reason, res.Status, res.DivergedReason)
		}
	}
	if kinds["pre-training"] == 0 || kinds["fine-tuning"] == 0 {
		t.Errorf("records by kind %v: the test means to cover both", kinds)
	}
}

// replayDivergence asks the rule what the loop and finish ask it, in order.
func replayDivergence(rule divergenceRule, ms []StepMetrics, final float64) (status, reason string) {
	for _, m := range ms {
		if r := diverged(rule, observation{kind: afterStep, step: m.Step, loss: m.Loss, norm: m.GradNorm}); r != "" {
			return StatusDiverged, r
		}
		if m.ValLoss != nil {
			if r := diverged(rule, observation{kind: afterEval, step: m.Step, heldOut: *m.ValLoss}); r != "" {
				return StatusDiverged, r
			}
		}
	}
	if r := diverged(rule, observation{kind: atEnd, heldOut: final}); r != "" {
		return StatusDiverged, r
	}
	return StatusOK, ""
}

// The rule's checks, one by one, with pre-training's and fine-tuning's
// inputs: the blow-up and final-loss checks need the untrained model's
// loss, which only pre-training measures.
func TestDivergenceRule(t *testing.T) {
	pre := divergenceRule{heldOut: "validation", scoresUntrained: true, untrained: 5.5}
	ft := divergenceRule{heldOut: "dev"}
	step := func(loss, norm float64) observation {
		return observation{kind: afterStep, step: 7, loss: loss, norm: norm}
	}
	nan := math.NaN()
	for _, c := range []struct {
		name    string
		rule    divergenceRule
		o       observation
		diverge bool
	}{
		{"healthy step", pre, step(4, 0.5), false},
		{"NaN loss", pre, step(nan, 0.5), true},
		{"NaN loss, fine-tuning", ft, step(nan, 0.5), true},
		{"infinite norm, fine-tuning", ft, step(1, math.Inf(1)), true},
		{"blow-up", pre, step(16.6, 0.5), true},
		{"just under the blow-up", pre, step(16.4, 0.5), false},
		{"fine-tuning has no blow-up limit", ft, step(60, 0.5), false},
		{"collapsed", pre, step(5.5, 0), true},
		{"collapsed, fine-tuning", ft, step(0.7, 0), true},
		{"NaN held-out loss", ft, observation{kind: afterEval, step: 7, heldOut: nan}, true},
		{"finite held-out loss", pre, observation{kind: afterEval, step: 7, heldOut: 9}, false},
		{"final above the untrained", pre, observation{kind: atEnd, heldOut: 5.6}, true},
		{"final below the untrained", pre, observation{kind: atEnd, heldOut: 2}, false},
		{"fine-tuning has no untrained loss to compare", ft, observation{kind: atEnd, heldOut: 50}, false},
	} {
		if got := diverged(c.rule, c.o); (got != "") != c.diverge {
			t.Errorf("%s: diverged = %q, want diverged %v", c.name, got, c.diverge)
		}
	}
}
