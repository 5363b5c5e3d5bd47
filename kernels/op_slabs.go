package kernels

import "sync"

// opSlab keeps the operator structs of one type that a step's graph
// records, for the next step to reuse: the graph is the same every step,
// and allocating each operator anew would be a sixth of a step's heap
// objects. Ctx.Reset takes them all back, with the arena's buffers.
type opSlab[T any] struct {
	mu   sync.Mutex
	ops  []*T // every struct made so far; ops[:used] are in this step's graph
	used int
}

// get returns a struct for a new operator, with the contents of the one it
// was last step: the caller sets every field.
func (s *opSlab[T]) get() *T {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == len(s.ops) {
		s.ops = append(s.ops, new(T))
	}
	s.used++
	return s.ops[s.used-1]
}

func (s *opSlab[T]) reset() {
	s.mu.Lock()
	s.used = 0
	s.mu.Unlock()
}

// opSlabs is a Ctx's opSlab for each op.
type opSlabs struct {
	add             opSlab[addFn]
	attention       opSlab[attentionFn]
	addBias         opSlab[addBiasFn]
	crossEntropy    opSlab[crossEntropyFn]
	embedding       opSlab[embeddingFn]
	linear          opSlab[linearFn]
	lora            opSlab[loraFn]
	loraComposed    opSlab[loraComposedFn]
	prefixAttention opSlab[prefixAttentionFn]
	relu            opSlab[reluFn]
	rmsNorm         opSlab[rmsNormFn]
	rotary          opSlab[rotaryFn]
	swiglu          opSlab[swigluFn]
}

func (s *opSlabs) reset() {
	s.add.reset()
	s.attention.reset()
	s.addBias.reset()
	s.crossEntropy.reset()
	s.embedding.reset()
	s.linear.reset()
	s.lora.reset()
	s.loraComposed.reset()
	s.prefixAttention.reset()
	s.relu.reset()
	s.rmsNorm.reset()
	s.rotary.reset()
	s.swiglu.reset()
}
