package main

import (
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/tables"
)

// env is what a table sees of the command building it (tables.Env): the
// matrix flags, the preset asked for and the report's, and whether runs
// missing from the cache and the records are trained.
type env struct {
	tables                  []tables.Table // the registry the command walks
	m                       *matrixFlags
	preset, report          experiments.Preset
	trainMissing, remeasure bool
}

func newEnv(m *matrixFlags, p, report experiments.Preset, trainMissing, remeasure bool) *env {
	return &env{tables: registry(), m: m, preset: p, report: report, trainMissing: trainMissing, remeasure: remeasure}
}

func (e *env) Preset() experiments.Preset       { return e.preset }
func (e *env) ReportPreset() experiments.Preset { return e.report }
func (e *env) SeedsAsked() bool                 { return e.m.seeds != "" }
func (e *env) Results() string                  { return e.m.results }
func (e *env) RunsDir() string                  { return e.m.runsDir }
func (e *env) RecordsDir() string               { return e.m.recordsDir() }
func (e *env) TrainMissing() bool               { return e.trainMissing }
func (e *env) Remeasure() bool                  { return e.remeasure }
func (e *env) Verify() bool                     { return e.m.verify }

func (e *env) All(runs []experiments.Run) ([]experiments.Run, []runner.Outcome, error) {
	runs, outs, _, err := e.m.executeAllSeeds(runs)
	return runs, outs, err
}

func (e *env) Available(runs []experiments.Run) ([]experiments.Run, []runner.Outcome, []experiments.Run, []runner.Outcome, error) {
	return e.m.executeAvailable(runs, e.trainMissing)
}

func (e *env) Execute(runs []experiments.Run) ([]runner.Outcome, error) {
	outs, _, err := e.m.execute(runs)
	return outs, err
}

func (e *env) Record(outs []runner.Outcome) error { return e.m.record(outs) }

func (e *env) Missing(runs []experiments.Run) int {
	return runner.Missing(experiments.Configs(runs), e.m.runsDir, e.m.recordsDir())
}

var _ tables.Env = (*env)(nil)
