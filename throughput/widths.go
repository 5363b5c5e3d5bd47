package throughput

import (
	"fmt"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// Width is one model width of Table 4: the preset's model (its depth,
// vocabulary, sequence length and batch) at width Dim, with the paper's
// ≈2.75·d SwiGLU width and heads of 16 to 64 dimensions, and the LoRA ranks
// measured at it (d/8, the default preset's ratio, and d/16).
type Width struct {
	Dim    int   `json:"dim"`
	Heads  int   `json:"heads"`
	FFN    int   `json:"ffn"`
	Layers int   `json:"layers"`
	Ranks  []int `json:"ranks"`
}

// widthsByPreset are the widths each preset measures. The default and tiny
// presets go from their own width to 1024, 16× wider than the default
// preset's model and about the paper's 250M model's 768; the quick preset
// is a smoke test.
var widthsByPreset = map[string][]int{
	"default": {64, 128, 256, 512, 1024},
	"tiny":    {64, 128, 256, 512, 1024},
	"quick":   {16, 32},
}

// Widths returns the widths a preset measures (dims, when given, instead).
func Widths(p experiments.Preset, dims []int) ([]Width, error) {
	if len(dims) == 0 {
		dims = widthsByPreset[p.Name]
	}
	if len(dims) == 0 {
		return nil, fmt.Errorf("throughput: preset %q has no widths", p.Name)
	}
	var out []Width
	for _, d := range dims {
		w := NewWidth(d, p.Base.Model.Layers)
		if _, err := w.Config(p); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// NewWidth returns width d with layers blocks: ffn = 2.75·d rounded to an
// even number, heads of min(64, max(16, d/4)) dimensions (d 64: 4 heads of
// 16, d 128: 4 of 32, d 256: 4 of 64, d 1024: 16 of 64), ranks d/8 and d/16
// (at least 1).
func NewWidth(d, layers int) Width {
	hd := min(64, max(16, d/4))
	return Width{Dim: d, Heads: max(1, d/hd), FFN: int(2.75*float64(d)/2+0.5) * 2, Layers: layers,
		Ranks: []int{max(1, d/8), max(1, d/16)}}
}

// Config is the preset's base config with this width's model.
func (w Width) Config(p experiments.Preset) (train.Config, error) {
	cfg := p.Base
	m := &cfg.Model
	m.Dim, m.Heads, m.FFN, m.Layers = w.Dim, w.Heads, w.FFN, w.Layers
	if err := m.Validate(); err != nil {
		return train.Config{}, fmt.Errorf("throughput: width %d: %w", w.Dim, err)
	}
	return cfg, nil
}

// MainRank is the rank the claim is judged at: the preset's own rank-to-width
// ratio (the default preset's r 8 at d 64 is d/8), the first of Ranks.
func (w Width) MainRank() int { return w.Ranks[0] }

// flopsPerStep is the FLOP model of one step of cfg's model
// (model.Config.FLOPsPerStep): full-rank for rank 0, else a ReLoRA step
// with every block projection frozen and wrapped in rank-r factors, the
// split train.Stepper.FLOPs makes (frozen block weights, trainable
// embeddings, head, norms and factors).
func flopsPerStep(m model.Config, batch, rank, trainable int) float64 {
	if rank == 0 {
		return m.FLOPsPerStep(batch, 0, 0)
	}
	total := m.NumParams()
	dense := relora.TrainableParams(m, 0) // embeddings, head, norms
	return m.FLOPsPerStep(batch, total-dense, trainable-dense)
}
