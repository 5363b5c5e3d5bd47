package throughput

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
)

func TestBuildFromPlan(t *testing.T) {
	p, _ := experiments.Get("quick")
	plan := Plan(p, 1, 3, []int{2, 4, 8})
	// 3 memory probes + 3 setups + fused + ranks other than the preset's r = 4.
	if len(plan) != 3+len(Setups)+1+2 {
		t.Fatalf("plan has %d batches", len(plan))
	}
	var measured [][]Measurement
	for _, batch := range plan {
		var ms []Measurement
		for _, spec := range batch {
			tok := 1000.0 // full-rank
			if spec.Rank > 0 {
				tok = 1200 // every ReLoRA step 1.2x faster
			}
			m := Measurement{Spec: spec, TokensPerSec: tok, ExamplesPerSec: tok / 100, FLOPs: 1e9 / (tok / 1000)}
			if spec.Paired {
				m.FullTokensPerSec = 1000
			}
			ms = append(ms, m)
		}
		measured = append(measured, ms)
	}
	tab, err := Build(p, plan, measured)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Memory[0].Rank != 0 || tab.Memory[0].Paired || tab.Memory[1].Paired || !tab.Memory[2].Fused {
		t.Errorf("memory probes %+v must be unpaired full, ReLoRA and fused", tab.Memory)
	}
	two := tab.Rows[1]
	if two.Workers != 2 || two.FullTokS != 2000 || two.FullExS != 20 || math.Abs(two.Immediate-1.2) > 1e-12 {
		t.Errorf("2-worker row %+v: want summed throughput 2000 and speed-up 1.2", two)
	}
	// 1/(0.33/1000 + 0.67/1200) tokens/s.
	if want := 1 / (0.33/1000 + 0.67/1200.0); math.Abs(tab.Rows[0].AdjustedTokS-want) > 1e-9 {
		t.Errorf("warm-start-adjusted %v, want %v", tab.Rows[0].AdjustedTokS, want)
	}
	if len(tab.Ranks) != 3 || tab.Ranks[0].Rank != 2 || tab.Claims[0].Verdict != report.Reproduced {
		t.Errorf("ranks %+v, claim %+v", tab.Ranks, tab.Claims[0])
	}
	dir := t.TempDir()
	if err := Write(dir, tab); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, RankFigure+".png")); err != nil {
		t.Error(err)
	}
}

func TestMedianOfRoundsPicksEachProbesMedian(t *testing.T) {
	round := func(a, b float64) [][]Measurement {
		return [][]Measurement{{{TokensPerSec: a}}, {{TokensPerSec: b}, {TokensPerSec: b + 1}}}
	}
	got := MedianOfRounds([][][]Measurement{round(3, 10), round(1, 30), round(2, 20)})
	if got[0][0].TokensPerSec != 2 || got[1][0].TokensPerSec != 20 || got[1][1].TokensPerSec != 21 {
		t.Fatalf("medians %+v", got)
	}
}

func TestBuildRejectsUnpairedSpeedProbes(t *testing.T) {
	p, _ := experiments.Get("quick")
	plan := Plan(p, 1, 3, nil)
	var measured [][]Measurement
	for _, batch := range plan {
		var ms []Measurement
		for _, spec := range batch {
			ms = append(ms, Measurement{Spec: spec, TokensPerSec: 1000, ExamplesPerSec: 10})
		}
		measured = append(measured, ms)
	}
	if _, err := Build(p, plan, measured); err == nil {
		t.Fatal("built a speed-up from probes without paired full-rank steps")
	}
}

// The rank figure's log axis is over exactly the measured ranks (labelled
// one by one), ReLoRA's lines in ReLoRA's style, the 1× line in full-rank's.
func TestRankFigure(t *testing.T) {
	tab := &Table{Ranks: []RankRow{{Rank: 2, MeasuredRatio: 0.9, FLOPRatio: 1.2}, {Rank: 4, MeasuredRatio: 0.9, FLOPRatio: 1.1}, {Rank: 8, MeasuredRatio: 0.8, FLOPRatio: 1}}}
	lp := tab.rankPlot()
	if !lp.LogX || len(lp.XTicks) != 0 {
		t.Fatalf("want a log axis labelled by its data, got log %v, ticks %v", lp.LogX, lp.XTicks)
	}
	want := []float64{2, 4, 8}
	for _, s := range lp.Series[:2] {
		if !slices.Equal(s.X, want) {
			t.Errorf("%s: X %v, want %v", s.Name, s.X, want)
		}
	}
	relora, _ := report.MethodStyle("ReLoRA")
	full, _ := report.MethodStyle("Full-rank")
	for _, s := range lp.Series {
		st, ok := report.MethodStyle(s.Method)
		if !ok || (st.Color != relora.Color && st.Color != full.Color) {
			t.Errorf("%s: style %+v", s.Name, st)
		}
	}
}
