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

// lossWindow is how many of the last steps' training losses make up
// final_train_loss.
const lossWindow = 50

// diverged says why the step that just ran ends the run, or "" if it does
// not: a loss or gradient norm that is not finite, a loss that blew up, or a
// gradient that vanished exactly (a network collapsed to a constant output).
// The run stops at once in each case; a final validation loss above the
// initial one is judged at the end (see finish).
func (r *run) diverged(step int, loss, norm float64) string {
	initial := r.res.Evals[0].Loss
	switch {
	case bad(loss) || bad(norm):
		return fmt.Sprintf("training loss %v, gradient norm %v at step %d", loss, norm, step+1)
	case loss > blowUpFactor*initial:
		return fmt.Sprintf("training loss %.4g at step %d is over %d× the untrained model's validation loss %.4f: the run blew up",
			loss, step+1, blowUpFactor, initial)
	case norm == 0:
		return fmt.Sprintf("gradient norm is exactly 0 at step %d (training loss %.4f): the network has collapsed", step+1, loss)
	}
	return ""
}

// finite reports whether every value is a finite number.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
