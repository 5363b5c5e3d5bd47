// Package tables says what a table of the paper is to the rest of the
// harness: a value with a name, the runs it needs and a way to build
// itself. The CLI, the usage text, the report, -print-commands and the
// Slurm script all walk one list of them (cmd/relora's registry), so a new
// table is its own package plus one line there.
package tables

import (
	"errors"
	"io"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
)

// Table is one of the paper's tables or figures.
type Table interface {
	Name() string    // the subcommand and Slurm -table name, e.g. "ablation"
	About() string   // one line for the usage text
	Section() string // its section title in REPORT.md
	Source() string  // the claims.Claim source it measures ("" for none)
	File() string    // its Markdown file in the results folder
	Target() string  // the make target that trains its runs
	// Runs are every run the table may train (none for a table that
	// measures rather than trains): the run list of -print-commands and
	// the Slurm array.
	Runs(env Env) ([]experiments.Run, error)
	// Needs are the runs without which the report cannot render it; the
	// rest it renders as far as they exist.
	Needs(env Env) ([]experiments.Run, error)
	// Build trains what env allows, builds the table and writes its files.
	Build(env Env) (*Built, error)
}

// Built is a table as built: its Markdown for the report, its text for
// the terminal, the runs behind it and the table itself (for the claims).
type Built struct {
	Table    any
	Markdown string
	Terminal string
	Runs     []experiments.Run
	Outcomes []runner.Outcome
	Note     string // where the numbers come from when not from runs
}

// Env is what a table needs from the command that builds it.
type Env interface {
	// Preset is the preset asked for; ReportPreset the same with the
	// seeds the report judges claims on when none were asked for.
	Preset() experiments.Preset
	ReportPreset() experiments.Preset
	SeedsAsked() bool   // -seeds was given
	Results() string    // the results folder
	RunsDir() string    // the run cache
	RecordsDir() string // the run records (results/runs)
	// TrainMissing says whether runs that neither the cache nor the
	// records hold are trained (a table command, or report -train), or
	// left out and counted (report). Remeasure is the same for a measured
	// table.
	TrainMissing() bool
	Remeasure() bool
	Verify() bool
	// All trains or reuses runs and every other seed of them that the
	// cache or the records hold, and returns them all (not yet recorded:
	// a table may add analyses to the run folders first).
	All(runs []experiments.Run) ([]experiments.Run, []runner.Outcome, error)
	// Available is All without training what neither the cache nor the
	// records hold (unless TrainMissing): it returns the runs it has and
	// their outcomes (recorded), and all runs with ErrNotTrained for the
	// others.
	Available(runs []experiments.Run) (have []experiments.Run, outs []runner.Outcome, all []experiments.Run, allOuts []runner.Outcome, err error)
	// Execute trains or reuses exactly runs (no other seeds), and Record
	// writes or checks their run records.
	Execute(runs []experiments.Run) ([]runner.Outcome, error)
	Record(outs []runner.Outcome) error
	// Missing counts the runs neither the cache nor the records hold.
	Missing(runs []experiments.Run) int
}

// Recorder is a table whose runs carry per-run analyses that their run
// records must keep (file names in the run folder).
type Recorder interface {
	RecordExtras() []string
}

// ErrNotTrained stands for a run a rendering command did not train.
var ErrNotTrained = errors.New("not trained yet")

// Known reads a stage's outcomes from the run cache and the records
// without training: nil outcomes (and no error) when one of the runs is in
// neither, so a staged table's Needs can stop at the first unfinished stage.
func Known(env Env, runs []experiments.Run) ([]runner.Outcome, error) {
	if env.Missing(runs) > 0 {
		return nil, nil
	}
	return runner.Execute(experiments.Configs(runs), runner.Options{RunsDir: env.RunsDir(), RecordsDir: env.RecordsDir(), Quiet: true, Log: io.Discard})
}

// Recorded is Env.All followed by Env.Record: the runs and every other
// seed of them, trained or reused, recorded, their outcomes pointing at
// the records. A table that adds analyses to the run folders first calls
// the two itself.
func Recorded(env Env, runs []experiments.Run) ([]experiments.Run, []runner.Outcome, error) {
	runs, outs, err := env.All(runs)
	if err != nil {
		return nil, nil, err
	}
	return runs, outs, env.Record(outs)
}
