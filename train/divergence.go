package train

import (
	"fmt"
	"math"
)

// blowUpFactor: a training loss this many times the untrained model's
// validation loss means the run blew up. An untrained byte model sits at
// ln 256 ≈ 5.5 nats; no healthy run comes near 3× that, while a run at a far
// too high learning rate jumps to thousands or millions before it collapses
// to a constant output (which would otherwise end at a plausible ln 256).
const blowUpFactor = 3

// divergenceRule is what the one divergence rule (diverged) needs to know
// of an objective.
type divergenceRule struct {
	// heldOut names the held-out set in the reasons: "validation" or "dev".
	heldOut string
	// scoresUntrained says the run measures the untrained model's held-out
	// loss (its first evaluation, at step 0). The blow-up and final-loss
	// checks compare against it, so they apply only when it exists.
	// Fine-tuning measures none: its first dev evaluation is after
	// eval_every steps, and adding one would change every fine-tuning
	// result.json. Nor does a stand-in fit: the task losses have no scale
	// like ln 256 (a regression head starts near 0.06 and healthy runs pass
	// 3.8; a binary probe at a high learning rate passes 3·ln 2 and
	// recovers), so a blow-up factor on them would stop healthy runs.
	scoresUntrained bool
	// untrained is that loss, once measured.
	untrained float64
}

// observation is what the loop asks the rule about: a training step that
// has just run, a held-out evaluation, or the end of the run.
type observation struct {
	kind       observed
	step       int     // optimizer steps done
	loss, norm float64 // afterStep: the step's training loss and gradient norm
	heldOut    float64 // afterEval: the held-out loss; atEnd: the final one
}

type observed int

const (
	afterStep observed = iota
	afterEval
	atEnd
)

// diverged says why a run has diverged, or "" if it has not. After a step: a
// loss or gradient norm that is not finite, a loss that blew up, or a
// gradient that vanished exactly (a network collapsed to a constant output);
// the run stops at once. After an evaluation: a held-out loss that is not
// finite. At the end: a final held-out loss above the untrained model's.
// Pre-training and fine-tuning ask the same questions; only the rule's
// inputs differ (divergenceRule).
func diverged(rule divergenceRule, o observation) string {
	switch o.kind {
	case afterStep:
		switch {
		case bad(o.loss) || bad(o.norm):
			return fmt.Sprintf("training loss %v, gradient norm %v at step %d", o.loss, o.norm, o.step)
		case rule.scoresUntrained && o.loss > blowUpFactor*rule.untrained:
			return fmt.Sprintf("training loss %.4g at step %d is over %d× the untrained model's validation loss %.4f: the run blew up",
				o.loss, o.step, blowUpFactor, rule.untrained)
		case o.norm == 0:
			return fmt.Sprintf("gradient norm is exactly 0 at step %d (training loss %.4f): the network has collapsed", o.step, o.loss)
		}
	case afterEval:
		if bad(o.heldOut) {
			return fmt.Sprintf("%s loss is %v at step %d", rule.heldOut, o.heldOut, o.step)
		}
	case atEnd:
		if rule.scoresUntrained && o.heldOut > rule.untrained {
			return fmt.Sprintf("final %s loss %.4f is above the initial %.4f", rule.heldOut, o.heldOut, rule.untrained)
		}
	}
	return ""
}

// bad reports a NaN or infinite value.
func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// finite reports whether every value is a finite number.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
