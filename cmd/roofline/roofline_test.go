package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/throughput"
	"github.com/relorago/harness/train"
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

// TestMemSection prints the elementwise section at the quick preset's
// widths: every pass and each width's sum appear, with the stream lines.
func TestMemSection(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := throughput.Widths(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfgs := make([]train.Config, len(ws))
	for i, w := range ws {
		if cfgs[i], err = w.Config(p); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	memSection(&b, p.Name, ws, cfgs, 1)
	out := b.String()
	for _, want := range []string{"copy  1 thread", "triad 1 thread", "rmsnorm fwd", "rmsnorm bwd", "swiglu fwd",
		"swiglu bwd", "softmax fwd", "softmax bwd", "rotary", "adamw"} {
		if got := strings.Count(out, want); got < 1 {
			t.Errorf("no %q in the section:\n%s", want, out)
		}
	}
	sums := 0
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[1] == "all" && f[2] == "passes" {
			sums++
		}
	}
	if sums != len(ws) {
		t.Errorf("%d \"all passes\" rows, want one a width (%d):\n%s", sums, len(ws), out)
	}
}
