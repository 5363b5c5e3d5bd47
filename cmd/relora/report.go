package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/relorago/harness/ablation"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/paperreport"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/scaling"
	"github.com/relorago/harness/spectra"
	"github.com/relorago/harness/sweep"
	"github.com/relorago/harness/throughput"
)

// reportSeeds is Table 1's seed count in the report when -seeds is not
// given: its claims are reported with their spread over seeds.
const reportSeeds = 3

// reportCmd regenerates every table and figure (training only what the run
// cache lacks) and assembles them into results/REPORT.md.
func reportCmd(args []string) error {
	var remeasure bool
	m, p, err := parseMatrix("report", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&remeasure, "remeasure", false, "measure Table 4 again even if the results folder has it")
	})
	if err != nil {
		return err
	}
	ablationPreset := p
	if m.seeds == "" && len(p.Seeds) < reportSeeds {
		ablationPreset.Seeds = seedsUpTo(reportSeeds)
	}
	if m.commands {
		return printReportCommands(m, p, ablationPreset)
	}

	var sections []paperreport.Section
	fmt.Fprintln(os.Stderr, "Table 1 (ablation):")
	at, aRuns, aOuts, err := makeAblation(m, ablationPreset, experiments.AblationRows)
	if err != nil {
		return fmt.Errorf("table 1: %w", err)
	}
	sections = append(sections, paperreport.Section{Name: "Table 1 — ablation", File: ablation.MarkdownFile,
		Markdown: at.Markdown(), Claims: at.Claims, Runs: aRuns, Outcomes: aOuts})

	fmt.Fprintln(os.Stderr, "Tables 2 and 3 (scaling):")
	st, sRuns, sOuts, err := makeScaling(m, p)
	if err != nil {
		return fmt.Errorf("tables 2 and 3: %w", err)
	}
	sections = append(sections, paperreport.Section{Name: "Tables 2 and 3 — scaling", File: scaling.MarkdownFile,
		Markdown: st.Markdown(), Claims: st.Claims, Runs: sRuns, Outcomes: sOuts})

	fmt.Fprintln(os.Stderr, "Table 4 (throughput):")
	tt, note, err := throughputForReport(p, m.results, remeasure)
	if err != nil {
		return fmt.Errorf("table 4: %w", err)
	}
	sections = append(sections, paperreport.Section{Name: "Table 4 — throughput", File: throughput.MarkdownFile,
		Markdown: tt.Markdown(), Claims: tt.Claims, Note: note})

	fmt.Fprintln(os.Stderr, "Fig. 5 (spectra):")
	sp, spRuns, spOuts, err := makeSpectra(m, p)
	if err != nil {
		return fmt.Errorf("fig. 5: %w", err)
	}
	sections = append(sections, paperreport.Section{Name: "Fig. 5 — spectra", File: spectra.MarkdownFile,
		Markdown: sp.Markdown(), Claims: sp.Claims, Runs: spRuns, Outcomes: spOuts})

	sw, err := sweepForReport(m, p)
	if err != nil {
		return fmt.Errorf("sweeps: %w", err)
	}
	sections = append(sections, sw)

	r := &paperreport.Report{Preset: p.Name, PresetAbout: p.About, Sections: sections}
	r.Env = paperreport.ReadEnvironment(sections)
	if err := paperreport.Write(m.results, r); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", filepath.Join(m.results, paperreport.FileName))
	return nil
}

// throughputForReport reuses the results folder's Table 4 when it was
// measured for this preset (measuring takes minutes and needs a quiet
// machine), and measures it otherwise.
func throughputForReport(p experiments.Preset, results string, remeasure bool) (*throughput.Table, string, error) {
	if !remeasure {
		t, err := throughput.Read(results)
		switch {
		case err == nil && t.Preset == p.Name:
			return t, "Measured by `make throughput` and reused from `" + filepath.Join(results, throughput.JSONFile) +
				"`; `make report REMEASURE=1` measures it again.", nil
		case err == nil:
			fmt.Fprintf(os.Stderr, "  %s is for preset %q, not %q: measuring\n", throughput.JSONFile, t.Preset, p.Name)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, "", err
		}
	}
	t, err := measureThroughput(p, 5, 40, 3, results)
	return t, "Measured while rendering this report.", err
}

// printReportCommands prints one command per unfinished run of every table,
// once each (the tables share runs), for a job array.
func printReportCommands(m *matrixFlags, p, ablationPreset experiments.Preset) error {
	scalingRuns, err := experiments.Scaling(p)
	if err != nil {
		return err
	}
	var configs = experiments.Configs(experiments.Ablation(ablationPreset))
	configs = append(configs, experiments.Configs(scalingRuns)...)
	self, _ := os.Executable()
	return runner.WriteCommands(configs, m.runsDir, self, os.Stdout)
}

// sweepSeeds is the sweeps' seed count when -seeds is not given: each point
// is a difference judged on its spread over seeds.
const sweepSeeds = 3

// sweepForReport renders the sensitivity sweeps when their runs exist (in
// the cache or the records) and otherwise says how to run them: they are
// some sixty runs beyond the tables (hours on 2 cores), so the report does
// not start them on its own.
func sweepForReport(m *matrixFlags, p experiments.Preset) (paperreport.Section, error) {
	sec := paperreport.Section{Name: "Sensitivity sweeps", File: sweep.MarkdownFile}
	sp := p
	if m.seeds == "" {
		sp.Seeds = seedsUpTo(sweepSeeds)
	}
	_, runs, err := experiments.Sweeps(sp)
	if err != nil {
		return sec, err
	}
	if n := runner.Missing(experiments.Configs(runs), m.runsDir, m.recordsDir()); n > 0 && !m.verify {
		sec.Note = fmt.Sprintf("Not run yet: %d of the sweeps' runs are neither in the run cache nor in the records; `make sweep` trains them.", n)
		fmt.Fprintf(os.Stderr, "  %d sweep runs missing: skipped (make sweep trains them)\n", n)
		return sec, nil
	}
	t, sRuns, sOuts, err := makeSweep(m, sp)
	if err != nil {
		return sec, err
	}
	sec.Markdown, sec.Runs, sec.Outcomes = t.Markdown(), sRuns, sOuts
	return sec, nil
}
