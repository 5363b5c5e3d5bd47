package kernels

import (
	"math"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// Rotary applies rotary position embeddings (Su et al. 2021, as in LLaMA) to
// x [n×d] holding `heads` heads side by side; row r is position r mod seqLen.
// Within a head of size hd, dimension i pairs with i+hd/2 (the "rotate_half"
// layout of the Hugging Face LLaMA the official ReLoRA code trains) and is
// rotated by angle pos·base^(−2i/hd).
func (c *Ctx) Rotary(x mat.Tensor, heads, seqLen int, base float64) mat.Tensor {
	f := c.ops.rotary.get()
	*f = rotaryFn{c: c, x: x, heads: heads, seqLen: seqLen, base: base}
	return run(f)
}

type rotaryFn struct {
	c             *Ctx
	operands      [1]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y             *Mat          // forward output, whose seq orders the gradients this op sends
	x             mat.Tensor
	heads, seqLen int
	base          float64
	// rotate's operands, for rotaryRows
	src, dst []float32
	sign     float32
	tab      *ropeTable
}

// rotaryRows is rotate's work on a range of rows.
type rotaryRows rotaryFn

func (f *rotaryRows) chunk(_, lo, hi int) {
	RotaryRows(f.dst, f.src, f.tab.cos, f.tab.sin, ValueOf(f.x).cols, f.heads, f.seqLen, lo, hi, f.sign)
}

// RotaryRows rotates rows lo..hi-1 of src [n×d], `heads` heads side by side,
// into dst: in each head of size hd, the pairs (i, i+hd/2) of row r by
// sign times position r mod seqLen's angles, from RopeTable's cos and sin
// (sign −1 is the backward, the rotation's inverse). Rotary's op calls it
// on each chunk of rows; bench/elementwise times it.
func RotaryRows(dst, src, cos, sin []float32, d, heads, seqLen, lo, hi int, sign float32) {
	half := d / heads / 2
	for r := lo; r < hi; r++ {
		pos := r % seqLen
		cs, sn := cos[pos*half:(pos+1)*half], sin[pos*half:(pos+1)*half]
		vecmath.RotateHeads(dst[r*d:(r+1)*d], src[r*d:(r+1)*d], cs, sn, heads, sign)
	}
}

type ropeTable struct{ cos, sin []float32 } // [seqLen × hd/2]

type ropeKey struct {
	seqLen, hd int
	base       uint64
}

func (c *Ctx) ropeTable(seqLen, hd int, base float64) *ropeTable {
	c.ropeMu.Lock()
	defer c.ropeMu.Unlock()
	// The base's exact bits: two bases with one integer part (10.2, 10.9)
	// must not share a table.
	key := ropeKey{seqLen, hd, math.Float64bits(base)}
	if t, ok := c.rope[key]; ok {
		return t
	}
	t := &ropeTable{}
	t.cos, t.sin = RopeTable(seqLen, hd, base)
	c.rope[key] = t
	return t
}

// RopeTable returns the cosines and sines of the angles pos·base^(−2i/hd),
// [seqLen × hd/2] each, row pos holding i = 0..hd/2−1. Rotary's op makes its
// table with it (once per Ctx and shape); bench/elementwise too.
func RopeTable(seqLen, hd int, base float64) (cos, sin []float32) {
	half := hd / 2
	cos, sin = make([]float32, seqLen*half), make([]float32, seqLen*half)
	for p := 0; p < seqLen; p++ {
		for i := 0; i < half; i++ {
			theta := float64(p) * math.Pow(base, -2*float64(i)/float64(hd))
			cos[p*half+i] = float32(math.Cos(theta))
			sin[p*half+i] = float32(math.Sin(theta))
		}
	}
	return cos, sin
}

func (f *rotaryFn) Operands() []mat.Tensor {
	f.operands = [1]mat.Tensor{f.x}
	return f.operands[:]
}

func (f *rotaryFn) Forward() (mat.Tensor, error) {
	x := ValueOf(f.x)
	y := f.c.newOut(x.rows, x.cols)
	f.y = y
	f.rotate(x.data, y.data, 1)
	return y, nil
}

// Backward rotates the gradient by the opposite angle (a rotation's
// transpose is its inverse).
func (f *rotaryFn) Backward(gy mat.Tensor) error {
	if !f.x.RequiresGrad() {
		return nil
	}
	x := ValueOf(f.x)
	dx := f.c.gradFrom(f.y, x.rows, x.cols)
	f.rotate(Data(gy), dx.data, -1)
	f.x.AccGrad(dx)
	return nil
}

func (f *rotaryFn) rotate(src, dst []float32, sign float32) {
	x := ValueOf(f.x)
	f.src, f.dst, f.sign = src, dst, sign
	f.tab = f.c.ropeTable(f.seqLen, x.cols/f.heads, f.base)
	f.c.parallel(x.rows, 64, (*rotaryRows)(f))
}
