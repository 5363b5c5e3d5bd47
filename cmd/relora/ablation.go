package main

import (
	"fmt"
	"strings"

	"github.com/relorago/harness/ablation"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
)

// ablationCmd regenerates the paper's Table 1.
func ablationCmd(args []string) error {
	m, p, err := parseMatrix("ablation", args)
	if err != nil {
		return err
	}
	var names []string
	if m.rows != "" {
		names = strings.Split(m.rows, ",")
	}
	rows, err := experiments.AblationRowsNamed(names)
	if err != nil {
		return err
	}
	t, _, _, err := makeAblation(m, p, rows)
	if err != nil || t == nil {
		return err
	}
	fmt.Println(t.Report().Text())
	printClaimsNote()
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, ablation.MarkdownFile, ablation.JSONFile)
	return nil
}

// makeAblation trains (or reuses) Table 1's runs and writes its files. The
// table is nil when -print-commands only printed the run list.
func makeAblation(m *matrixFlags, p experiments.Preset, rows []experiments.AblationRow) (*ablation.Table, []experiments.Run, []runner.Outcome, error) {
	runs, outs, done, err := m.executeAllSeeds(experiments.AblationOf(p, rows))
	if err != nil || !done {
		return nil, nil, nil, err
	}
	if err := m.record(outs); err != nil {
		return nil, nil, nil, err
	}
	t, err := ablation.Build(p, runs, outs)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, runs, outs, ablation.Write(m.results, t)
}
