package relora

import "math/rand/v2"

// MergeAndReinit folds the low-rank update into the frozen weight and starts
// a fresh one (the "restart" of ReLoRA, Algorithm 1):
//
//	W ← W + s·B·A,   A ← Kaiming-uniform,   B ← 0.
//
// Because B is zero afterwards the layer computes the same function as
// before, up to float rounding of the sum; the next low-rank update can point
// in new directions, so the sum of many rank-r updates can have high rank.
func (l *LoRA) MergeAndReinit(rng *rand.Rand) {
	addScaledProduct(l.W.Raw(), l.B, l.A, l.Scale)
	l.reinit(rng)
}
