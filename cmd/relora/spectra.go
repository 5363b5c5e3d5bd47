package main

import (
	"fmt"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/spectra"
)

// spectraCmd regenerates the paper's Fig. 5 from the full-rank, LoRA+WS and
// ReLoRA runs of Table 1 (trained only if they are not cached).
func spectraCmd(args []string) error {
	m, p, err := parseMatrix("spectra", args)
	if err != nil {
		return err
	}
	t, _, _, err := makeSpectra(m, p)
	if err != nil || t == nil {
		return err
	}
	fmt.Println(t.Report().Text())
	printClaims(t.Claims)
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, spectra.MarkdownFile, spectra.JSONFile)
	return nil
}

// makeSpectra trains (or reuses) Fig. 5's runs, analyses them and writes its
// files; the table is nil when -print-commands only printed.
func makeSpectra(m *matrixFlags, p experiments.Preset) (*spectra.Table, []experiments.Run, []runner.Outcome, error) {
	runs := experiments.Spectra(p)
	outs, done, err := m.execute(runs)
	if err != nil || !done {
		return nil, nil, nil, err
	}
	t, err := spectra.Build(runs, outs)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, runs, outs, spectra.Write(m.results, t)
}
