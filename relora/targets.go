package relora

import (
	"fmt"

	"github.com/relorago/harness/model"
)

// Which projections a LoRA run wraps (Config.Targets).
const (
	// TargetsAll wraps all seven projections of every block, as the paper's
	// ReLoRA does. It is the empty string so that every config written
	// before targets existed means what it meant, with the same JSON and
	// run hash.
	TargetsAll = ""
	// TargetsAttention wraps only the attention projections (q, k, v, o),
	// the weights LoRA's own paper adapts; the feed-forward ones stay plain.
	// At a low rank this is the parameter-efficient regime (a few per cent
	// of the model or less) that fine-tuning comparisons are made in.
	TargetsAttention = "attention"
)

// targetProjs lists each targets value's projections, in block order.
var targetProjs = map[string][]model.Proj{
	TargetsAll:       {model.ProjQ, model.ProjK, model.ProjV, model.ProjO, model.ProjGate, model.ProjUp, model.ProjDown},
	TargetsAttention: {model.ProjQ, model.ProjK, model.ProjV, model.ProjO},
}

// ValidTargets reports whether t is a targets value, naming the allowed ones.
func ValidTargets(t string) error {
	if _, ok := targetProjs[t]; !ok {
		return fmt.Errorf("relora: targets %q is not %q (omitted: all seven projections) or %q (q, k, v, o)", t, TargetsAll, TargetsAttention)
	}
	return nil
}

// TargetProjs returns the projections a targets value wraps. It panics on
// an unknown value: configs are validated before a model is wrapped.
func TargetProjs(t string) []model.Proj {
	ps, ok := targetProjs[t]
	if !ok {
		panic(ValidTargets(t))
	}
	return ps
}

// LoRAParams returns how many numbers the LoRA factors of a run of rank r
// hold on a model of shape m: A [r × in] and B [out × r] of every wrapped
// projection of every block.
func LoRAParams(m model.Config, rank int, targets string) int {
	d, f := m.Dim, m.FFN
	shapes := [model.NumProj][2]int{{d, d}, {d, d}, {d, d}, {d, d}, {f, d}, {f, d}, {d, f}} // (out, in), as model.New
	per := 0
	for _, p := range TargetProjs(targets) {
		per += rank * (shapes[p][0] + shapes[p][1])
	}
	return m.Layers * per
}
