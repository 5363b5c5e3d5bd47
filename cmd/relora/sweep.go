package main

import (
	"fmt"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/sweep"
)

// sweepCmd runs the sensitivity sweeps (reset interval, rank, pruning
// ratio) and writes sweep.md.
func sweepCmd(args []string) error {
	m, p, err := parseMatrix("sweep", args)
	if err != nil {
		return err
	}
	t, _, _, err := makeSweep(m, p, true)
	if err != nil || t == nil {
		return err
	}
	fmt.Print(t.Markdown())
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, sweep.MarkdownFile, sweep.JSONFile)
	return nil
}

// makeSweep trains (or reuses) the sweeps' runs and writes their files; the
// table is nil when -print-commands only printed. Unless trainMissing, runs
// that neither the cache nor the records hold are left untrained and their
// sweeps say so (the report renders the sweeps that are complete).
func makeSweep(m *matrixFlags, p experiments.Preset, trainMissing bool) (*sweep.Table, []experiments.Run, []runner.Outcome, error) {
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		return nil, nil, nil, err
	}
	if m.commands {
		_, _, err := m.execute(runs)
		return nil, nil, nil, err
	}
	have, outs, all, allOuts, err := m.executeAvailable(runs, trainMissing)
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := sweep.Build(p, sweeps, all, allOuts)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, have, outs, sweep.Write(m.results, t)
}

// mostCompleteSweep returns the runs of the sweep with the fewest runs that
// neither the cache nor the records hold.
func mostCompleteSweep(m *matrixFlags, p experiments.Preset) ([]experiments.Run, error) {
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		return nil, err
	}
	var best []experiments.Run
	fewest := -1
	for _, sw := range sweeps {
		var own []experiments.Run
		for _, r := range runs {
			if slices.Contains(sw.Points, r.Size) {
				own = append(own, r)
			}
		}
		if n := runner.Missing(experiments.Configs(own), m.runsDir, m.recordsDir()); fewest < 0 || n < fewest {
			best, fewest = own, n
		}
	}
	return best, nil
}
