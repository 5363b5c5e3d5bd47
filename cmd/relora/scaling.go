package main

import (
	"fmt"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/scaling"
)

// scalingCmd regenerates the paper's Tables 2 and 3.
func scalingCmd(args []string) error {
	m, p, err := parseMatrix("scaling", args)
	if err != nil {
		return err
	}
	t, _, _, err := makeScaling(m, p)
	if err != nil || t == nil {
		return err
	}
	fmt.Print(t.Markdown())
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, scaling.MarkdownFile, scaling.JSONFile)
	return nil
}

// makeScaling trains (or reuses) Tables 2 and 3's runs and writes their
// files; the table is nil when -print-commands only printed.
func makeScaling(m *matrixFlags, p experiments.Preset) (*scaling.Table, []experiments.Run, []runner.Outcome, error) {
	runs, err := experiments.Scaling(p)
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
	t, err := scaling.Build(p, runs, outs)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, runs, outs, scaling.Write(m.results, t)
}
