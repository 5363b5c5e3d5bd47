package train

import (
	"math"
	"math/bits"
	"math/rand/v2"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/tasks"
)

// batchRows draws step's batch: indices into the training examples, uniform
// with replacement, a function of (seed, step) only, so a resumed run sees
// the batches an uninterrupted one would.
func batchRows(seed uint64, step, batch, n int) []int {
	pcg := rand.NewPCG(mix(seed^0x66696e65), mix(uint64(step)^mix(seed^0x74756e65)))
	out := make([]int, batch)
	for i := range out {
		hi, lo := bits.Mul64(pcg.Uint64(), uint64(n))
		if lo < uint64(n) {
			thresh := -uint64(n) % uint64(n)
			for lo < thresh {
				hi, lo = bits.Mul64(pcg.Uint64(), uint64(n))
			}
		}
		out[i] = int(hi)
	}
	return out
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// batch is a step's (or a dev batch's) examples in the model's layout.
type batch struct {
	ids     []int32
	lengths []int
	split   []int // A's bytes (pair tasks)
	labels  []int32
	targets []float32
}

func encode(exs []tasks.Example, seq int) batch {
	b := batch{ids: make([]int32, len(exs)*seq), lengths: make([]int, len(exs)), split: make([]int, len(exs)),
		labels: make([]int32, len(exs)), targets: make([]float32, len(exs))}
	for i, ex := range exs {
		b.lengths[i], b.split[i] = tasks.Encode(ex, b.ids[i*seq:(i+1)*seq])
		b.labels[i], b.targets[i] = int32(ex.Label), float32(ex.Target)
	}
	return b
}

// evaluate scores the dev set: its mean loss (cross-entropy per example, or
// the squared error) and the task's metrics, kept by step for the result.
// At the run's last step it scores the test split too; nothing reads the
// test split earlier, so no choice during a run can depend on it.
func (o *finetuning) evaluate(c *kernels.Ctx, step int) (Eval, error) {
	loss, s, err := o.score(c, o.task.Dev)
	if err != nil {
		return Eval{}, err
	}
	o.scores[step] = FinetuneEval{Step: step, Loss: loss, Score: s.Score, Metrics: s.Metrics}
	if step == o.cfg.Steps && len(o.task.Test) > 0 {
		tl, ts, err := o.score(c, o.task.Test)
		if err != nil {
			return Eval{}, err
		}
		o.test = &FinetuneEval{Step: step, Loss: tl, Score: ts.Score, Metrics: ts.Metrics}
	}
	return Eval{Step: step, Loss: loss, Perplexity: Number(math.Exp(loss)), BitsPerByte: loss / math.Ln2}, nil
}

// score runs the model on held-out examples: their mean loss and the
// task's scores.
func (o *finetuning) score(c *kernels.Ctx, exs []tasks.Example) (float64, tasks.Scores, error) {
	k := o.cfg.Finetune.Outputs
	var sum float64
	classes := make([]int, 0, len(exs))
	predictions := make([]float64, 0, len(exs))
	for lo := 0; lo < len(exs); lo += o.cfg.Batch {
		part := exs[lo:min(lo+o.cfg.Batch, len(exs))]
		c.Reset()
		out, err := o.outputs(c, encode(part, o.cfg.Model.SeqLen))
		if err != nil {
			return 0, tasks.Scores{}, err
		}
		y := kernels.Data(out.Value())
		for i, ex := range part {
			row := y[i*k : (i+1)*k]
			if o.regression {
				e := float64(row[0]) - ex.Target
				sum += e * e
				predictions = append(predictions, float64(row[0]))
				continue
			}
			best, ce := argmaxCrossEntropy(row, ex.Label)
			sum += ce
			classes = append(classes, best)
		}
	}
	var s tasks.Scores
	if o.regression {
		s = o.task.ScoreRegressionOn(exs, predictions)
	} else {
		s = o.task.ScoreClassesOn(exs, classes)
	}
	return sum / float64(len(exs)), s, nil
}

// argmaxCrossEntropy returns a row of logits' arg max (the first on ties)
// and its cross-entropy against label, in float64.
func argmaxCrossEntropy(row []float32, label int) (int, float64) {
	best, mx := 0, float64(row[0])
	for c, v := range row {
		if float64(v) > mx {
			best, mx = c, float64(v)
		}
	}
	var z float64
	for _, v := range row {
		z += math.Exp(float64(v) - mx)
	}
	return best, mx + math.Log(z) - float64(row[label])
}
