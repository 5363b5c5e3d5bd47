package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
)

// Proj indexes a block's seven projections, the ones ReLoRA wraps.
type Proj int

// The projections of a block, in the order of ProjNames.
const (
	ProjQ Proj = iota
	ProjK
	ProjV
	ProjO
	ProjGate
	ProjUp
	ProjDown
	NumProj
)

// ProjNames are the projections' names, as in the parameter names.
var ProjNames = [NumProj]string{"q", "k", "v", "o", "gate", "up", "down"}

// Block is one pre-norm decoder layer.
type Block struct {
	AttnNorm, FFNNorm *kernels.Mat
	Proj              [NumProj]Linear
	// Prefix is prefix tuning's learned keys and values (prefix.go); nil,
	// as in every model but a prefix-tuning run's, is plain causal attention.
	Prefix *Prefix
	// Adapter, when not nil, adapts the feed-forward output before the
	// residual add (the adapter fine-tuning method; see adapter.go).
	Adapter *Adapter
}

// Model is the decoder.
type Model struct {
	Config Config
	Embed  *kernels.Mat // [vocab × dim]
	Blocks []*Block
	Norm   *kernels.Mat // final RMSNorm gain [1 × dim]
	Head   *kernels.Mat // LM head [vocab × dim], untied from Embed
}

// New returns a model initialised as LLaMA is: embeddings and linears
// N(0, init_std²), norm gains 1. The same seed gives the same weights.
func New(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d6f64656c))
	normal := func(rows, cols int) *kernels.Mat {
		p := kernels.NewParam(rows, cols)
		for i := range p.Raw() {
			p.Raw()[i] = float32(rng.NormFloat64() * cfg.InitStd)
		}
		return p
	}
	ones := func(n int) *kernels.Mat {
		p := kernels.NewParam(1, n)
		for i := range p.Raw() {
			p.Raw()[i] = 1
		}
		return p
	}
	m := &Model{Config: cfg, Embed: normal(cfg.Vocab, cfg.Dim)}
	d, f := cfg.Dim, cfg.FFN
	shapes := [NumProj][2]int{{d, d}, {d, d}, {d, d}, {d, d}, {f, d}, {f, d}, {d, f}}
	for l := 0; l < cfg.Layers; l++ {
		b := &Block{AttnNorm: ones(d), FFNNorm: ones(d)}
		for p := range NumProj {
			b.Proj[p] = &Dense{W: normal(shapes[p][0], shapes[p][1])}
		}
		m.Blocks = append(m.Blocks, b)
	}
	m.Norm = ones(d)
	m.Head = normal(cfg.Vocab, d)
	return m, nil
}

// Forward returns the logits [len(ids) × vocab] for len(ids)/seq_len
// sequences laid end to end.
func (m *Model) Forward(c *kernels.Ctx, ids []int32) (mat.Tensor, error) {
	h, err := m.Hidden(c, ids)
	if err != nil {
		return nil, err
	}
	return c.Linear(h, m.Head), nil
}

// Hidden returns the final hidden states [len(ids) × dim] for len(ids)/seq_len
// sequences laid end to end: the last block's output after the final
// RMSNorm, what the LM head (and a fine-tuning Head) reads.
func (m *Model) Hidden(c *kernels.Ctx, ids []int32) (mat.Tensor, error) {
	return m.hidden(c, ids, nil)
}

// hidden is Hidden, calling seen (when not nil) with each block's keys
// (after rotary) and values: how a prefix is initialised from the model's
// own keys and values (prefix.go).
func (m *Model) hidden(c *kernels.Ctx, ids []int32, seen func(layer int, k, v mat.Tensor)) (mat.Tensor, error) {
	cfg := m.Config
	if len(ids) == 0 || len(ids)%cfg.SeqLen != 0 {
		return nil, fmt.Errorf("model: %d tokens is not a positive multiple of seq_len %d", len(ids), cfg.SeqLen)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= cfg.Vocab {
			return nil, fmt.Errorf("model: token %d at position %d is outside the vocabulary of %d", id, i, cfg.Vocab)
		}
	}
	eps := float32(cfg.NormEps)
	x := c.Embedding(m.Embed, ids)
	for l, b := range m.Blocks {
		h := c.RMSNorm(x, b.AttnNorm, eps)
		q := c.Rotary(b.Proj[ProjQ].Forward(c, h), cfg.Heads, cfg.SeqLen, cfg.RopeBase)
		k := c.Rotary(b.Proj[ProjK].Forward(c, h), cfg.Heads, cfg.SeqLen, cfg.RopeBase)
		v := b.Proj[ProjV].Forward(c, h)
		if seen != nil {
			seen(l, k, v)
		}
		a := b.attention(c, q, k, v, cfg)
		x = c.Add(x, b.Proj[ProjO].Forward(c, a), 1)

		h = c.RMSNorm(x, b.FFNNorm, eps)
		g := c.SwiGLU(b.Proj[ProjGate].Forward(c, h), b.Proj[ProjUp].Forward(c, h))
		f := b.Proj[ProjDown].Forward(c, g)
		if b.Adapter != nil {
			f = b.Adapter.Forward(c, f)
		}
		x = c.Add(x, f, 1)
	}
	return c.RMSNorm(x, m.Norm, eps), nil
}

// Loss returns the mean next-token cross-entropy (nats/token) as a 1×1 node.
func (m *Model) Loss(c *kernels.Ctx, inputs, targets []int32) (mat.Tensor, error) {
	logits, err := m.Forward(c, inputs)
	if err != nil {
		return nil, err
	}
	if len(targets) != len(inputs) {
		return nil, fmt.Errorf("model: %d targets for %d inputs", len(targets), len(inputs))
	}
	for i, t := range targets {
		if t < 0 || int(t) >= m.Config.Vocab {
			return nil, fmt.Errorf("model: target %d at position %d is outside the vocabulary of %d", t, i, m.Config.Vocab)
		}
	}
	return c.CrossEntropy(logits, targets), nil
}

// Params lists every parameter (frozen ones too) with a stable name such as
// "layers.0.q.weight" (an adapter's after its block's projections,
// "layers.0.adapter.down.weight"); the order is fixed, so optimizers and
// checkpoints can rely on it.
func (m *Model) Params() []Param {
	ps := []Param{{"embed", m.Embed}}
	for l, b := range m.Blocks {
		pre := fmt.Sprintf("layers.%d.", l)
		ps = append(ps, Param{pre + "attn_norm", b.AttnNorm}, Param{pre + "ffn_norm", b.FFNNorm})
		for p, lin := range b.Proj {
			for _, q := range lin.Params() {
				ps = append(ps, Param{pre + ProjNames[p] + "." + q.Name, q.Mat})
			}
		}
		if b.Prefix != nil {
			ps = append(ps, b.Prefix.params(pre)...)
		}
		if b.Adapter != nil {
			for _, q := range b.Adapter.Params() {
				ps = append(ps, Param{pre + "adapter." + q.Name, q.Mat})
			}
		}
	}
	return append(ps, Param{"norm", m.Norm}, Param{"head", m.Head})
}

// Trainable returns the parameters that receive gradients.
func (m *Model) Trainable() []Param {
	var ps []Param
	for _, p := range m.Params() {
		if p.RequiresGrad() {
			ps = append(ps, p)
		}
	}
	return ps
}

// Count returns the total and the trainable number of parameters.
func (m *Model) Count() (total, trainable int) {
	for _, p := range m.Params() {
		total += len(p.Raw())
		if p.RequiresGrad() {
			trainable += len(p.Raw())
		}
	}
	return total, trainable
}
