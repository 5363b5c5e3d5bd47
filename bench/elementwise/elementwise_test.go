package elementwise

import (
	"math"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/throughput"
)

// small is a step small enough to count by hand: 2 sequences of 8 tokens,
// d 16 in 2 heads of 8, ffn 44, vocabulary 11, 1 block.
var small = model.Config{Vocab: 11, Dim: 16, Layers: 1, Heads: 2, FFN: 44, SeqLen: 8, NormEps: 1e-6, RopeBase: 10000}

// TestBytes holds each pass's byte counts to values worked out by hand for
// the small step (n = 16 rows, n·ffn = 704, 4 pairs of 8×8 scores whose
// causal part is 36 entries, 3,536 parameters), in floats × 4.
func TestBytes(t *testing.T) {
	want := map[string][3]int64{ // per step, bytes, footprint
		// 2·16·16 + 16 + 16 floats, both
		"rmsnorm fwd": {3, 4 * 544, 4 * 544},
		// 3·256 + 16 + 16 + 2·1·16 (one chunk: 16 rows < 64); footprint one partial
		"rmsnorm bwd": {3, 4 * 832, 4 * 816},
		"swiglu fwd":  {1, 4 * 4 * 704, 4 * 4 * 704},
		"swiglu bwd":  {1, 4 * 6 * 704, 4 * 6 * 704},
		// 4·(36 + 64); footprint 4·64
		"softmax fwd": {1, 4 * 400, 4 * 256},
		// 4·(72 + 64); footprint (4 pairs + 4 scratch chunks)·64
		"softmax bwd": {1, 4 * 544, 4 * 512},
		// 2·256 + 8·8 (cos and sin, 8 positions × 4)
		"rotary": {4, 4 * 576, 4 * 576},
		// 7 and 4 arrays of 352 + (1024 + 2112 + 32) + 16 = 3,536
		"adamw": {1, 4 * 7 * 3536, 4 * 4 * 3536},
	}
	cs := Cases(NewShape(small, 2))
	if len(cs) != len(want) {
		t.Fatalf("%d cases, want %d", len(cs), len(want))
	}
	for _, c := range cs {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("unexpected case %q", c.Name)
			continue
		}
		if got := [3]int64{int64(c.PerStep), c.Bytes, c.Footprint}; got != w {
			t.Errorf("%s: per step, bytes, footprint = %v, want %v", c.Name, got, w)
		}
	}
}

// TestParamSizes holds AdamW's tensors to the model's parameter count, at
// the small step and at every Table 4 width.
func TestParamSizes(t *testing.T) {
	p, err := experiments.Get("tiny")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := throughput.Widths(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfgs := []model.Config{small}
	for _, w := range ws {
		cfg, err := w.Config(p)
		if err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, cfg.Model)
	}
	for _, m := range cfgs {
		sum := 0
		for _, n := range NewShape(m, 1).paramSizes() {
			sum += n
		}
		if sum != m.NumParams() {
			t.Errorf("d %d: parameter tensors sum to %d, NumParams %d", m.Dim, sum, m.NumParams())
		}
	}
}

// TestForwardPassesAreTheOps holds the forward passes, driven as the
// benchmark drives them, to kernels' ops, bit for bit: the passes call the
// functions the ops call, and this fails if an op stops calling them or
// calls them otherwise (a cut, a table) than the benchmark does.
func TestForwardPassesAreTheOps(t *testing.T) {
	s := NewShape(small, 2)
	n, d, ff := s.Rows(), s.Dim, s.FFN
	c := kernels.NewCtx(1)

	x, g := filled(n*d, 1), filled(d, 2)
	y, inv := make([]float32, n*d), make([]float32, n)
	kernels.RMSNormRows(y, inv, x, g, d, float32(s.NormEps))
	same(t, "rmsnorm", y, kernels.Data(c.RMSNorm(kernels.NewMat(n, d, x), kernels.NewMat(1, d, g), float32(s.NormEps))))

	gate, up := filled(n*ff, 3), filled(n*ff, 4)
	y, sig := make([]float32, n*ff), make([]float32, n*ff)
	swigluForward(y, sig, gate, up)
	same(t, "swiglu", y, kernels.Data(c.SwiGLU(kernels.NewMat(n, ff, gate), kernels.NewMat(n, ff, up))))

	cos, sin := kernels.RopeTable(s.SeqLen, s.headDim(), s.RopeBase)
	y = make([]float32, n*d)
	kernels.RotaryRows(y, x, cos, sin, d, s.Heads, s.SeqLen, 0, n, 1)
	same(t, "rotary", y, kernels.Data(c.Rotary(kernels.NewMat(n, d, x), s.Heads, s.SeqLen, s.RopeBase)))
}

func same(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, op gives %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d = %v, op gives %v", name, i, got[i], want[i])
		}
	}
}

// TestMeasure runs every case at the small step: each pass runs and gives
// positive rates, whatever their values (the machine may be busy).
func TestMeasure(t *testing.T) {
	for _, c := range Cases(NewShape(small, 2)) {
		r := Measure(c, 2)
		if len(r.GBs) != 2 || r.GBs[0] <= 0 || r.GBs[0] > r.GBs[1] || r.PassSec <= 0 {
			t.Errorf("%s: implausible %+v", c.Name, r)
		}
	}
}
