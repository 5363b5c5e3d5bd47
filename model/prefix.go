package model

import (
	"fmt"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
)

// Prefix is one block's prefix-tuning parameters (Li & Liang, 2021): p
// learned key and p learned value vectors, [p × dim] each, every row holding
// all heads' hd columns side by side as the block's own keys and values do.
// Every position of the block's attention reads the p slots before its
// causal positions (kernels.PrefixAttention); the slots are the same for
// every sequence.
//
// The keys live in the rotated key space: the block applies rotary to its
// own keys before attention, never to the prefix's, so a prefix key has no
// position and scores against every query as it is stored.
type Prefix struct {
	K, V *kernels.Mat
}

// Len returns p, the number of prefix slots.
func (p *Prefix) Len() int { return p.K.Rows() }

// params lists the prefix under the block's prefix pre ("layers.0."):
// "layers.0.prefix.key" and "layers.0.prefix.value".
func (p *Prefix) params(pre string) []Param {
	return []Param{{pre + "prefix.key", p.K}, {pre + "prefix.value", p.V}}
}

// attention is the block's self-attention on its rotated queries and keys
// and its values: with the prefix's slots in front when it has one.
func (b *Block) attention(c *kernels.Ctx, q, k, v mat.Tensor, cfg Config) mat.Tensor {
	if b.Prefix == nil {
		return c.CausalAttention(q, k, v, cfg.Heads, cfg.SeqLen)
	}
	return c.PrefixAttention(q, k, v, b.Prefix.K, b.Prefix.V, cfg.Heads, cfg.SeqLen)
}

// AddPrefixes gives every block a trainable prefix of p slots, initialised
// to the keys (after rotary) and values the model itself computes at
// positions 0..p-1 of ids, one sequence of seq_len real tokens.
//
// Why this init: Li & Liang found that a prefix initialised with the
// activations of real words trains better and more stably than a random one,
// above all with little data. It also starts the fine-tuned model close to
// the pre-trained one: the prefix slots look to every query like p extra
// tokens of text it has seen (their keys and values are in the range the
// model's attention expects), where small random keys would score near 0
// against every query and take a share of attention for near-zero values,
// shrinking every attention output at step 0. It is deterministic: the
// same weights and ids give the same prefix.
func (m *Model) AddPrefixes(p int, ids []int32) error {
	cfg := m.Config
	switch {
	case p < 1 || p > cfg.SeqLen:
		return fmt.Errorf("model: prefix length must be in [1, seq_len=%d], got %d", cfg.SeqLen, p)
	case len(ids) != cfg.SeqLen:
		return fmt.Errorf("model: a prefix is initialised from one sequence of %d tokens, got %d", cfg.SeqLen, len(ids))
	}
	for l, b := range m.Blocks {
		if b.Prefix != nil {
			return fmt.Errorf("model: block %d already has a prefix", l)
		}
	}
	prefixes := make([]*Prefix, len(m.Blocks))
	rows := p * cfg.Dim
	c := kernels.NewCtx(1)
	if _, err := m.hidden(c, ids, func(l int, k, v mat.Tensor) {
		pre := &Prefix{K: kernels.NewParam(p, cfg.Dim), V: kernels.NewParam(p, cfg.Dim)}
		copy(pre.K.Raw(), kernels.Data(k.Value())[:rows])
		copy(pre.V.Raw(), kernels.Data(v.Value())[:rows])
		prefixes[l] = pre
	}); err != nil {
		return err
	}
	for l, b := range m.Blocks {
		b.Prefix = prefixes[l]
	}
	return nil
}
