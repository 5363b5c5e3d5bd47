package train

import (
	"math"

	"github.com/relorago/harness/data"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

// Eval is one validation measurement.
type Eval struct {
	Step        int     `json:"step"`
	Loss        float64 `json:"loss"`          // nats per token
	Perplexity  Number  `json:"perplexity"`    // e^loss
	BitsPerByte float64 `json:"bits_per_byte"` // loss / ln 2 (one token is one byte)
}

// Evaluate returns the mean loss over every validation token.
func Evaluate(c *kernels.Ctx, m *model.Model, val *data.Validation, batch, step int) (Eval, error) {
	seq := m.Config.SeqLen
	inputs, targets := make([]int32, batch*seq), make([]int32, batch*seq)
	var sum float64
	var tokens int
	for i := 0; i < val.NumBatches(); i++ {
		rows := val.Batch(i, inputs, targets)
		c.Reset()
		loss, err := m.Loss(c, inputs[:rows*seq], targets[:rows*seq])
		if err != nil {
			return Eval{}, err
		}
		sum += float64(kernels.Data(loss.Value())[0]) * float64(rows*seq)
		tokens += rows * seq
	}
	l := sum / float64(tokens)
	return Eval{Step: step, Loss: l, Perplexity: Number(math.Exp(l)), BitsPerByte: l / math.Ln2}, nil
}
