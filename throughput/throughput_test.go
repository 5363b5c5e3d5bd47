package throughput

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relorago/harness/bench/peak"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/kernels/gemm"
)

func TestWidthsFollowThePaper(t *testing.T) {
	p, _ := experiments.Get("default")
	ws, err := Widths(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][3]int{64: {4, 176, 8}, 128: {4, 352, 16}, 256: {4, 704, 32}, 512: {8, 1408, 64}, 1024: {16, 2816, 128}}
	if len(ws) != len(want) {
		t.Fatalf("%d widths", len(ws))
	}
	for _, w := range ws {
		x := want[w.Dim]
		if w.Heads != x[0] || w.FFN != x[1] || w.MainRank() != x[2] || w.Ranks[1] != x[2]/2 || w.Layers != 4 {
			t.Errorf("width %+v, want heads %d, ffn %d, ranks %d and %d, 4 layers", w, x[0], x[1], x[2], x[2]/2)
		}
		if hd := w.Dim / w.Heads; hd < 16 || hd > 64 {
			t.Errorf("d %d: head size %d", w.Dim, hd)
		}
	}
}

// fakeMeasure makes up a plan's measurements: every ReLoRA step takes
// 1/speedup(rank, fused) of the full-rank step, with a small alternating
// wobble per round so that intervals have a width.
func fakeMeasure(plan Plan, speedup func(dim, rank int, fused bool) float64) (speed, memory []Measurement) {
	for _, s := range plan.Speed {
		m := Measurement{Spec: s, Load: []float64{2.5, 3}, Peak: []float64{90 - float64(len(speed)), 91}}
		m.Full = Kind{FLOPs: 100, GEMMMillis: [][]float64{{60, 60, 60}, {0, 0, 0}, {10, 10, 10}}, GEMMFLOPs: []float64{6e9, 0, 1e9}}
		for r := 0; r < 3; r++ {
			m.Full.StepMillis = append(m.Full.StepMillis, 100)
			m.Full.StepCPUMillis = append(m.Full.StepCPUMillis, 100*float64(s.Threads))
		}
		for _, v := range s.Variants {
			k := Kind{Variant: v, FLOPs: 80, GEMMMillis: [][]float64{{40, 40, 40}, {15, 15, 15}, {10, 10, 10}}, GEMMFLOPs: []float64{4e9, 1e9, 1e9}}
			sp := speedup(s.Width.Dim, v.Rank, v.Fused)
			for r := 0; r < 3; r++ {
				ms := 100 / (sp * (1 + 0.01*float64(r-1)))
				// The CPU clock gives the speed-up; the wall clock is off by
				// other work on the core (one thread: the ratio uses CPU time).
				k.StepMillis = append(k.StepMillis, ms*1.3)
				k.StepCPUMillis = append(k.StepCPUMillis, ms*float64(s.Threads))
			}
			m.Variants = append(m.Variants, k)
		}
		speed = append(speed, m)
	}
	for _, s := range plan.Memory {
		memory = append(memory, Measurement{Spec: s, Full: Kind{Variant: *s.Memory, Trainable: 10, Total: 20, OptFloats: 20, FLOPs: 1e9},
			ArenaBytes: 1e6, MaxRSSBytes: 2e6, Load: []float64{1}})
	}
	return speed, memory
}

