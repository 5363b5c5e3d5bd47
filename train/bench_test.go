package train

import (
	"runtime"
	"testing"

	"github.com/relorago/harness/data"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

// BenchmarkTrainStep measures one full-rank training step of the tiny preset
// (2,048 tokens) on opticks: tokens/s, GFLOP/s by the FLOP model of
// model.Config.FLOPsPerStep, and bytes allocated per step (B/op).
func BenchmarkTrainStep(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			benchStep(b, "tiny", threads)
		})
	}
}

func benchStep(b *testing.B, preset string, threads int) {
	cfg, err := Default(preset)
	if err != nil {
		b.Fatal(err)
	}
	corpus, err := data.Load(cfg.Data)
	if err != nil {
		b.Fatal(err)
	}
	tr, _ := corpus.Split(cfg.ValFrac)
	sampler, err := data.NewSampler(corpus.Name, tr, cfg.Model.SeqLen, cfg.Batch, 1)
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.New(cfg.Model, 1)
	if err != nil {
		b.Fatal(err)
	}
	opt := NewAdamW(cfg.Adam)
	c := kernels.NewCtx(threads)
	prev := runtime.GOMAXPROCS(threads)
	defer runtime.GOMAXPROCS(prev)
	n := cfg.Batch * cfg.Model.SeqLen
	inputs, targets := make([]int32, n), make([]int32, n)
	step := func() {
		sampler.Next(inputs, targets)
		if _, _, err := Step(c, m, opt, inputs, targets, 1e-3, 1); err != nil {
			b.Fatal(err)
		}
	}
	step() // warm the arena and the optimizer state
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(n)/sec, "tok/s")
	b.ReportMetric(cfg.Model.FLOPsPerStep(cfg.Batch, 0, 0)/sec/1e9, "GFLOP/s")
}

// BenchmarkSmall64Step is the default ablation preset's model on one core,
// the unit of work of the Table 1 matrix (one run per core).
func BenchmarkSmall64Step(b *testing.B) {
	benchStep(b, "small64", 1)
}
