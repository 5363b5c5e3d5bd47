package elementwise

import (
	"fmt"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/throughput"
)

// BenchmarkElementwise times every pass at Table 4's widths (the tiny
// preset's depth, batch and sequence length, as cmd/roofline), reporting
// GB/s by Case.Bytes. Compare with bench/stream's bandwidth:
//
//	go test -run '^$' -bench Elementwise ./bench/elementwise
//	go test -run '^$' -bench 'Elementwise/d=1024/' ./bench/elementwise
func BenchmarkElementwise(b *testing.B) {
	p, err := experiments.Get("tiny")
	if err != nil {
		b.Fatal(err)
	}
	ws, err := throughput.Widths(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range ws {
		cfg, err := w.Config(p)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range Cases(NewShape(cfg.Model, cfg.Batch)) {
			b.Run(fmt.Sprintf("d=%d/%s", w.Dim, c.Name), func(b *testing.B) {
				pass := c.New()
				pass() // pages faulted in, caches warm (b.Loop times only its loop)
				for b.Loop() {
					pass()
				}
				b.ReportMetric(float64(c.Bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
