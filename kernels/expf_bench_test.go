package kernels

import "testing"

var sink float32

func BenchmarkExpShift(b *testing.B) {
	xs := make([]float32, 4096)
	for i := range xs {
		xs[i] = float32(i%200)/10 - 15
	}
	dst := make([]float32, len(xs))
	for i := 0; i < b.N; i++ {
		sink += expShift(dst, xs, 0.5)
	}
}
