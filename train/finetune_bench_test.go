package train

import (
	"runtime"
	"testing"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/tasks"
)

// BenchmarkFinetuneStep measures one fine-tuning step of each method at
// Table 5's shape (small64, batch 16 × 128 bytes of the books task, LoRA
// rank 8, prefix_len 4) on one core, with the CPU time per step, to
// compare the methods' costs. The weights are a fresh model's: a step's
// cost does not depend on their values. Not part of `make bench`.
func BenchmarkFinetuneStep(b *testing.B) {
	task, err := tasks.Generate("books", 1)
	if err != nil {
		b.Fatal(err)
	}
	for _, method := range FinetuneMethods {
		b.Run(method, func(b *testing.B) { benchFinetune(b, task, method) })
	}
}

func benchFinetune(b *testing.B, task *tasks.Task, method string) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	step := finetuneStepper(b, task, method)
	step(0) // warm the arena and the optimizer state
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		step(i + 1)
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}

// finetuneStepper builds a fine-tuning method's model on one core at
// Table 5's settings (the adapter's bottleneck and the prefix's length
// too) and returns its step k.
func finetuneStepper(tb testing.TB, task *tasks.Task, method string) func(k int) {
	cfg, err := Default("small64")
	if err != nil {
		tb.Fatal(err)
	}
	spec, err := tasks.Get(task.Name)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Finetune = &FinetuneConfig{Task: task.Name, Outputs: spec.Outputs(), Method: method, Pooling: PoolMean}
	switch method {
	case FinetunePrefix:
		cfg.Finetune.PrefixLen = 4
	case FinetuneAdapter:
		cfg.Finetune.AdapterDim = 4
	}
	if err := cfg.Finetune.checkAdapterDim(cfg.Model.Dim); err != nil {
		tb.Fatal(err)
	}
	if cfg.ReLoRA, err = FinetuneMethodConfig(method, relora.Config{Rank: 8, Alpha: 8, ResetEvery: 100, RestartWarmup: 10,
		PruneMode: relora.PruneRandom, PruneRatio: 0.999}, cfg.LR); err != nil {
		tb.Fatal(err)
	}
	o := &finetuning{cfg: cfg, task: task, scores: map[int]FinetuneEval{}}
	if o.m, err = model.New(cfg.Model, cfg.Seed); err != nil {
		tb.Fatal(err)
	}
	if err := o.setMethod(); err != nil {
		tb.Fatal(err)
	}
	c, opt := kernels.NewCtx(1), NewAdamW(cfg.Adam)
	trainable := trainableOf(o.weights())
	return func(k int) {
		o.drawBatch(k)
		if _, _, err := trainStep(c, trainable, opt, o.loss, cfg.LR, cfg.GradClip); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkFinetuneStep's set-up builds and steps every method: a method
// added to FinetuneMethods without its settings here fails this test, not
// only the benchmark nobody runs in CI.
func TestFinetuneBenchStepsEveryMethod(t *testing.T) {
	task, err := tasks.Generate("books", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range FinetuneMethods {
		t.Run(method, func(t *testing.T) { finetuneStepper(t, task, method)(0) })
	}
}
