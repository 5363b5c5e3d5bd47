package relora

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Pruning modes of the optimizer reset.
const (
	PruneZero      = "zero"      // zero every moment
	PruneRandom    = "random"    // zero a random fraction `ratio` (the official default, 0.999)
	PruneMagnitude = "magnitude" // zero the fraction `ratio` of smallest magnitudes
)

// ValidPruneMode reports whether mode is one of the pruning modes.
func ValidPruneMode(mode string) error {
	switch mode {
	case PruneZero, PruneRandom, PruneMagnitude:
		return nil
	}
	return fmt.Errorf("relora: prune mode %q is not zero, random or magnitude", mode)
}

// Prune zeroes part of one Adam moment in place and returns how many values
// it zeroed. ReLoRA prunes both moments of every LoRA parameter at each
// restart, and keeps Adam's step counter: the official code's "optimizer
// reset". Without it, the stale moments of the previous A and B steer the
// fresh factors; pruning 99.9% rather than all keeps a little momentum.
//
//	random:    keep x[i] where u[i] > ratio, u ~ U[0,1)   (official random_pruning)
//	magnitude: keep x[i] where |x[i]| > quantile(|x|, ratio)  (official magnitude_pruning)
//	zero:      x ← 0
func Prune(x []float32, mode string, ratio float64, rng *rand.Rand) int {
	zeroed := 0
	switch mode {
	case PruneZero:
		clear(x)
		return len(x)
	case PruneRandom:
		for i := range x {
			if rng.Float64() <= ratio {
				x[i] = 0
				zeroed++
			}
		}
	case PruneMagnitude:
		if len(x) == 0 {
			return 0
		}
		threshold := quantileAbs(x, ratio)
		for i, v := range x {
			if abs32(v) <= threshold {
				x[i] = 0
				zeroed++
			}
		}
	default:
		panic(ValidPruneMode(mode))
	}
	return zeroed
}

// quantileAbs returns the q-quantile of |x| with linear interpolation between
// order statistics, as torch.quantile does.
func quantileAbs(x []float32, q float64) float32 {
	a := make([]float32, len(x))
	for i, v := range x {
		a[i] = abs32(v)
	}
	slices.Sort(a)
	pos := q * float64(len(a)-1)
	lo := int(pos)
	if lo >= len(a)-1 {
		return a[len(a)-1]
	}
	frac := float32(pos - float64(lo))
	return a[lo] + frac*(a[lo+1]-a[lo])
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
