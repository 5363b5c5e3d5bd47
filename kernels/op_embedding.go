package kernels

import (
	"fmt"

	"github.com/nlpodyssey/spago/mat"
)

// Embedding returns the rows of table [vocab×dim] selected by ids: [len(ids)×dim].
func (c *Ctx) Embedding(table mat.Tensor, ids []int32) mat.Tensor {
	f := c.ops.embedding.get()
	*f = embeddingFn{c: c, table: table, ids: ids}
	return run(f)
}

type embeddingFn struct {
	c        *Ctx
	operands [1]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y        *Mat          // forward output, whose seq orders the gradients this op sends
	table    mat.Tensor
	ids      []int32
}

func (f *embeddingFn) Operands() []mat.Tensor {
	f.operands = [1]mat.Tensor{f.table}
	return f.operands[:]
}

func (f *embeddingFn) Forward() (mat.Tensor, error) {
	t := ValueOf(f.table)
	y := f.c.newOut(len(f.ids), t.cols)
	for i, id := range f.ids {
		if id < 0 || int(id) >= t.rows {
			// Callers validate tokens; an op error would end the process inside spago.
			panic(fmt.Sprintf("kernels: embedding: token %d at position %d outside vocabulary of %d", id, i, t.rows))
		}
		copy(y.data[i*t.cols:(i+1)*t.cols], t.data[int(id)*t.cols:(int(id)+1)*t.cols])
	}
	f.y = y
	return y, nil
}

// Backward scatter-adds dy's rows into the table's gradient, sequentially:
// two positions may hold the same token, and a fixed order keeps the sum
// reproducible.
func (f *embeddingFn) Backward(gy mat.Tensor) error {
	if !f.table.RequiresGrad() {
		return nil
	}
	t, dy := ValueOf(f.table), Data(gy)
	f.c.accumulateGEMM(f.y, f.table, t.rows, t.cols, func(dst []float32, beta float32) {
		if beta == 0 {
			clear(dst)
		}
		d := t.cols
		for i, id := range f.ids {
			row := dst[int(id)*d : (int(id)+1)*d]
			src := dy[i*d : (i+1)*d]
			for j := range row {
				row[j] += src[j]
			}
		}
	})
	return nil
}
