package relora

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/relorago/harness/model"
)

// Wrap replaces every block projection (q, k, v, o, gate, up, down) of m with
// a LoRA linear around its current weight: the warm-start switch, or the
// start of a LoRA run. Embedding, LM head and norms stay full-rank and
// trainable, as in the paper. The A factors are drawn from a generator
// seeded by (seed, round 0), so the same run always draws the same factors.
func Wrap(m *model.Model, rank int, alpha float64, seed uint64) {
	WrapTargets(m, TargetsAll, rank, alpha, seed)
}

// WrapTargets is Wrap for the projections targets names (Config.Targets);
// the others stay plain Dense linears, trainable unless the caller freezes
// them. The A factors are drawn in block and projection order, so with
// TargetsAll it draws exactly what Wrap always drew.
func WrapTargets(m *model.Model, targets string, rank int, alpha float64, seed uint64) {
	projs := TargetProjs(targets)
	rng := factorRNG(seed, 0)
	for _, b := range m.Blocks {
		for _, p := range projs {
			if d, ok := b.Proj[p].(*model.Dense); ok {
				b.Proj[p] = NewLoRA(d.W, rank, alpha, rng)
			}
		}
	}
}

// MergeAll merges and re-initialises every LoRA linear of m; round numbers
// the restart (1, 2, ...) and seeds the new factors, so a resumed run draws
// what an uninterrupted one would.
func MergeAll(m *model.Model, seed uint64, round int) {
	rng := factorRNG(seed, round)
	for _, l := range LoRAs(m) {
		l.MergeAndReinit(rng)
	}
}

// LoRAs returns m's LoRA linears in block and projection order.
func LoRAs(m *model.Model) []*LoRA {
	var out []*LoRA
	for _, b := range m.Blocks {
		for _, lin := range b.Proj {
			if l, ok := lin.(*LoRA); ok {
				out = append(out, l)
			}
		}
	}
	return out
}

// IsLoRAParam reports whether a model parameter name is a LoRA factor, the
// parameters whose optimizer state a restart prunes.
func IsLoRAParam(name string) bool {
	return strings.HasSuffix(name, ".lora_a") || strings.HasSuffix(name, ".lora_b")
}

func factorRNG(seed uint64, round int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x6c6f7261, uint64(round)))
}

// PruneRNG returns the generator of restart round's random pruning.
func PruneRNG(seed uint64, round int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x7072756e, uint64(round)))
}

// IsProjectionWeight reports whether a model parameter name is the
// full-rank weight of one of a block's seven projections
// ("layers.<l>.<proj>.weight"), the matrices GaLore projects.
func IsProjectionWeight(name string) bool {
	rest, ok := strings.CutPrefix(name, "layers.")
	if !ok {
		return false
	}
	// Cut, not Split: the optimizer asks this of every parameter every
	// step, and a split allocates its parts.
	layer, rest, ok := strings.Cut(rest, ".")
	if !ok || layer == "" || strings.Trim(layer, "0123456789") != "" {
		return false
	}
	proj, ok := strings.CutSuffix(rest, ".weight")
	if !ok || strings.Contains(proj, ".") {
		return false
	}
	return slices.Contains(model.ProjNames[:], proj)
}
