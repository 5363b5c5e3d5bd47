package train

import (
	"fmt"
	"math/rand/v2"
)

// Prefix tuning (method prefix): the pre-trained model frozen, every layer
// given prefix_len learned keys and values (model.Prefix), and those and
// the head trained. With prefix_len p the prefixes are layers·2·p·dim
// parameters: at Table 5's d 64 and 4 layers, p = 4 is 2,048, LoRA rank 1's
// budget on the attention projections.

// validatePrefix checks prefix_len: at least 1 for method prefix (a prefix
// of no slots would train the head alone, the probe), at most seq_len (the
// init reads that many positions of one sequence, and the attention's
// scores then at most double), and absent for every other method.
func (c Config) validatePrefix() error {
	f := c.Finetune
	if f.Method != FinetunePrefix {
		if f.PrefixLen != 0 {
			return fmt.Errorf("config: finetune: prefix_len %d is for method %s, not %s", f.PrefixLen, FinetunePrefix, f.Method)
		}
		return nil
	}
	m := c.Model
	switch {
	case f.PrefixLen < 1 || f.PrefixLen > m.SeqLen:
		return fmt.Errorf("config: finetune: method %s needs prefix_len in [1, seq_len=%d], got %d", FinetunePrefix, m.SeqLen, f.PrefixLen)
	case float64(c.Batch)*float64(m.Heads)*float64(m.SeqLen)*float64(m.SeqLen+f.PrefixLen) > maxAttention:
		return fmt.Errorf("config: finetune: batch %d × heads %d × seq_len %d × (seq_len + prefix_len %d) attention scores exceed the limit of %g floats",
			c.Batch, m.Heads, m.SeqLen, f.PrefixLen, float64(maxAttention))
	}
	return nil
}

// addPrefixes gives the model its prefixes, initialised from the model's
// own keys and values at the first prefix_len positions of one training
// example (model.AddPrefixes says why real tokens). The example is drawn by
// the run's seed, so seeds differ in the prefix's init as they do in the
// head's and LoRA's. A resumed run draws it too, on weights the checkpoint
// then replaces, prefixes included.
func (o *finetuning) addPrefixes() error {
	train := o.task.Train
	if len(train) == 0 {
		return fmt.Errorf("finetune: task %s has no training examples to initialise the prefix from", o.task.Name)
	}
	k := rand.New(rand.NewPCG(o.cfg.Seed, 0x707265666978)).IntN(len(train))
	ids := encode(train[k:k+1], o.cfg.Model.SeqLen).ids
	return o.m.AddPrefixes(o.cfg.Finetune.PrefixLen, ids)
}
