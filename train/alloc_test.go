package train

import (
	"fmt"
	"testing"
)

// The heap objects one warm training step of the nano preset allocates,
// at most: only spago's are left, three per operator (the Operator, its
// backward's channel and goroutine) and one in ag.Backward
// (docs/speed.md, "Allocations"). The fused LoRA op is one operator, as
// the linear it replaces, so ReLoRA's count is full-rank's. The parameter
// list and the optimizer's and gradient clip's lists are kept between
// steps: a count above these means something builds one again.
const (
	maxFullStepAllocs   = 103
	maxReLoRAStepAllocs = 103
)

// TestStepAllocations counts the heap allocations of warm training steps,
// full-rank, ReLoRA with the fused LoRA op and GaLore between two refreshes
// of its projectors (the model is full-rank's: only the optimizer differs),
// on 1 and 2 threads. The count does not depend on timing: the graph, the
// arena's buffers, the Mat headers and the operator structs repeat every
// step.
func TestStepAllocations(t *testing.T) {
	for _, tc := range []struct {
		name string
		rank int
		max  float64
	}{{"full", 0, maxFullStepAllocs}, {"relora", 4, maxReLoRAStepAllocs}, {"galore", 0, maxFullStepAllocs}} {
		for _, threads := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/threads=%d", tc.name, threads), func(t *testing.T) {
				cfg, err := Default("nano")
				if err != nil {
					t.Fatal(err)
				}
				cfg.Batch = 2
				s, err := NewStepper(cfg, threads, tc.rank)
				if err != nil {
					t.Fatal(err)
				}
				if tc.name == "galore" {
					// No refresh within the counted steps.
					s.opt.GaLore = &GaLoreConfig{Rank: 4, RefreshEvery: 1000, Scale: 0.25}
				}
				s.SetLoRAFused(true)
				allocs := warmStepAllocs(t, s.Step)
				if allocs > tc.max {
					t.Errorf("a warm step allocates %.1f heap objects, want at most %g", allocs, tc.max)
				}
			})
		}
	}
}

// StepListed, Table 4's timed step, allocates what the loop's step does and
// no more: the caller lists the parameters once.
func TestStepListedAllocations(t *testing.T) {
	cfg, err := Default("nano")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Batch = 2
	s, err := NewStepper(cfg, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	s.SetLoRAFused(true)
	trainable := s.m.Trainable()
	step := func() error {
		s.sampler.Next(s.inputs, s.targets)
		_, _, err := StepListed(s.c, s.m, trainable, s.opt, s.inputs, s.targets, 1e-4, 1)
		return err
	}
	allocs := warmStepAllocs(t, step)
	if want := float64(maxReLoRAStepAllocs); allocs > want {
		t.Errorf("a warm StepListed allocates %.1f heap objects, want at most %g", allocs, want)
	}
}

// warmStepAllocs is the heap objects one call of step allocates once three
// calls have filled the arena, the slabs and the optimizer state.
func warmStepAllocs(t *testing.T, step func() error) float64 {
	t.Helper()
	for range 3 {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	var stepErr error
	allocs := testing.AllocsPerRun(5, func() {
		if err := step(); err != nil {
			stepErr = err
		}
	})
	if stepErr != nil {
		t.Fatal(stepErr)
	}
	t.Logf("%.1f allocations per step", allocs)
	return allocs
}
