package main

import (
	"fmt"

	"github.com/relorago/harness/budget"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
)

// budgetCmd compares the methods at equal training compute: Table 1's runs
// against the FLOPs they spent (reused from the cache or the records,
// trained if neither has them), and the equal-FLOP budget experiment
// (experiments.Budget: full-rank, ReLoRA, LoRA+WS and the control with
// full-rank's FLOPs, at a width where ReLoRA's step is faster).
func budgetCmd(args []string) error {
	m, p, err := parseMatrix("budget", args)
	if err != nil {
		return err
	}
	spec, err := experiments.Budget(p)
	if err != nil {
		return err
	}
	if m.commands { // the run list of both matrices, then exit
		if _, _, err := m.execute(experiments.Ablation(p)); err != nil {
			return err
		}
		_, _, err := m.execute(spec.Runs)
		return err
	}
	t, _, _, err := makeBudget(m, p, spec, true)
	if err != nil {
		return err
	}
	fmt.Print(t.Markdown())
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, budget.MarkdownFile, budget.JSONFile)
	return nil
}

// makeBudget trains (or reuses) Table 1's runs and the equal-FLOP matrix,
// records both, and writes the budget tables and figures; it returns the
// table and the equal-FLOP runs that have a result, with their outcomes
// (Table 1's runs belong to Table 1's section of the report). Unless
// trainMissing, equal-FLOP runs that neither the cache nor the records
// hold are left untrained and counted as missing: the report renders what
// exists and says which target trains the rest.
func makeBudget(m *matrixFlags, p experiments.Preset, spec experiments.BudgetSpec, trainMissing bool) (*budget.Table, []experiments.Run, []runner.Outcome, error) {
	t1Runs, t1Outs, _, err := m.executeAllSeeds(experiments.Ablation(p))
	if err != nil {
		return nil, nil, nil, err
	}
	if err := m.record(t1Outs); err != nil {
		return nil, nil, nil, err
	}
	have, outs, bRuns, bOuts, err := m.executeAvailable(spec.Runs, trainMissing)
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := budget.Build(p, spec, t1Runs, t1Outs, bRuns, bOuts)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, have, outs, budget.Write(m.results, t)
}
