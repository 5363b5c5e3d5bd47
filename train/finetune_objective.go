package train

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/tasks"
)

// finetuning is the task objective: a head on the pre-trained model's final
// hidden states, cross-entropy (or MSE for the regression task) on batches
// of the task's training examples, the dev set's loss and scores held out.
type finetuning struct {
	cfg        Config
	task       *tasks.Task // its Train and Dev are the examples used
	m          *model.Model
	head       *model.Head
	ft         *FinetuneResult
	scores     map[int]FinetuneEval // the dev scores by step, for the evaluations the run kept
	test       *FinetuneEval        // the test split's, scored with the last evaluation
	current    batch
	regression bool
}

// setFinetuning builds a fine-tuning run: the task's examples, the
// pre-trained weights, the method's frozen and LoRA-wrapped parameters and
// the head.
func (r *run) setFinetuning() error {
	cfg := r.cfg
	fc := *cfg.Finetune
	task, err := tasks.Generate(fc.Task, fc.TaskSeed)
	if err != nil {
		return err
	}
	// The task's scores and baseline are over the examples used.
	used := *task
	if n := fc.TrainExamples; n > 0 && n < len(used.Train) {
		used.Train = used.Train[:n]
	}
	if n := fc.DevExamples; n > 0 && n < len(used.Dev) {
		used.Dev = used.Dev[:n]
	}
	if n := fc.DevExamples; n > 0 && n < len(used.Test) {
		used.Test = used.Test[:n]
	}
	o := &finetuning{cfg: cfg, task: &used, scores: map[int]FinetuneEval{}, regression: used.Regression()}
	o.ft = &FinetuneResult{Task: fc.Task, Method: fc.Method, Baseline: used.MajorityOn(used.Test), Train: len(used.Train), Dev: len(used.Dev), TestCount: len(used.Test),
		Fingerprint: used.Fingerprint()}

	// The pre-trained weights: needed unless the folder holds this run's
	// own checkpoint (a resume) or its result. Checked before the folder
	// is touched, so a run without them leaves nothing behind.
	var pretrained *Checkpoint
	if path := cfg.PretrainedCheckpoint(); path != "" {
		if pretrained, err = loadPretrained(path, *fc.From); err != nil {
			return err
		}
		if n := len(pretrained.Evals); n > 0 {
			o.ft.PretrainedValLoss = pretrained.Evals[n-1].Loss
		}
	} else if cfg.Fresh || !hasRunFiles(cfg.OutDir) {
		return fmt.Errorf("fine-tuning needs the pre-trained run's checkpoint (warm_start_from / -warm-start-from): " +
			"the final checkpoint.safetensors of the run its finetune.from config names")
	}
	if o.m, err = model.New(cfg.Model, cfg.Seed); err != nil {
		return err
	}
	if pretrained != nil {
		if err := restoreWeights(pretrained, o.m.Params()); err != nil {
			return fmt.Errorf("pre-trained checkpoint %s: %w", cfg.PretrainedCheckpoint(), err)
		}
	}
	if err := o.setMethod(); err != nil {
		return err
	}
	r.obj, r.m, r.mustResume = o, o.m, pretrained == nil
	var bytes int
	for _, ex := range slices.Concat(used.Train, used.Dev, used.Test) {
		bytes += len(ex.A) + len(ex.B)
	}
	r.res = &Result{Status: StatusOK, Threads: r.c.Threads(), GemmBackend: kernels.GemmBackend, Model: cfg.Model,
		Corpus: Corpus{Source: cfg.Data, Bytes: bytes, SHA256: o.ft.Fingerprint, GoVersion: runtime.Version()}, Finetune: o.ft}
	return nil
}

// setMethod freezes what the method does not train, wraps the projections
// the relora block targets in LoRA linears for the low-rank methods (there
// is no warm start: the loop's switch never fires; the projections left
// plain are frozen with the rest), adds prefix tuning's prefixes and the
// adapter method's adapters, and adds the head. The LM head is never read
// by a fine-tuning run, so it is frozen in every method.
func (o *finetuning) setMethod() error {
	cfg, m := o.cfg, o.m
	method, err := lookupFinetuneMethod(cfg.Finetune.Method)
	if err != nil {
		return err
	}
	m.Head.SetRequiresGrad(false)
	if cfg.ReLoRA.LowRank() {
		relora.WrapTargets(m, cfg.ReLoRA.Targets, cfg.ReLoRA.Rank, cfg.ReLoRA.Alpha, cfg.Seed)
		for _, p := range m.Params() {
			if !relora.IsLoRAParam(p.Name) {
				p.SetRequiresGrad(false)
			}
		}
	}
	if method.probe || method.prefix || method.adapter {
		for _, p := range m.Params() {
			p.SetRequiresGrad(false)
		}
	}
	if method.prefix {
		if err := o.addPrefixes(); err != nil {
			return err
		}
	}
	if method.adapter {
		// After the freeze: the adapters are what trains. They are not in
		// the pre-trained checkpoint; a resume restores them from the run's.
		m.AddAdapters(cfg.Finetune.AdapterDim, cfg.Seed)
	}
	o.head = model.NewHead(cfg.Model.Dim, cfg.Finetune.Outputs, o.task.Pair, cfg.Model.InitStd, cfg.Seed^0x636c73)
	return nil
}

