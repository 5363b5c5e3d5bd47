package train

import (
	"math"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

// Step runs one pre-training step of m on a batch of byte windows: forward,
// backward, gradient clipping and the AdamW update at learning rate lr. It
// returns the loss and the gradient norm before clipping; when either is not
// finite the weights are left untouched.
func Step(c *kernels.Ctx, m *model.Model, opt *AdamW, inputs, targets []int32, lr, clip float64) (loss, norm float64, err error) {
	return StepListed(c, m, m.Trainable(), opt, inputs, targets, lr, clip)
}

// StepListed is Step with m's trainable parameters (m.Trainable(), in that
// order) listed by the caller, once for many steps, as the training loop
// does: listing them costs a step about 80 heap objects at the tiny preset.
func StepListed(c *kernels.Ctx, m *model.Model, trainable []model.Param, opt *AdamW, inputs, targets []int32, lr, clip float64) (loss, norm float64, err error) {
	lossOf := func(c *kernels.Ctx) (mat.Tensor, error) { return m.Loss(c, inputs, targets) }
	return trainStep(c, trainable, opt, lossOf, lr, clip)
}

// trainStep is the one training step every run takes, whatever its
// objective: record the loss graph, backward, clip the global gradient norm
// of the trainable parameters (summed in their order), AdamW. A loss or norm
// that is not finite leaves the weights untouched (the caller's divergence
// rule ends the run).
func trainStep(c *kernels.Ctx, trainable []model.Param, opt *AdamW, lossOf func(*kernels.Ctx) (mat.Tensor, error), lr, clip float64) (loss, norm float64, err error) {
	c.Reset()
	for _, p := range trainable {
		p.ZeroGrad()
	}
	lossNode, err := lossOf(c)
	if err != nil {
		return 0, 0, err
	}
	loss = float64(kernels.Data(lossNode.Value())[0])
	if bad(loss) {
		return loss, math.NaN(), nil
	}
	if err := ag.Backward(lossNode); err != nil {
		return 0, 0, err
	}
	norm = opt.clip.clip(c, trainable, clip)
	if bad(norm) {
		return loss, norm, nil
	}
	if err := opt.Step(c, trainable, lr); err != nil {
		return loss, norm, err
	}
	return loss, norm, nil
}
