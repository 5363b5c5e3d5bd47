package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relorago/harness/claims"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/paperreport"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// reportSeeds is the seed count the report's tables are judged on when
// -seeds is not given: their claims are judged on the spread over seeds.
const reportSeeds = 3

// reportCmd assembles every table of the registry into results/REPORT.md.
// It renders from the run cache and the committed run records; a section
// whose runs are missing from both says which make target trains them,
// unless -train (or -verify) asks to train them here.
func reportCmd(args []string) error {
	var remeasure, trainMissing bool
	m, p, err := parseMatrix("report", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&remeasure, "remeasure", false, "measure Table 4 again even if the results folder has it")
		fs.BoolVar(&trainMissing, "train", false, "train the runs that neither the run cache nor the records have (hours on 2 cores)")
	})
	if err != nil {
		return err
	}
	e := reportEnv(m, p, trainMissing, remeasure)
	if m.commands {
		configs, err := registryRuns(e)
		if err != nil {
			return err
		}
		self, _ := os.Executable()
		return runner.WriteCommands(configs, m.runsDir, self, os.Stdout)
	}
	_, err = writeReport(e)
	return err
}

// reportEnv is the env of a report: the preset asked for, and the report's
// seeds (reportSeeds unless -seeds was given).
func reportEnv(m *matrixFlags, p experiments.Preset, trainMissing, remeasure bool) *env {
	report := p
	if m.seeds == "" && len(p.Seeds) < reportSeeds {
		report.Seeds = seedsUpTo(reportSeeds)
	}
	return newEnv(m, p, report, trainMissing, remeasure || trainMissing)
}

// registryRuns is every run of every table, as the report would train them.
func registryRuns(e *env) ([]train.Config, error) {
	var configs []train.Config
	for _, t := range e.tables {
		runs, err := t.Runs(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name(), err)
		}
		configs = append(configs, experiments.Configs(runs)...)
	}
	return configs, nil
}

// writeReport builds every table it can, judges the claims on them and
// writes REPORT.md; it returns the judged family.
func writeReport(e *env) (*claims.Judged, error) {
	in := &claims.Input{Preset: e.preset}
	var sections []paperreport.Section
	for _, t := range e.tables {
		sec, err := buildSection(e, t, in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Section(), err)
		}
		sections = append(sections, sec)
	}
	r := &paperreport.Report{Preset: e.preset.Name, PresetAbout: e.preset.About, Sections: sections, Claims: claims.Judge(in)}
	r.Env = paperreport.ReadEnvironment(sections)
	if err := paperreport.Write(e.m.results, r); err != nil {
		return nil, err
	}
	fmt.Printf("wrote %s\n", filepath.Join(e.m.results, paperreport.FileName))
	return r.Claims, nil
}
