package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestShapeStatsByShape checks the accounting by shape: calls, FLOPs (the
// triangular modes' only for the products they compute) and a time each.
func TestShapeStatsByShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a, b, c := randSlice(rng, 64*64), randSlice(rng, 64*64), make([]float32, 64*64)
	EnableStats(true)
	defer EnableStats(false)
	for range 3 {
		Sgemm(false, true, 64, 32, 16, 1, a, 16, b, 16, 0, c, 32)
	}
	SgemmTri(LowerC, false, true, 64, 64, 16, 1, a, 16, b, 16, 0, c, 64)
	st := ShapeStats()
	if len(st) != 2 {
		t.Fatalf("%d shapes: %+v", len(st), st)
	}
	flops, _ := Stats()
	var sum int64
	for _, s := range st {
		sum += s.Flops
		switch s.Shape {
		case Shape{Full, false, true, 64, 32, 16}:
			if s.Calls != 3 || s.Flops != 3*2*64*32*16 || s.Spent <= 0 {
				t.Errorf("Sgemm shape %+v", s)
			}
		case Shape{LowerC, false, true, 64, 64, 16}:
			if s.Calls != 1 || s.Flops != triFlops(LowerC, 64, 64, 16) {
				t.Errorf("SgemmTri shape %+v", s)
			}
		default:
			t.Errorf("unexpected shape %+v", s)
		}
	}
	if sum != flops {
		t.Errorf("shapes sum to %d FLOPs, Stats says %d", sum, flops)
	}
	EnableStats(true)
	if len(ShapeStats()) != 0 {
		t.Error("EnableStats did not clear the shapes")
	}
}
