package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/relorago/harness/ablation"
	"github.com/relorago/harness/budget"
	"github.com/relorago/harness/claims"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/finetune"
	"github.com/relorago/harness/paperreport"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/scaling"
	"github.com/relorago/harness/spectra"
	"github.com/relorago/harness/sweep"
	"github.com/relorago/harness/throughput"
	"github.com/relorago/harness/train"
)

// reportSeeds is the seed count of Table 1 and the sweeps in the report when
// -seeds is not given: their claims are judged on the spread over seeds.
const reportSeeds = 3

// reportCmd assembles every table and figure into results/REPORT.md. It
// renders from the run cache and the committed run records; a section whose
// runs are missing from both says which make target trains them, unless
// -train (or -verify) asks to train them here.
func reportCmd(args []string) error {
	var remeasure, trainMissing bool
	m, p, err := parseMatrix("report", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&remeasure, "remeasure", false, "measure Table 4 again even if the results folder has it")
		fs.BoolVar(&trainMissing, "train", false, "train the runs that neither the run cache nor the records have (hours on 2 cores)")
	})
	if err != nil {
		return err
	}
	in := &claims.Input{Preset: p}
	parts := reportParts(m, p, in, remeasure, trainMissing)
	if m.commands {
		var configs []train.Config
		for _, part := range parts {
			if part.runs != nil {
				runs, err := part.runs()
				if err != nil {
					return err
				}
				configs = append(configs, experiments.Configs(runs)...)
			}
		}
		self, _ := os.Executable()
		return runner.WriteCommands(configs, m.runsDir, self, os.Stdout)
	}

	_, err = writeReport(m, p, in, parts, trainMissing)
	return err
}

// writeReport builds every section it can, judges the claims on their
// tables and writes REPORT.md; it returns the judged family.
func writeReport(m *matrixFlags, p experiments.Preset, in *claims.Input, parts []reportPart, trainMissing bool) (*claims.Judged, error) {
	var sections []paperreport.Section
	for _, part := range parts {
		sec, err := buildSection(m, part, trainMissing)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", part.name, err)
		}
		sections = append(sections, sec)
	}
	r := &paperreport.Report{Preset: p.Name, PresetAbout: p.About, Sections: sections, Claims: claims.Judge(in)}
	r.Env = paperreport.ReadEnvironment(sections)
	if err := paperreport.Write(m.results, r); err != nil {
		return nil, err
	}
	fmt.Printf("wrote %s\n", filepath.Join(m.results, paperreport.FileName))
	return r.Claims, nil
}

// buildSection builds one section, or a note saying which target trains
// its runs when neither the cache nor the records have them (unless asked
// to train them).
func buildSection(m *matrixFlags, part reportPart, trainMissing bool) (paperreport.Section, error) {
	fmt.Fprintf(os.Stderr, "%s:\n", part.name)
	if part.runs != nil && !trainMissing && !m.verify {
		needs := part.runs
		if part.needs != nil {
			needs = part.needs
		}
		runs, err := needs()
		if err != nil {
			return paperreport.Section{}, err
		}
		if n := runner.Missing(experiments.Configs(runs), m.runsDir, m.recordsDir()); n > 0 {
			fmt.Fprintf(os.Stderr, "  %d runs are neither in the run cache nor in the records: skipped (`make %s` trains them)\n", n, part.target)
			return paperreport.Section{Name: part.name, File: part.file,
				Note: fmt.Sprintf("Not run yet: %d of its runs are neither in the run cache nor in the run records; `make %s` trains them.", n, part.target)}, nil
		}
	}
	return part.make()
}

// reportPart is one section of the report: its runs (nil for a measured
// table) and how to build it.
type reportPart struct {
	name, file, target string
	runs               func() ([]experiments.Run, error)
	// needs, when set, are the runs without which the section cannot
	// render (default: runs); the section shows what it has of the rest.
	needs func() ([]experiments.Run, error)
	make  func() (paperreport.Section, error)
}

