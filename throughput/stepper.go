package throughput

import (
	"strconv"

	"github.com/relorago/harness/data"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// Variant is a ReLoRA step kind: the rank of its LoRA factors and its op
// (the fused LoRALinear, which training uses, or the composed one).
type Variant struct {
	Rank  int  `json:"rank"`
	Fused bool `json:"fused"`
}

func (v Variant) String() string {
	if v.Rank == 0 {
		return "full-rank"
	}
	op := "composed"
	if v.Fused {
		op = "fused"
	}
	return "ReLoRA r=" + strconv.Itoa(v.Rank) + " " + op
}

// stepper is one model of a bench and its optimizer: full-rank (Rank 0) or
// ReLoRA after its warm start (every block projection wrapped in LoRA
// factors of the variant's rank, alpha = rank, as train.NewStepper does).
type stepper struct {
	Variant
	m     *model.Model
	opt   *train.AdamW
	flops float64 // model.Config.FLOPsPerStep for this kind
	// trainable is m's trainable parameters, listed once (the wrap above
	// is the only change to them), as the training loop lists them, so the
	// timed step is the loop's.
	trainable []model.Param
}

// bench steps a full-rank model and ReLoRA models of one width on one
// shared kernels.Ctx and batch sampler: steps run one after another, so one
// arena (its buffers reused across the models) holds the activations of
// whichever step runs, and five d-1024 models fit where five contexts'
// arenas (1.6 GB each) would not. Timing is unchanged: every step starts
// with Ctx.Reset and finds its buffers in the arena's free lists.
type bench struct {
	cfg             train.Config
	c               *kernels.Ctx
	sampler         *data.Sampler
	inputs, targets []int32
}

func newBench(cfg train.Config, threads int) (*bench, error) {
	corpus, err := data.Load(cfg.Data)
	if err != nil {
		return nil, err
	}
	tr, _ := corpus.Split(cfg.ValFrac)
	sampler, err := data.NewSampler(corpus.Name, tr, cfg.Model.SeqLen, cfg.Batch, cfg.Seed)
	if err != nil {
		return nil, err
	}
	n := cfg.Batch * cfg.Model.SeqLen
	return &bench{cfg: cfg, c: kernels.NewCtx(threads), sampler: sampler,
		inputs: make([]int32, n), targets: make([]int32, n)}, nil
}

// add builds a model of the bench's config as variant v.
func (b *bench) add(v Variant) (*stepper, error) {
	m, err := model.New(b.cfg.Model, b.cfg.Seed)
	if err != nil {
		return nil, err
	}
	if v.Rank > 0 {
		relora.Wrap(m, v.Rank, float64(v.Rank), b.cfg.Seed)
		for _, l := range relora.LoRAs(m) {
			l.Fused = v.Fused
		}
	}
	_, trainableCount := m.Count()
	return &stepper{Variant: v, m: m, opt: train.NewAdamW(b.cfg.Adam), trainable: m.Trainable(),
		flops: flopsPerStep(b.cfg.Model, b.cfg.Batch, v.Rank, trainableCount)}, nil
}

// step runs one training step of s on the next batch, at the small fixed
// learning rate train.Stepper uses.
func (b *bench) step(s *stepper) error {
	b.sampler.Next(b.inputs, b.targets)
	_, _, err := train.StepListed(b.c, s.m, s.trainable, s.opt, b.inputs, b.targets, 1e-4, 1)
	return err
}
