package train

import (
	"fmt"
	"strings"

	"github.com/relorago/harness/relora"
)

// Fine-tuning methods (Table 5's rows are experiments.FinetuneRows).
const (
	FinetuneFull    = "full"    // every weight of the model trains (the LM head, unused, stays frozen)
	FinetuneLoRA    = "lora"    // LoRA factors on the projections the relora block targets (all 7 by default); the rest frozen
	FinetuneReLoRA  = "relora"  // LoRA with merges, optimizer resets and the jagged schedule (no warm start)
	FinetuneAdapter = "adapter" // a bottleneck adapter of width adapter_dim in every block (model.Adapter); the model frozen
	FinetunePrefix  = "prefix"  // prefix tuning: learned keys and values in front of every layer's attention; the model frozen
	FinetuneProbe   = "probe"   // the model frozen: only the head trains
)

// FinetuneMethods lists every fine-tuning method.
var FinetuneMethods = []string{FinetuneFull, FinetuneLoRA, FinetuneReLoRA, FinetuneAdapter, FinetunePrefix, FinetuneProbe}

// finetuneMethod is what a fine-tuning method is, said once. The low-rank
// machinery is pre-training's own (relora.Wrap, MergeSteps, Schedule,
// PruneRNG), driven by the relora block that FinetuneMethodConfig derives
// from these switches, so the loop treats a fine-tuning ReLoRA run as it
// treats a pre-training one without a warm start.
type finetuneMethod struct {
	lowRank  bool // LoRA factors on the projections; the rest of the model frozen
	restarts bool // merges, optimizer resets and the jagged schedule
	probe    bool // the whole model frozen: only the head trains
	prefix   bool // the whole model frozen: prefix_len keys and values per layer and the head train
	adapter  bool // the model frozen, bottleneck adapters added in every block
}

var finetuneMethods = map[string]finetuneMethod{
	FinetuneFull:    {},
	FinetuneLoRA:    {lowRank: true},
	FinetuneReLoRA:  {lowRank: true, restarts: true},
	FinetuneProbe:   {probe: true},
	FinetunePrefix:  {prefix: true},
	FinetuneAdapter: {adapter: true},
}

func lookupFinetuneMethod(name string) (finetuneMethod, error) {
	m, ok := finetuneMethods[name]
	if !ok {
		return m, fmt.Errorf("method %q is not %s", name, strings.Join(FinetuneMethods, ", "))
	}
	return m, nil
}

// FinetuneMethodConfig is the relora block of a fine-tuning run by method
// at peak learning rate lr: the low-rank settings it uses (rank, alpha,
// targets, reset_every, restart_warmup, prune_mode, prune_ratio) come from low, and
// every setting the method does not use is zero, so it is not part of the
// run's identity (its hash).
func FinetuneMethodConfig(method string, low relora.Config, lr float64) (relora.Config, error) {
	m, err := lookupFinetuneMethod(method)
	if err != nil {
		return relora.Config{}, err
	}
	if !m.lowRank {
		return relora.Config{Method: relora.MethodFull}, nil
	}
	r := relora.Config{Method: relora.MethodLoRA, Rank: low.Rank, Alpha: low.Alpha, LR: lr, Targets: low.Targets}
	if m.restarts {
		r.Restarts, r.OptimizerReset, r.Jagged = true, true, true
		r.ResetEvery, r.RestartWarmup, r.PruneMode, r.PruneRatio = low.ResetEvery, low.RestartWarmup, low.PruneMode, low.PruneRatio
	}
	return r, nil
}
