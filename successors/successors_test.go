package successors

import (
	"math"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// fakeLoss is a valley in log-rate with its floor at best × the method's
// centre, so the search's path is known in advance.
func fakeLoss(s experiments.SuccessorsSpec, r experiments.Run, best float64) float64 {
	x := math.Log2(rateOf(r) / (best * s.Centre(r.Row)))
	return 1 + x*x
}

func outcome(loss float64, status string) runner.Outcome {
	return runner.Outcome{Result: &train.Result{Status: status, Steps: 10, TrainSeconds: 1,
		FinalVal: train.Eval{Loss: loss, Perplexity: train.Number(math.Exp(loss))}}}
}

// The search extends each method's rates a factor of 2 at a time past the
// best end until the best is interior, and no further.
func TestSearchRoundsFindAnInteriorBest(t *testing.T) {
	p, _ := experiments.Get("default")
	s, _ := experiments.Successors(p)
	bestAt := map[string]float64{ // the valley's floor, as a multiple of the centre
		experiments.RowScalingFull: 4, experiments.RowScalingReLoRA: 1,
		experiments.RowSuccessorGaLore: 0.25, experiments.RowSuccessorLowRank: 1000}
	rounds := 0
	runs, outs, err := searchRates(s, func(runs []experiments.Run) ([]runner.Outcome, error) {
		rounds++
		outs := make([]runner.Outcome, len(runs))
		for i, r := range runs {
			outs[i] = outcome(fakeLoss(s, r, bestAt[r.Row]), train.StatusOK)
		}
		return outs, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pts := Points(runs, outs)
	want := map[string]int{ // rates searched: the floor's rate, and one past it to see it is the floor
		experiments.RowScalingFull: 5, experiments.RowScalingReLoRA: 3,
		experiments.RowSuccessorGaLore: 5, experiments.RowSuccessorLowRank: experiments.SearchMaxRates}
	for m, n := range want {
		if len(pts[m]) != n {
			t.Errorf("%s: %d rates searched, want %d: %v", m, len(pts[m]), n, pts[m])
		}
	}
	c := chosen(runs, outs)
	if c[experiments.RowScalingFull] != 4*s.Centre(experiments.RowScalingFull) ||
		c[experiments.RowSuccessorGaLore] != 0.25*s.Centre(experiments.RowSuccessorGaLore) {
		t.Errorf("chosen %v", c)
	}
	if rounds != 1+experiments.SearchMaxRates-3 {
		t.Errorf("%d rounds", rounds)
	}
}

// A round not trained yet stops the search with the runs so far.
func TestSearchStopsAtAnUntrainedRound(t *testing.T) {
	p, _ := experiments.Get("default")
	s, _ := experiments.Successors(p)
	runs, outs, err := searchRates(s, func([]experiments.Run) ([]runner.Outcome, error) { return nil, nil })
	if err != nil || outs != nil || len(runs) != 3*len(experiments.SuccessorMethods) {
		t.Errorf("%d runs, outcomes %v, err %v", len(runs), outs, err)
	}
}

// The table drops the search seed from the ladder's cells, counts a
// diverged search run as +Inf, and never chooses it.
func TestTableReportsNoRunItsRateWasChosenOn(t *testing.T) {
	p, _ := experiments.Get("default")
	s, _ := experiments.Successors(p)
	search, _ := s.FirstSearch()
	searchOuts := make([]runner.Outcome, len(search))
	for i := range search {
		searchOuts[i] = outcome(2+float64(i%3)/10, train.StatusOK) // the lowest rate wins
	}
	searchOuts[0] = outcome(math.NaN(), train.StatusDiverged)
	c := chosen(search, searchOuts)
	ladder, err := s.LadderRuns(c, []uint64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	extra := search[4] // ReLoRA's centre at the search rung and seed: what the cache offers as "another seed"
	ladder = append(ladder, extra)
	ladderOuts := make([]runner.Outcome, len(ladder))
	for i := range ladder {
		ladderOuts[i] = outcome(1, train.StatusOK)
	}
	ladder, ladderOuts = withoutSearchSeed(ladder, ladderOuts)
	tb, err := Build(s, search, searchOuts, ladder, ladderOuts)
	if err != nil {
		t.Fatal(err)
	}
	full := tb.Searches[experiments.RowScalingFull]
	if !math.IsInf(full.Points[0].Loss, 1) || full.Chosen != full.Points[1].LR {
		t.Errorf("full training's search: %+v", full)
	}
	for m, bySize := range tb.Cells {
		for size, cell := range bySize {
			if len(cell.Seeds) != 2 || cell.Seeds[0] != 1 || cell.Seeds[1] != 2 {
				t.Errorf("%s at %s: seeds %v", m, size, cell.Seeds)
			}
		}
	}
	md := tb.Markdown()
	for _, want := range []string{"Learning-rate search at 0.1M", "diverged", "Memory, measured", "Not measured yet", "GaLore's Table 2"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}
