package main

import (
	"fmt"

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
	t, _, _, err := makeSweep(m, p)
	if err != nil || t == nil {
		return err
	}
	fmt.Print(t.Markdown())
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, sweep.MarkdownFile, sweep.JSONFile)
	return nil
}

// makeSweep trains (or reuses) the sweeps' runs and writes their files; the
// table is nil when -print-commands only printed.
func makeSweep(m *matrixFlags, p experiments.Preset) (*sweep.Table, []experiments.Run, []runner.Outcome, error) {
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		return nil, nil, nil, err
	}
	runs, outs, done, err := m.executeAllSeeds(runs)
	if err != nil || !done {
		return nil, nil, nil, err
	}
	if err := m.record(outs); err != nil {
		return nil, nil, nil, err
	}
	t, err := sweep.Build(p, sweeps, runs, outs)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, runs, outs, sweep.Write(m.results, t)
}
