package train

import (
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

// objective is what pre-training and fine-tuning differ in. Everything else
// of a run is shared and lives once: the folder rules and resume
// (resume.go), the loop with its ReLoRA events (loop.go), the one training
// step (step.go), the divergence rule (divergence.go), checkpoints and the
// end of a run (finish.go). pretraining (pretrain.go) predicts the next byte
// of a corpus; finetuning (finetune_objective.go) fits a task's head.
type objective interface {
	// weights is every parameter a checkpoint holds, frozen ones too, in a
	// fixed order: the optimizer and the gradient norm take the trainable
	// ones in this order, so it fixes the run's numbers.
	weights() []model.Param
	// drawBatch makes step's batch the current one. It is a function of the
	// seed and the step only, so a resumed run draws what an uninterrupted
	// one would.
	drawBatch(step int)
	// loss records the current batch's loss graph on c.
	loss(c *kernels.Ctx) (mat.Tensor, error)
	// evaluate measures the held-out loss after step optimizer steps (and
	// keeps whatever else the objective scores there).
	evaluate(c *kernels.Ctx, step int) (Eval, error)
	// divergence is the divergence rule's inputs for this objective.
	divergence() divergenceRule
	// saveState adds the objective's own state to a checkpoint being
	// written, and restoreState reads it back on resume (the shared state,
	// weights, optimizer, evaluations and counters, is the run's).
	saveState(ck *Checkpoint)
	restoreState(ck *Checkpoint)
	// finish fills in the objective's part of the result.
	finish(res *Result)
}

// trainableOf keeps the parameters that receive gradients, in order.
func trainableOf(ps []model.Param) []model.Param {
	var out []model.Param
	for _, p := range ps {
		if p.RequiresGrad() {
			out = append(out, p)
		}
	}
	return out
}
