package claims

import (
	"fmt"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
	"github.com/relorago/harness/verdict"
)

// Step is one claim's share of a seed plan: the seeds that would decide
// it, and the runs that are not trained yet.
type Step struct {
	ID     string
	Seeds  int // seeds per cell after the step
	Runs   []experiments.Run
	Hours  float64 // core-hours of Runs, at their rows' measured run times
	Before verdict.Outcome
}

// Plan picks the undecided claims that are cheapest to decide and fit in
// budgetHours core-hours, cheapest first: for each, the seeds its power
// analysis asks for (verdict.Outcome.Needed), minus the runs that have
// (has) or that an earlier step already plans. A claim out of reach, or
// whose runs cannot be trained or have no measured cost, is skipped.
func (j *Judged) Plan(p experiments.Preset, budgetHours float64, has func(train.Config) bool) ([]Step, error) {
	planned := map[string]bool{}
	var steps []Step
	left := budgetHours
	candidates := slices.DeleteFunc(slices.Clone(j.Results), func(r Result) bool {
		return r.Outcome.Verdict != verdict.Inconclusive || r.runs == nil || r.UnitHours <= 0 || r.Outcome.Needed <= r.Units()
	})
	for len(candidates) > 0 {
		best, bestStep := -1, Step{}
		for i, r := range candidates {
			s, err := j.step(p, r, has, planned)
			if err != nil {
				return nil, err
			}
			if s.Hours <= left && (best < 0 || s.Hours < bestStep.Hours) {
				best, bestStep = i, s
			}
		}
		if best < 0 {
			break
		}
		for _, run := range bestStep.Runs {
			planned[runner.Hash(run.Config)] = true
		}
		left -= bestStep.Hours
		steps = append(steps, bestStep)
		candidates = slices.Delete(candidates, best, best+1)
	}
	return steps, nil
}

// step is what deciding r would train now.
func (j *Judged) step(p experiments.Preset, r Result, has func(train.Config) bool, planned map[string]bool) (Step, error) {
	n := r.Outcome.Needed
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	runs, err := r.runs(p, seeds)
	if err != nil {
		return Step{}, fmt.Errorf("claim %s: %w", r.ID, err)
	}
	s := Step{ID: r.ID, Seeds: n, Before: r.Outcome}
	seen := map[string]bool{}
	for _, run := range runs {
		h := runner.Hash(run.Config)
		if seen[h] || planned[h] || has(run.Config) {
			continue
		}
		seen[h] = true
		s.Runs = append(s.Runs, run)
	}
	// Every seed of a run costs what its measured seeds cost on average.
	for _, run := range s.Runs {
		s.Hours += j.runSeconds[SeedlessHash(run.Config)] / 3600
	}
	return s, nil
}
