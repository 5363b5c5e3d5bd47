package main

import (
	"fmt"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/spectra"
)

// A run's record keeps its Fig. 5 analysis, so that the figure renders
// without the run's weights.
func init() {
	if !slices.Contains(runner.RecordExtras, spectra.RunFile) {
		runner.RecordExtras = append(runner.RecordExtras, spectra.RunFile)
	}
}

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
	printClaimsNote()
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, spectra.MarkdownFile, spectra.JSONFile)
	return nil
}

// makeSpectra trains (or reuses) Fig. 5's runs, analyses them and writes its
// files; the table is nil when -print-commands only printed.
//
// The analysis (stage 1) reads each run's checkpoints, exports its effective
// weights and writes the singular values of its ΔW into the run folder
// (spectra.RunFile); a run analysed before is left alone, so a run read from
// its record (no checkpoints, but the RunFile) is fine. The records then
// get the RunFile, and the table (stage 2) is built from the records' files
// alone, the same with or without the run cache.
func makeSpectra(m *matrixFlags, p experiments.Preset) (*spectra.Table, []experiments.Run, []runner.Outcome, error) {
	// Every other seed of the three runs already trained joins the claim's
	// interval; the figures stay on the first seed.
	runs, outs, done, err := m.executeAllSeeds(experiments.Spectra(p))
	if err != nil || !done {
		return nil, nil, nil, err
	}
	if err := spectra.AnalyzeRuns(runs, outs); err != nil {
		return nil, nil, nil, err
	}
	if err := m.record(outs); err != nil {
		return nil, nil, nil, err
	}
	t, err := spectra.Build(runs, outs)
	if err != nil {
		return nil, nil, nil, err
	}
	// The exports stay in the run cache: records hold no weights.
	cache := map[string]string{}
	for _, r := range runs {
		if _, ok := cache[r.Row]; !ok {
			cache[r.Row] = runner.Dir(m.runsDir, r.Config)
		}
	}
	t.ExportsIn(func(method string) string { return cache[method] })
	return t, runs, outs, spectra.Write(m.results, t)
}