// reportParts lists the report's sections in order. Every table of trained
// runs defaults to 3 seeds: the claims are judged on the spread over seeds.
func reportParts(m *matrixFlags, p experiments.Preset, in *claims.Input, remeasure, measureMissing bool) []reportPart {
	threeSeeds := p
	if m.seeds == "" && len(p.Seeds) < reportSeeds {
		threeSeeds.Seeds = seedsUpTo(reportSeeds)
	}
	return []reportPart{
		{name: "Table 1 — ablation", file: ablation.MarkdownFile, target: "ablation SEEDS=3",
			runs: func() ([]experiments.Run, error) { return experiments.Ablation(threeSeeds), nil },
			make: func() (paperreport.Section, error) {
				t, runs, outs, err := makeAblation(m, threeSeeds, experiments.AblationRows)
				if err != nil {
					return paperreport.Section{}, err
				}
				in.Ablation = t
				in.AddRunTimes(outs)
				return paperreport.Section{Name: "Table 1 — ablation", File: ablation.MarkdownFile,
					Markdown: t.Markdown(), Source: "Table 1", Runs: runs, Outcomes: outs}, nil
			}},
		{name: "Tables 2 and 3 — scaling", file: scaling.MarkdownFile, target: "scaling",
			runs: func() ([]experiments.Run, error) { return experiments.Scaling(threeSeeds) },
			// The matrix takes several sittings: the section renders once
			// the preset's seed is complete, with every other seed trained
			// so far (each cell says over how many seeds).
			needs: func() ([]experiments.Run, error) { return experiments.Scaling(p) },
			make: func() (paperreport.Section, error) {
				asked := p
				if measureMissing || m.verify {
					asked = threeSeeds
				}
				t, runs, outs, err := makeScaling(m, asked)
				if err != nil {
					return paperreport.Section{}, err
				}
				in.Scaling = t
				in.AddRunTimes(outs)
				return paperreport.Section{Name: "Tables 2 and 3 — scaling", File: scaling.MarkdownFile,
					Markdown: t.Markdown(), Source: "Table 2", Runs: runs, Outcomes: outs}, nil
			}},
		{name: "Table 4 — throughput", file: throughput.MarkdownFile, target: "throughput",
			make: func() (paperreport.Section, error) {
				t, note, err := throughputForReport(p, m.results, remeasure || measureMissing)
				if errors.Is(err, errNotMeasured) {
					return paperreport.Section{Name: "Table 4 — throughput", File: throughput.MarkdownFile,
						Note: "Not measured yet: `make throughput` measures it (on a quiet machine)."}, nil
				}
				if err != nil {
					return paperreport.Section{}, err
				}
				in.Throughput = t
				return paperreport.Section{Name: "Table 4 — throughput", File: throughput.MarkdownFile,
					Markdown: t.Markdown(), Source: "Table 4", Note: note}, nil
			}},
		{name: "Loss against compute", file: budget.MarkdownFile, target: "budget",
			runs: func() ([]experiments.Run, error) {
				spec, err := experiments.Budget(threeSeeds)
				if err != nil {
					return nil, err
				}
				return append(experiments.Ablation(threeSeeds), spec.Runs...), nil
			},
			// The section renders once Table 1's runs exist; equal-FLOP
			// runs not trained yet are listed as missing in it.
			needs: func() ([]experiments.Run, error) { return experiments.Ablation(threeSeeds), nil },
			make: func() (paperreport.Section, error) {
				spec, err := experiments.Budget(threeSeeds)
				if err != nil {
					return paperreport.Section{}, err
				}
				t, runs, outs, err := makeBudget(m, threeSeeds, spec, measureMissing || m.verify)
				if err != nil {
					return paperreport.Section{}, err
				}
				in.Budget = t
				in.AddRunTimes(outs)
				return paperreport.Section{Name: "Loss against compute", File: budget.MarkdownFile,
					Markdown: t.Markdown(), Source: "Loss against compute", Runs: runs, Outcomes: outs}, nil
			}},
		{name: "Fig. 5 — spectra", file: spectra.MarkdownFile, target: "spectra",
			runs: func() ([]experiments.Run, error) { return experiments.Spectra(p), nil },
			make: func() (paperreport.Section, error) {
				t, runs, outs, err := makeSpectra(m, p)
				if err != nil {
					return paperreport.Section{}, err
				}
				in.Spectra = t
				in.AddRunTimes(outs)
				return paperreport.Section{Name: "Fig. 5 — spectra", File: spectra.MarkdownFile,
					Markdown: t.Markdown(), Source: "Fig. 5", Runs: runs, Outcomes: outs}, nil
			}},
		{name: "Sensitivity sweeps", file: sweep.MarkdownFile, target: "sweep",
			runs: func() ([]experiments.Run, error) {
				_, runs, err := experiments.Sweeps(threeSeeds)
				return runs, err
			},
			// The section renders once one sweep is complete; the others
			// say how many of their runs are missing.
			needs: func() ([]experiments.Run, error) { return mostCompleteSweep(m, threeSeeds) },
			make: func() (paperreport.Section, error) {
				t, runs, outs, err := makeSweep(m, threeSeeds, measureMissing || m.verify)
				if err != nil {
					return paperreport.Section{}, err
				}
				return paperreport.Section{Name: "Sensitivity sweeps", File: sweep.MarkdownFile,
					Markdown: "### Sensitivity sweeps\n\n" + t.Markdown(), Runs: runs, Outcomes: outs}, nil
			}},
		{name: "Table 5 — fine-tuning", file: finetune.MarkdownFile, target: "finetune",
			runs: func() ([]experiments.Run, error) {
				spec, err := experiments.Finetune(p)
				if err != nil {
					return nil, err
				}
				return finetuneRuns(m, spec)
			},
			make: func() (paperreport.Section, error) {
				spec, err := experiments.Finetune(p)
				if err != nil {
					return paperreport.Section{}, err
				}
				t, runs, outs, err := makeFinetune(m, p, spec)
				if err != nil {
					return paperreport.Section{}, err
				}
				in.Finetune = t
				in.AddRunTimes(outs)
				return paperreport.Section{Name: "Table 5 — fine-tuning", File: finetune.MarkdownFile,
					Markdown: t.Markdown(), Source: "Table 5", Runs: runs, Outcomes: outs}, nil
			}},
	}
}

// errNotMeasured: the results folder has no Table 4 for this preset.
var errNotMeasured = errors.New("table 4 not measured")

// throughputForReport reuses the results folder's Table 4 when it was
// measured for this preset; measuring takes minutes and needs a quiet
// machine, so it measures only when asked to.
func throughputForReport(p experiments.Preset, results string, measure bool) (*throughput.Table, string, error) {
	if !measure {
		t, err := throughput.Read(results)
		switch {
		case err == nil && t.Preset == p.Name:
			return t, "Measured by `make throughput` and reused from `" + filepath.Join(results, throughput.JSONFile) +
				"`; `make report REMEASURE=1` measures it again.", nil
		case err == nil:
			fmt.Fprintf(os.Stderr, "  %s is for preset %q, not %q: not measured\n", throughput.JSONFile, t.Preset, p.Name)
			return nil, "", errNotMeasured
		case errors.Is(err, fs.ErrNotExist):
			return nil, "", errNotMeasured
		default:
			return nil, "", err
		}
	}
	t, err := measureThroughput(p, 5, 40, 3, results)
	return t, "Measured while rendering this report.", err
}