func TestBuildPairsRoundsIntoSpeedups(t *testing.T) {
	p, _ := experiments.Get("default")
	ws, _ := Widths(p, nil)
	plan := NewPlan(p, ws, DefaultOptions)
	// 5 widths × 2 thread counts; memory: full, fused at 2 ranks, composed.
	if len(plan.Speed) != 10 || len(plan.Memory) != 20 || len(plan.Speed[0].Variants) != 4 {
		t.Fatalf("plan: %d speed probes (%d variants), %d memory probes", len(plan.Speed), len(plan.Speed[0].Variants), len(plan.Memory))
	}
	speed, memory := fakeMeasure(plan, func(d, r int, f bool) float64 { return 1.25 })
	tab, _ := Build(p, plan, speed, memory)
	c, ok := tab.Cell(512, 64, true, 1)
	if !ok || c.Clock != "cpu" || math.Abs(c.Speedup().Mean-1.25) > 0.01 || c.FLOPSpeedup != 1.25 || len(c.Ratios) != 3 {
		t.Fatalf("cell %+v: want the CPU-time speed-up 1.25 on one thread", c)
	}
	if c2, _ := tab.Cell(512, 64, true, 2); c2.Clock != "wall" || math.Abs(c2.Speedup().Mean-1.25/1.3) > 0.01 {
		t.Fatalf("2-thread cell %+v: want the wall-time speed-up", c2)
	}
	if tab.WarmFraction != 0.25 || math.Abs(Adjusted(1.25, 0.25)-1/(0.25+0.75/1.25)) > 1e-12 {
		t.Errorf("warm fraction %v", tab.WarmFraction)
	}
	if len(tab.Load) != 2 || tab.Load[0] != 1 || tab.Load[1] != 3 {
		t.Errorf("load %v", tab.Load)
	}
	if want := []float64{90 - float64(len(plan.Speed)-1), 91}; !slices.Equal(tab.FMAPeak, want) {
		t.Errorf("FMA peak range %v, want %v: the lowest and highest of the probes' readings", tab.FMAPeak, want)
	}
	dir := t.TempDir()
	tab.Backend, tab.Date, tab.CPU = gemm.Backend, "today", "Some CPU (family 1, model 2)"
	if err := Write(dir, tab); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{WidthFigure + ".png", WidthFigure + ".svg", MarkdownFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if short, shared := (&Table{FMAPeak: []float64{88, 90}}).PeakShortfall(); shared || math.Abs(short-2.0/90) > 1e-12 {
		t.Errorf("readings 88-90: shortfall %v, shared %v; want 2%%, not shared", short, shared)
	}
	back, err := Read(dir)
	if err != nil || len(back.Cells) != len(tab.Cells) || back.Cells[0].Dim != tab.Cells[0].Dim || len(back.ProbePeaks) != len(tab.ProbePeaks) {
		t.Fatalf("read back: %v", err)
	}
	if md := tab.Markdown(); !strings.Contains(md, "GEMM backend "+gemm.Backend+".") {
		t.Errorf("Markdown without a recorded kernel does not end the backend note as tables measured before it did")
	}
	// The fake readings fall probe by probe: the last probe read lowest.
	last := plan.Speed[len(plan.Speed)-1]
	if len(tab.ProbePeaks) != len(plan.Speed) || !slices.Equal(tab.ProbePeaks[0].GFLOPs, speed[0].Peak) {
		t.Errorf("probe readings %+v: want each speed probe's own", tab.ProbePeaks)
	}
	if md, want := tab.Markdown(), fmt.Sprintf("Here the lowest (d %d's %d-thread probe) was", last.Width.Dim, last.Threads); !strings.Contains(md, want) {
		t.Errorf("Markdown lacks %q", want)
	}
	old := *tab
	old.ProbePeaks = nil
	if md := old.Markdown(); !strings.Contains(md, "Here the lowest was") {
		t.Errorf("Markdown of a table without probe readings does not read as before")
	}
	tab.Kernel = "AVX-512"
	md := tab.Markdown()
	for _, want := range []string{"GEMM backend " + gemm.Backend + " (AVX-512 micro-kernel).", "1.25x [1.2", "WS-adjusted (25%)", "Where a step's time goes", "ReLoRA r=64 fused",
		"today on Some CPU (family 1, model 2)", fmt.Sprintf("read %.0f–91 GFLOP/s", tab.FMAPeak[0]), "100 GFLOP/s (110%)",
		"the host was shared"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}

func TestBuildRejectsMissingRounds(t *testing.T) {
	p, _ := experiments.Get("quick")
	ws, _ := Widths(p, nil)
	plan := NewPlan(p, ws, DefaultOptions)
	speed, memory := fakeMeasure(plan, func(int, int, bool) float64 { return 1 })
	speed[1].Variants[2].StepMillis = speed[1].Variants[2].StepMillis[:1]
	if _, err := Build(p, plan, speed, memory); err == nil {
		t.Fatal("built a speed-up from a variant with fewer rounds than its full-rank steps")
	}
	speed, memory = fakeMeasure(plan, func(int, int, bool) float64 { return 1 })
	if _, err := Build(p, plan, speed[:1], memory); err == nil {
		t.Fatal("built a table from fewer probes than planned")
	}
}

// TestMeasureQuick runs real probes of the quick preset's smallest width
// in this process: a speed probe pairs every variant with full-rank steps
// in every round and splits GEMM time by class; a memory probe reports the
// step's memory. No timing is asserted.
func TestMeasureQuick(t *testing.T) {
	p, _ := experiments.Get("quick")
	ws, _ := Widths(p, []int{16})
	plan := NewPlan(p, ws, Options{Threads: []int{1}, Warmup: 1, MinRounds: 2, MaxRounds: 2})
	m, err := Measure(plan.Speed[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Full.StepMillis) != 2 || len(m.Variants) != 4 {
		t.Fatalf("%d full-rank rounds, %d variants", len(m.Full.StepMillis), len(m.Variants))
	}
	if _, err := peak.Measure(1, 1); err == nil && (len(m.Peak) != 2 || m.Peak[0] <= 0 || m.Peak[1] <= 0) {
		t.Errorf("FMA peak readings %v: want one at the probe's start and one at its end", m.Peak)
	}
	for _, v := range m.Variants {
		if len(v.StepMillis) != 2 || v.FLOPs >= m.Full.FLOPs*2 || v.GEMMFLOPs[1] == 0 || v.Trainable >= v.Total {
			t.Errorf("variant %+v", v)
		}
	}
	if m.Full.GEMMFLOPs[0] == 0 || m.Full.GEMMFLOPs[1] != 0 || m.Full.GEMMFLOPs[2] == 0 {
		t.Errorf("full-rank GEMM FLOPs by class %v: want dense and attention, no low-rank", m.Full.GEMMFLOPs)
	}
	mm, err := Measure(plan.Memory[1])
	if err != nil {
		t.Fatal(err)
	}
	if mm.ArenaBytes == 0 || mm.MaxRSSBytes == 0 || mm.Full.Rank != ws[0].MainRank() || mm.Full.OptFloats != 2*mm.Full.Trainable {
		t.Errorf("memory probe %+v", mm)
	}
}
