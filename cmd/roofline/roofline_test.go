package main

import (
	"slices"
	"testing"

	"github.com/relorago/harness/experiments"
)

func TestParseWidths(t *testing.T) {
	if got, err := parseWidths(""); err != nil || got != nil {
		t.Errorf(`parseWidths("") = %v, %v; want nil, nil`, got, err)
	}
	if got, err := parseWidths("64, 128"); err != nil || !slices.Equal(got, []int{64, 128}) {
		t.Errorf(`parseWidths("64, 128") = %v, %v; want [64 128]`, got, err)
	}
	for _, bad := range []string{"64,", "x", "0", "-8"} {
		if _, err := parseWidths(bad); err == nil {
			t.Errorf("parseWidths(%q): no error", bad)
		}
	}
}

// TestMeasure runs the quick preset's small model, full-rank and ReLoRA:
// on one goroutine the GEMM calls lie inside the step, so their time is
// part of it, whatever the machine's load.
func TestMeasure(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	for _, rank := range []int{0, p.Base.ReLoRA.Rank} {
		k, err := measure(p.Base, rank, 2)
		if err != nil {
			t.Fatal(err)
		}
		if k.stepMs <= 0 || k.gemmMs <= 0 || k.gemmMs > k.stepMs || k.gemmGFLOPs <= 0 || k.allocs < 0 {
			t.Errorf("rank %d: implausible measurement %+v", rank, k)
		}
	}
}
