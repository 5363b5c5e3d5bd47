package train

import (
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/data"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
)

// Stepper runs bare training steps of a config, without evaluation, logging
// or checkpoints: what benchmarks and the throughput table (Table 4) time.
type Stepper struct {
	cfg             Config
	m               *model.Model
	opt             *AdamW
	c               *kernels.Ctx
	sampler         *data.Sampler
	inputs, targets []int32
	rank            int
	// trainable is the model's trainable parameters, listed at the first
	// step: NewStepper and NewMethodStepper make every change to which
	// parameters exist or train, before any step, and nothing changes them
	// afterwards (SetLoRAFused picks an op, not parameters).
	trainable []model.Param
}

// NewStepper prepares steps of cfg's model on cfg's data with `threads`
// cores. rank > 0 wraps the projections in LoRA linears of that rank (alpha
// = rank), as a ReLoRA run is after its warm start.
func NewStepper(cfg Config, threads, rank int) (*Stepper, error) {
	corpus, err := data.Load(cfg.Data)
	if err != nil {
		return nil, err
	}
	tr, _ := corpus.Split(cfg.ValFrac)
	sampler, err := data.NewSampler(corpus.Name, tr, cfg.Model.SeqLen, cfg.Batch, cfg.Seed)
	if err != nil {
		return nil, err
	}
	m, err := model.New(cfg.Model, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if rank > 0 {
		relora.Wrap(m, rank, float64(rank), cfg.Seed)
	}
	n := cfg.Batch * cfg.Model.SeqLen
	return &Stepper{cfg: cfg, m: m, opt: NewAdamW(cfg.Adam), c: kernels.NewCtx(threads), sampler: sampler,
		inputs: make([]int32, n), targets: make([]int32, n), rank: rank}, nil
}

// NewMethodStepper prepares steps of cfg's model as its method trains
// after any warm start: full-rank (and control: its own smaller shape),
// LoRA linears at cfg's rank, GaLore's projected optimizer or the
// low-rank factorisation. What memory a method needs is what one of
// these holds.
func NewMethodStepper(cfg Config, threads int) (*Stepper, error) {
	m := cfg.ReLoRA
	if m.Method == relora.MethodControl {
		shape, err := controlShape(cfg)
		if err != nil {
			return nil, err
		}
		cfg.Model = shape
	}
	s, err := NewStepper(cfg, threads, 0)
	if err != nil {
		return nil, err
	}
	switch m.Method {
	case relora.MethodLoRA:
		// As NewStepper wraps (alpha = rank), on the projections the
		// config targets.
		relora.WrapTargets(s.m, m.Targets, m.Rank, float64(m.Rank), cfg.Seed)
		s.rank = m.Rank
	case relora.MethodLowRank:
		relora.Factorize(s.m, m.Rank, cfg.Seed)
	case relora.MethodGaLore:
		s.opt.GaLore = galoreOf(m)
	}
	return s, nil
}

// Step runs one training step at a small fixed learning rate: the package's
// Step, with the trainable parameters listed once.
func (s *Stepper) Step() error {
	s.sampler.Next(s.inputs, s.targets)
	if s.trainable == nil {
		s.trainable = s.m.Trainable()
	}
	_, _, err := trainStep(s.c, s.trainable, s.opt, s.loss, 1e-4, 1)
	return err
}

// loss records the current batch's loss graph on c.
func (s *Stepper) loss(c *kernels.Ctx) (mat.Tensor, error) {
	return s.m.Loss(c, s.inputs, s.targets)
}

// Tokens returns the tokens of one step.
func (s *Stepper) Tokens() int { return len(s.inputs) }

// FLOPs returns the model's FLOP estimate of one step (model.Config.FLOPsPerStep).
func (s *Stepper) FLOPs() float64 {
	if s.rank == 0 {
		return s.cfg.Model.FLOPsPerStep(s.cfg.Batch, 0, 0)
	}
	// The frozen weights are the wrapped projections' W; a projection the
	// config does not target stays full-rank and trainable.
	var frozen, factors int
	for _, l := range relora.LoRAs(s.m) {
		frozen += len(l.W.Raw())
		factors += len(l.A.Raw()) + len(l.B.Raw())
	}
	return s.cfg.Model.FLOPsPerStep(s.cfg.Batch, frozen, factors)
}

// Counts returns total and trainable parameters and the optimizer's floats.
func (s *Stepper) Counts() (total, trainable, optimizerFloats int) {
	total, trainable = s.m.Count()
	return total, trainable, s.opt.Floats()
}

// ArenaBytes returns the activation and gradient memory of a step.
func (s *Stepper) ArenaBytes() int { return s.c.Arena().Bytes() }

// SetLoRAFused chooses the LoRA linears' op: fused (what training runs use)
// or composed (see relora.LoRA.Fused), so Table 4 can measure both.
func (s *Stepper) SetLoRAFused(fused bool) {
	for _, l := range relora.LoRAs(s.m) {
		l.Fused = fused
	}
}
