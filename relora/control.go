package relora

import (
	"fmt"

	"github.com/relorago/harness/model"
)

// TrainableParams returns how many parameters a LoRA run of rank r trains on
// a model of shape m: both factors of all seven projections of every block,
// plus the embedding, the LM head and the norm gains, which stay full-rank.
func TrainableParams(m model.Config, rank int) int {
	d := m.Dim
	return 2*m.Vocab*d + m.Layers*2*d + d + LoRAParams(m, rank, TargetsAll)
}

// ControlConfig returns the paper's "control" baseline for a base shape: a
// full-rank model whose total parameter count is as close as possible to
// target (ReLoRA's trainable count). It keeps the vocabulary, the context
// length and the ffn/width ratio, tries every depth up to the base's and
// every even width up to the base's (with the most heads, up to the base's
// count, that leave an even head size). Among shapes within 1% of target it
// takes the deepest (the base's depth when possible: a 1-layer model with
// the right count would be a different architecture, not a smaller one),
// then the closest; if none is within 1%, the closest.
func ControlConfig(base model.Config, target int) (model.Config, error) {
	if target < 1 {
		return model.Config{}, fmt.Errorf("relora: control target %d must be positive", target)
	}
	ratio := float64(base.FFN) / float64(base.Dim)
	better := func(c model.Config, e int, best model.Config, bestErr int) bool {
		if bestErr < 0 {
			return true
		}
		near, bestNear := e*100 <= target, bestErr*100 <= target
		if near != bestNear {
			return near
		}
		if near && c.Layers != best.Layers {
			return c.Layers > best.Layers
		}
		return e < bestErr
	}
	best, bestErr := model.Config{}, -1
	for layers := 1; layers <= base.Layers; layers++ {
		for dim := 4; dim <= base.Dim; dim += 2 {
			heads := 0
			for h := min(base.Heads, dim/2); h >= 1; h-- {
				if dim%h == 0 && (dim/h)%2 == 0 {
					heads = h
					break
				}
			}
			c := base
			c.Layers, c.Dim, c.Heads = layers, dim, heads
			c.FFN = max(2, int(ratio*float64(dim)/2+0.5)*2)
			e := c.NumParams() - target
			if e < 0 {
				e = -e
			}
			if better(c, e, best, bestErr) {
				best, bestErr = c, e
			}
		}
	}
	if err := best.Validate(); err != nil {
		return model.Config{}, err
	}
	return best, nil
}
