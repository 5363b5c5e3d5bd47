package train

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/data"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
)

// pretraining is the language-modelling objective: the next byte of a
// corpus, batches from a seeded sampler, held-out windows from the corpus'
// tail.
type pretraining struct {
	m               *model.Model
	sampler         *data.Sampler
	val             *data.Validation
	batch           int
	inputs, targets []int32
}

// setPretraining loads the corpus and builds the model (the control
// baseline's is smaller) for a pre-training run.
func (r *run) setPretraining() error {
	cfg := r.cfg
	corpus, err := data.Load(cfg.Data)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(corpus.Bytes)
	info := Corpus{Source: corpus.Name, Bytes: len(corpus.Bytes), SHA256: hex.EncodeToString(sum[:8]), GoVersion: runtime.Version()}
	trainBytes, valBytes := corpus.Split(cfg.ValFrac)
	seq := cfg.Model.SeqLen
	o := &pretraining{batch: cfg.Batch, inputs: make([]int32, cfg.Batch*seq), targets: make([]int32, cfg.Batch*seq)}
	if o.sampler, err = data.NewSampler(corpus.Name, trainBytes, seq, cfg.Batch, cfg.Seed); err != nil {
		return err
	}
	if o.val, err = data.NewValidation(corpus.Name, valBytes, seq, cfg.Batch, cfg.ValWindows); err != nil {
		return err
	}
	shape := cfg.Model
	if cfg.ReLoRA.Method == relora.MethodControl {
		if shape, err = controlShape(cfg); err != nil {
			return err
		}
	}
	if o.m, err = model.New(shape, cfg.Seed); err != nil {
		return err
	}
	if cfg.ReLoRA.Method == relora.MethodLowRank {
		relora.Factorize(o.m, cfg.ReLoRA.Rank, cfg.Seed)
	}
	r.obj, r.m = o, o.m
	// The singular-value spectra (Fig. 5) and rank growth read a LoRA
	// pre-training run's weights at the switch and after every merge.
	r.keepEventWeights = true
	r.res = &Result{Status: StatusOK, Threads: r.c.Threads(), GemmBackend: kernels.GemmBackend, Model: shape, Corpus: info}
	return nil
}

// controlShape sizes the control model: total parameters ≈ the trainable
// parameters of the LoRA run at this config's rank.
func controlShape(cfg Config) (model.Config, error) {
	target := cfg.ReLoRA.ControlTarget
	if target == 0 {
		target = relora.TrainableParams(cfg.Model, cfg.ReLoRA.Rank)
	}
	shape, err := relora.ControlConfig(cfg.Model, target)
	if err != nil {
		return shape, fmt.Errorf("control model for %d parameters: %w", target, err)
	}
	return shape, nil
}

func (o *pretraining) weights() []model.Param { return o.m.Params() }

// drawBatch: the sampler's windows of step k depend only on (seed, k).
func (o *pretraining) drawBatch(step int) {
	o.sampler.SetStep(step)
	o.sampler.Next(o.inputs, o.targets)
}

func (o *pretraining) loss(c *kernels.Ctx) (mat.Tensor, error) {
	return o.m.Loss(c, o.inputs, o.targets)
}

func (o *pretraining) evaluate(c *kernels.Ctx, step int) (Eval, error) {
	return Evaluate(c, o.m, o.val, o.batch, step)
}

func (o *pretraining) divergence() divergenceRule {
	return divergenceRule{heldOut: "validation", scoresUntrained: true}
}

// A pre-training checkpoint holds nothing beyond the run's shared state.
func (o *pretraining) saveState(*Checkpoint)    {}
func (o *pretraining) restoreState(*Checkpoint) {}
func (o *pretraining) finish(*Result)           {}
