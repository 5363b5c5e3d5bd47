package spectra

import (
	"encoding/binary"
	"io"
	"math"
	"strconv"

	"github.com/nlpodyssey/safetensors"

	"github.com/relorago/harness/atomicfile"
)

// ExportFile names the safetensors file of a run's effective weights after
// a step; it lives in the run folder, next to the checkpoint it comes from
// (the files are as large as the model, too large for results/).
func ExportFile(step int) string { return "effective-" + strconv.Itoa(step) + ".safetensors" }

// f32View is a row-major float32 matrix as a safetensors.View. The bytes are
// produced on demand: SerializeToWriter asks for them once, while the
// file is written, so no second copy of the whole model is held.
type f32View struct {
	rows, cols int
	data       []float32
}

// DType implements safetensors.View.
func (v f32View) DType() safetensors.DType { return safetensors.F32 }

// Shape implements safetensors.View: [out, in], as PyTorch's Linear.weight.
func (v f32View) Shape() []uint64 { return []uint64{uint64(v.rows), uint64(v.cols)} }

// DataLen implements safetensors.View.
func (v f32View) DataLen() uint64 { return 4 * uint64(len(v.data)) }

// Data implements safetensors.View: little-endian IEEE 754, as the format
// requires.
func (v f32View) Data() []byte {
	b := make([]byte, 0, 4*len(v.data))
	for _, x := range v.data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// toView rounds a float64 matrix to float32, the precision the model runs in.
func toView(rows, cols int, at func(i, j int) float64) f32View {
	v := f32View{rows: rows, cols: cols, data: make([]float32, rows*cols)}
	for i := range rows {
		for j := range cols {
			v.data[i*cols+j] = float32(at(i, j))
		}
	}
	return v
}

// export writes w as an F32 safetensors file with the given metadata. The
// file is streamed to a temporary file beside path and renamed into place,
// so an interrupted export never leaves a truncated file behind.
func export(path string, w weights, meta map[string]string) error {
	views := make(map[string]f32View, len(w))
	for name, m := range w {
		r, c := m.Dims()
		views[name] = toView(r, c, m.At)
	}
	return atomicfile.WriteStream(path, func(w io.Writer) error { return safetensors.SerializeToWriter(views, meta, w) })
}