// loadPretrained reads the pre-trained run's final checkpoint and checks
// that it is the run the config names, at its last step.
func loadPretrained(path string, from Config) (*Checkpoint, error) {
	ck, err := LoadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("pre-trained checkpoint: %w", err)
	}
	if len(ck.Config) == 0 {
		return nil, fmt.Errorf("pre-trained checkpoint %s does not say which config wrote it", path)
	}
	if err := checkSameConfig(filepath.Dir(path), from, ck.Config, CheckpointFile); err != nil {
		return nil, fmt.Errorf("pre-trained checkpoint %s is not the run finetune.from names: %w", path, err)
	}
	if ck.Step != from.Steps {
		return nil, fmt.Errorf("pre-trained checkpoint %s is at step %d, the run has %d steps: it is not finished", path, ck.Step, from.Steps)
	}
	return ck, nil
}

// weights: the model's, then the head's (which all train).
func (o *finetuning) weights() []model.Param { return append(o.m.Params(), o.head.Params()...) }

func (o *finetuning) drawBatch(step int) {
	rows := batchRows(o.cfg.Seed, step, o.cfg.Batch, len(o.task.Train))
	exs := make([]tasks.Example, len(rows))
	for i, k := range rows {
		exs[i] = o.task.Train[k]
	}
	o.current = encode(exs, o.cfg.Model.SeqLen)
}

func (o *finetuning) loss(c *kernels.Ctx) (mat.Tensor, error) {
	out, err := o.outputs(c, o.current)
	if err != nil {
		return nil, err
	}
	if o.regression {
		return model.MSE(out, o.current.targets), nil
	}
	return c.CrossEntropy(out, o.current.labels), nil
}

// outputs runs the model and the head on a batch.
func (o *finetuning) outputs(c *kernels.Ctx, b batch) (mat.Tensor, error) {
	h, err := o.m.Hidden(c, b.ids)
	if err != nil {
		return nil, err
	}
	return o.head.Forward(h, b.lengths, b.split, o.cfg.Model.SeqLen), nil
}

func (o *finetuning) divergence() divergenceRule { return divergenceRule{heldOut: "dev"} }

// Extra keys of a fine-tuning checkpoint: the pre-trained run's validation
// loss, the dev scores so far and, once scored, the test split's.
const (
	extraPretrained = "pretrained_val_loss"
	extraEval       = "eval."
	extraTest       = "test."
)

func (o *finetuning) saveState(ck *Checkpoint) {
	ck.Extra[extraPretrained] = o.ft.PretrainedValLoss
	for _, e := range o.kept(ck.Evals) {
		prefix := extraEval + strconv.Itoa(e.Step) + "."
		ck.Extra[prefix+"score"] = e.Score
		for k, v := range e.Metrics {
			ck.Extra[prefix+k] = v
		}
	}
	if t := o.test; t != nil {
		ck.Extra[extraTest+"step"], ck.Extra[extraTest+"loss"], ck.Extra[extraTest+"score"] = float64(t.Step), t.Loss, t.Score
		for k, v := range t.Metrics {
			ck.Extra[extraTest+"metric."+k] = v
		}
	}
}

func (o *finetuning) restoreState(ck *Checkpoint) {
	o.ft.PretrainedValLoss = ck.Extra[extraPretrained]
	for _, e := range evalsFromExtra(ck.Evals, ck.Extra) {
		o.scores[e.Step] = e
	}
	o.test = testFromExtra(ck.Extra)
}

// testFromExtra rebuilds the test split's scores a checkpoint carries in
// Extra (nil when it has none: the last evaluation had not run).
func testFromExtra(extra map[string]float64) *FinetuneEval {
	step, ok := extra[extraTest+"step"]
	if !ok {
		return nil
	}
	t := &FinetuneEval{Step: int(step), Loss: extra[extraTest+"loss"], Score: extra[extraTest+"score"], Metrics: map[string]float64{}}
	for k, v := range extra {
		if name, ok := strings.CutPrefix(k, extraTest+"metric."); ok {
			t.Metrics[name] = v
		}
	}
	return t
}

// finish: the task's dev scores are the last dev evaluation's; the test
// split's were scored with it, if it was the run's last step.
func (o *finetuning) finish(res *Result) {
	o.ft.Evals = o.kept(res.Evals)
	if n := len(o.ft.Evals); n > 0 {
		last := o.ft.Evals[n-1]
		o.ft.Score, o.ft.Metrics = last.Score, last.Metrics
		if o.test != nil && o.test.Step == last.Step {
			o.ft.Test = o.test
		}
	}
}

// kept is the dev scores of the evaluations the run kept (one whose loss
// was not finite ended the run and is not among them).
func (o *finetuning) kept(evals []Eval) []FinetuneEval {
	var out []FinetuneEval
	for _, e := range evals {
		s := o.scores[e.Step]
		out = append(out, FinetuneEval{Step: e.Step, Loss: e.Loss, Score: s.Score, Metrics: s.Metrics})
	}
	return out
}

// evalsFromExtra rebuilds the dev scores a checkpoint carries in Extra.
func evalsFromExtra(evals []Eval, extra map[string]float64) []FinetuneEval {
	var out []FinetuneEval
	for _, e := range evals {
		fe := FinetuneEval{Step: e.Step, Loss: e.Loss, Metrics: map[string]float64{}}
		prefix := extraEval + strconv.Itoa(e.Step) + "."
		for k, v := range extra {
			if name, ok := strings.CutPrefix(k, prefix); ok {
				if name == "score" {
					fe.Score = v
				} else {
					fe.Metrics[name] = v
				}
			}
		}
		out = append(out, fe)
	}
	return out
}
