package throughput

import (
	"math"
	"testing"
	"time"

	"github.com/relorago/harness/experiments"
)

// TestProgressEstimate checks the estimate's arithmetic on a plan of
// three speed probes (two alike on one thread, one on two) and two memory
// probes, with round work set by hand: a probe like one done is estimated
// to take what that one took, twice the work per round means rounds of
// 2·2^workExponent the time and so fewer of them (the Seconds rule), a
// second thread divides the time
// by twoThreadGain until a two-thread probe has run, and memory probes
// run two at a time.
func TestProgressEstimate(t *testing.T) {
	p, err := experiments.Get("default")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := Widths(p, []int{64})
	if err != nil {
		t.Fatal(err)
	}
	speed := Spec{Preset: p.Name, Width: ws[0], Threads: 1, Variants: []Variant{{8, true}},
		Warmup: 1, MinRounds: 5, MaxRounds: 12, Seconds: 75}
	two := speed
	two.Threads = 2
	mem := Spec{Preset: p.Name, Width: ws[0], Threads: 1, Memory: &Variant{}}
	plan := Plan{Preset: p.Name, Widths: ws, Speed: []Spec{speed, speed, two}, Memory: []Spec{mem, mem}}
	pr, err := NewProgress(p, plan)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * ws[0].fullFLOPs(t, p); pr.work[0] != want {
		t.Fatalf("a round's work %g, want %g (two step kinds of the full-rank step's FLOPs)", pr.work[0], want)
	}
	if _, ok := pr.Left(0); ok {
		t.Fatal("an estimate before any probe ran")
	}
	// Probe 0: 5 s rounds (1 s per unit of work), 75 s fill 15, clamped to
	// 12, after 1 warm-up: 13 rounds, plus the setup.
	pr.work = []float64{5, 10, 5}
	pr.memWork = []float64{5, 5}
	took := 13*5*time.Second + probeSetup
	pr.Done(0, Measurement{Spec: speed, Full: Kind{StepMillis: make([]float64, 12)}}, took)

	// Probe 1 has twice the work: 10·2^-0.1 = 9.33 s rounds, 9 fill 75 s,
	// 10 with the warm-up. Probe 2 on two threads: 5 s / 1.6 rounds, 24
	// fill 75 s, 13 with the clamp. Memory: (5 s + 1 s) each, two at a
	// time.
	round1 := 10 * math.Pow(2, workExponent)
	probe1 := time.Duration(10*round1*float64(time.Second)) + probeSetup
	probe2 := time.Duration(13*5/twoThreadGain*float64(time.Second)) + probeSetup
	memory := 2 * (5*time.Second + memSetup) / 2
	for _, c := range []struct {
		next int
		want time.Duration
	}{{1, probe1 + probe2 + memory}, {2, probe2 + memory}, {3, memory}} {
		got, ok := pr.Left(c.next)
		if !ok || math.Abs((got-c.want).Seconds()) > 1e-6 {
			t.Errorf("left from probe %d: %v (%v), want %v", c.next, got, ok, c.want)
		}
	}
	// Once a two-thread probe has run, its own rate counts.
	pr.Done(2, Measurement{Spec: two, Full: Kind{StepMillis: make([]float64, 12)}}, 13*2*time.Second+probeSetup)
	if got, _ := pr.Left(2); math.Abs((got - (13*2*time.Second + probeSetup + memory)).Seconds()) > 1e-6 {
		t.Errorf("left from probe 2 after it ran: %v", got)
	}
}

// fullFLOPs is the FLOP model of a full-rank step at the width.
func (w Width) fullFLOPs(t *testing.T, p experiments.Preset) float64 {
	cfg, err := w.Config(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Model.FLOPsPerStep(cfg.Batch, 0, 0)
}
