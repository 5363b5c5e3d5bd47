// Package model is the LLaMA-style decoder the harness trains: token
// embedding, pre-norm blocks of causal self-attention (rotary positions) and
// a SwiGLU feed-forward, a final RMSNorm and an untied LM head, no biases.
package model

import (
	"fmt"
	"sort"
	"strings"
)

// Config describes the decoder's shape.
type Config struct {
	Vocab    int     `json:"vocab"`     // token vocabulary (256 for bytes)
	Dim      int     `json:"dim"`       // model width d
	Layers   int     `json:"layers"`    // number of decoder blocks
	Heads    int     `json:"heads"`     // attention heads; Dim/Heads must be even (rotary pairs)
	FFN      int     `json:"ffn"`       // SwiGLU hidden width
	SeqLen   int     `json:"seq_len"`   // context length in tokens
	NormEps  float64 `json:"norm_eps"`  // RMSNorm epsilon
	InitStd  float64 `json:"init_std"`  // std of the N(0, σ²) init of embeddings and linears
	RopeBase float64 `json:"rope_base"` // rotary base frequency
}

// Upper bounds of a shape. A config is a small file that users write and
// copy around: a typo (a dim of 1e9) must be an error, not an allocation of
// exabytes or an int overflow. MaxParams (4 GiB of float32 weights, with
// Adam's two moments 12 GiB) is far above anything a CPU trains here.
const (
	MaxParams = 1 << 30
	maxSide   = 1 << 16 // vocab, dim, ffn
	maxLayers = 1 << 10
	maxSeqLen = 1 << 14
)

// Validate reports the first field that makes the config unusable.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
		max  int
	}{{"vocab", c.Vocab, maxSide}, {"dim", c.Dim, maxSide}, {"layers", c.Layers, maxLayers}, {"heads", c.Heads, maxSide},
		{"ffn", c.FFN, maxSide}, {"seq_len", c.SeqLen, maxSeqLen}} {
		if f.v < 1 || f.v > f.max {
			return fmt.Errorf("model: %s must be in [1, %d], got %d", f.name, f.max, f.v)
		}
	}
	d, l, v, f := float64(c.Dim), float64(c.Layers), float64(c.Vocab), float64(c.FFN)
	if n := 2*v*d + l*(4*d*d+3*d*f+2*d) + d; n > MaxParams {
		return fmt.Errorf("model: %.3g parameters (vocab %d, dim %d, layers %d, ffn %d) exceed the limit of %d", n, c.Vocab, c.Dim, c.Layers, c.FFN, MaxParams)
	}
	if c.Dim%c.Heads != 0 {
		return fmt.Errorf("model: dim %d is not divisible by heads %d", c.Dim, c.Heads)
	}
	if (c.Dim/c.Heads)%2 != 0 {
		return fmt.Errorf("model: head size %d must be even for rotary embeddings", c.Dim/c.Heads)
	}
	if !(c.NormEps > 0) || !(c.InitStd > 0) || !(c.RopeBase > 1) { // NaN fails every comparison
		return fmt.Errorf("model: norm_eps (%g) and init_std (%g) must be > 0 and rope_base (%g) > 1", c.NormEps, c.InitStd, c.RopeBase)
	}
	return nil
}

// NumParams returns the number of parameters of the full-rank model.
func (c Config) NumParams() int {
	perLayer := 4*c.Dim*c.Dim + 3*c.Dim*c.FFN + 2*c.Dim
	return 2*c.Vocab*c.Dim + c.Layers*perLayer + c.Dim
}

// presets are named shapes. tiny is the reference experiment (d 128 on Opticks).
var presets = map[string]Config{
	"tiny": {Vocab: 256, Dim: 128, Layers: 4, Heads: 4, FFN: 352, SeqLen: 128},
	// small64 is the d=64 shape at which the paper's orderings show on gostd (the default preset).
	"small64": {Vocab: 256, Dim: 64, Layers: 4, Heads: 4, FFN: 176, SeqLen: 128},
	// nano is for tests and smoke runs.
	"nano": {Vocab: 256, Dim: 32, Layers: 2, Heads: 2, FFN: 88, SeqLen: 32},
}

// Preset returns the named shape with the defaults every preset shares.
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("model: unknown preset %q (have %s)", name, strings.Join(PresetNames(), ", "))
	}
	c.NormEps, c.InitStd, c.RopeBase = 1e-6, 0.02, 10000
	return c, nil
}

// PresetNames lists the preset names, sorted.
func PresetNames() []string {
	var names []string
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FLOPsPerStep estimates the floating-point operations of one training step
// (forward and backward) on batch sequences: 6 per weight per token for the
// linears (2 forward, 4 backward) and, per layer and sequence, 4·T²·d for the
// two attention products forward, twice that backward. frozenLinears tells
// how many of the block weights get no weight gradient (a LoRA run's frozen
// W), which saves 2 of the 6. Norms, rotary and softmax are not counted.
func (c Config) FLOPsPerStep(batch, frozenLinears, loraParams int) float64 {
	tokens := float64(batch * c.SeqLen)
	linear := float64(c.Layers*(4*c.Dim*c.Dim+3*c.Dim*c.FFN) + c.Vocab*c.Dim)
	attn := float64(c.Layers*batch) * 12 * float64(c.SeqLen*c.SeqLen*c.Dim)
	return 6*linear*tokens - 2*float64(frozenLinears)*tokens + 6*float64(loraParams)*tokens + attn
}
