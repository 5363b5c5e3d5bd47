package claims

import (
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/verdict"
)

// The family is declared data: each claim has a unique ID, a test that
// says what it asserts, a source the report has a section for, and a
// measure.
func TestFamilyIsWellFormed(t *testing.T) {
	sources := map[string]bool{"Table 1": true, "Table 2": true, "Table 4": true, "Loss against compute": true, "Fig. 5": true, "Table 5": true, "GaLore Table 2": true}
	seen := map[string]bool{}
	for _, c := range Family {
		if seen[c.ID] {
			t.Errorf("claim ID %q twice", c.ID)
		}
		seen[c.ID] = true
		if !sources[c.Source] || c.Paper == "" || c.Statement == "" || c.Quantity == "" || c.measure == nil {
			t.Errorf("claim %s is incomplete: %+v", c.ID, c)
		}
		switch c.Test.Kind {
		case verdict.Equivalence:
			if c.Test.Margin <= 0 {
				t.Errorf("claim %s: an equivalence test needs a margin", c.ID)
			}
		case verdict.Superiority, verdict.NonInferiority:
			if c.Test.Want != verdict.Below && c.Test.Want != verdict.Above {
				t.Errorf("claim %s: no side", c.ID)
			}
		default:
			t.Errorf("claim %s: unknown test %q", c.ID, c.Test.Kind)
		}
	}
}

// Without tables every claim is unmeasured and undecided, and still
// counts in the family (Holm's m is the declared family's size).
func TestUnmeasuredClaimsStayInTheFamily(t *testing.T) {
	p, _ := experiments.Get("default")
	j := Judge(&Input{Preset: p})
	if len(j.Results) != len(Family) {
		t.Fatalf("%d results for %d claims", len(j.Results), len(Family))
	}
	for _, r := range j.Results {
		if r.Missing == "" || r.Outcome.Verdict != verdict.Inconclusive || r.Outcome.PAdjusted != 1 {
			t.Errorf("%s: %+v missing %q", r.ID, r.Outcome, r.Missing)
		}
	}
	if h := j.Heading(); !strings.Contains(h, "of 22, 0 reproduced") {
		t.Errorf("heading %q", h)
	}
}

// Table 1's model is a rung of Table 2's ladder: its comparisons must
// carry that rung's name, so that a comparison both tables make is one.
func TestTable1IsALadderRung(t *testing.T) {
	p, _ := experiments.Get("default")
	if got := table1Size(p); got != "0.2M" {
		t.Errorf("Table 1's model is the ladder's %q, want 0.2M", got)
	}
	if pplComparison(rowReLoRA, rowLoRAWS, "0.2M") != pplComparison(scalingReLoRA, scalingLoRAWS, "0.2M") {
		t.Error("Table 1's and Table 2's ReLoRA − LoRA+WS are named differently")
	}
}
