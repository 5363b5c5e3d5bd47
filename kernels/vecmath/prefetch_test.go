package vecmath

import (
	"slices"
	"testing"
)

// Prefetch is a hint: on empty, short, unaligned and long slices it
// returns without changing a value.
func TestPrefetchChangesNothing(t *testing.T) {
	x := make([]float32, 1000)
	for i := range x {
		x[i] = float32(i) - 0.5
	}
	want := slices.Clone(x)
	for _, s := range [][]float32{nil, x[:0], x[3:4], x[5:22], x[1:], x} {
		Prefetch(s)
	}
	if !slices.Equal(x, want) {
		t.Fatal("Prefetch changed a value")
	}
}
