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
	d := ValueOf(f.x).cols
	hd := d / f.heads
	half := hd / 2
	src, dst, tab := f.src, f.dst, f.tab
	for r := lo; r < hi; r++ {
		pos := r % f.seqLen
		cs, sn := tab.cos[pos*half:(pos+1)*half], tab.sin[pos*half:(pos+1)*half]
		for h := 0; h < f.heads; h++ {
			s := src[r*d+h*hd : r*d+(h+1)*hd]
			o := dst[r*d+h*hd : r*d+(h+1)*hd]
			vecmath.Rotate(o[:half], o[half:], s[:half], s[half:], cs, sn, f.sign)
		}
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
	half := hd / 2
	t := &ropeTable{cos: make([]float32, seqLen*half), sin: make([]float32, seqLen*half)}
	for p := 0; p < seqLen; p++ {
		for i := 0; i < half; i++ {
			theta := float64(p) * math.Pow(base, -2*float64(i)/float64(hd))
			t.cos[p*half+i] = float32(math.Cos(theta))
			t.sin[p*half+i] = float32(math.Sin(theta))
		}
	}
	c.rope[key] = t
	return t
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
