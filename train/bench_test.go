package train

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/relorago/harness/data"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
)

// BenchmarkTrainStep measures one full-rank training step of the tiny preset
// (2,048 tokens) on opticks: tokens/s, GFLOP/s by the FLOP model of
// model.Config.FLOPsPerStep, and bytes allocated per step (B/op).
func BenchmarkTrainStep(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("full/threads=%d", threads), func(b *testing.B) {
			benchStep(b, "tiny", threads, 0)
		})
		// A ReLoRA step after the warm start: frozen W, trainable A and B.
		for _, rank := range []int{32, 8} {
			b.Run(fmt.Sprintf("relora-r%d/threads=%d", rank, threads), func(b *testing.B) {
				benchStep(b, "tiny", threads, rank)
			})
		}
	}
}

// benchStep measures training steps of a preset's model; rank > 0 wraps the
// projections in LoRA linears of that rank first.
func benchStep(b *testing.B, preset string, threads, rank int) {
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
	total := m.Config.NumParams()
	if rank > 0 {
		relora.Wrap(m, rank, float64(rank), 1)
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
	_, trainable := m.Count()
	frozen, lora := 0, 0
	if rank > 0 {
		frozen = total - relora.TrainableParams(m.Config, 0)
		lora = trainable - relora.TrainableParams(m.Config, 0)
	}
	b.ReportMetric(cfg.Model.FLOPsPerStep(cfg.Batch, frozen, lora)/sec/1e9, "GFLOP/s")
}

// BenchmarkSmall64Step is the default ablation preset's model on one core,
// the unit of work of the Table 1 matrix (one run per core).
func BenchmarkSmall64Step(b *testing.B) {
	benchStep(b, "small64", 1, 0)
}
