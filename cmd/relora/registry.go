package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/relorago/harness/ablation"
	"github.com/relorago/harness/budget"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/finetune"
	"github.com/relorago/harness/probe"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/scaling"
	"github.com/relorago/harness/spectra"
	"github.com/relorago/harness/successors"
	"github.com/relorago/harness/sweep"
	"github.com/relorago/harness/tables"
	"github.com/relorago/harness/throughput"
)

// registry is every table of the paper the harness regenerates, in the
// report's order. The subcommands, the usage text, the report, the run
// lists of -print-commands and the Slurm script all walk it: a new table
// is its own package (a tables.Table) plus one line here. A function, not
// a variable: a table's own flags (ablation's -rows) bind into its value,
// so each command gets fresh ones.
func registry() []tables.Table {
	return []tables.Table{
		&ablation.Entry{},
		scaling.Entry{},
		throughput.Entry{Measure: measureForReport, Cmd: throughputCmd},
		budget.Entry{},
		spectra.Entry{},
		sweep.Entry{},
		finetune.Entry{},
		successors.Entry{Probe: memoryProbes},
	}
}

// tableNamed finds a table of reg by its subcommand name.
func tableNamed(reg []tables.Table, name string) (tables.Table, bool) {
	for _, t := range reg {
		if t.Name() == name {
			return t, true
		}
	}
	return nil, false
}

// recordExtras are the per-run analyses the registry's tables keep in run
// records.
func recordExtras() []string {
	var extras []string
	for _, t := range registry() {
		if r, ok := t.(tables.Recorder); ok {
			extras = append(extras, r.RecordExtras()...)
		}
	}
	return extras
}

// tableFlags binds the flags of tables that have their own (ablation's
// -rows) into fs.
func tableFlags(ts ...tables.Table) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		for _, t := range ts {
			if f, ok := t.(interface{ Flags(*flag.FlagSet) }); ok {
				f.Flags(fs)
			}
		}
	}
}

// tableCommand is the subcommand that regenerates t: train (or reuse) its
// runs, build it, write its files, print it. A table with a command of
// its own (Table 4 measures rather than trains) runs that instead.
func tableCommand(t tables.Table) func(args []string) error {
	if c, ok := t.(interface{ Command([]string) error }); ok {
		return c.Command
	}
	return func(args []string) error {
		m, p, err := parseMatrix(t.Name(), args, tableFlags(t))
		if err != nil {
			return err
		}
		e := newEnv(m, p, p, true, false)
		if m.commands {
			runs, err := t.Runs(e)
			if err != nil {
				return err
			}
			if m.verify { // -verify trains every seed the cache and records hold: list them all
				runs = experiments.WithSeeds(runs, runner.IndexSeeds(m.runsDir, m.recordsDir()).Seeds)
			}
			self, _ := os.Executable()
			return runner.WriteCommands(experiments.Configs(runs), m.runsDir, self, os.Stdout)
		}
		b, err := t.Build(e)
		if err != nil {
			return err
		}
		fmt.Print(b.Terminal)
		if t.Source() != "" {
			printClaimsNote()
		}
		fmt.Printf("\nwrote %s/%s, its JSON and figures\n", m.results, t.File())
		return nil
	}
}

// measureForReport measures Table 4 for `relora report -remeasure`: one
// untimed round and between 3 and 40 timed ones per speed probe, within
// the default time budget.
func measureForReport(p experiments.Preset, results string) (*throughput.Table, error) {
	return measureThroughput(p, 5, 40, 3, results)
}

// command is the subcommand called name (nil when there is none).
func command(name string) func([]string) error {
	run, _ := lookup(name)
	return run
}

// memoryProbes runs the successors table's memory probes, each in a fresh
// process of this binary, one at a time so that two probes' peaks never
// share the machine's memory bandwidth or cache.
func memoryProbes(specs []successors.MemorySpec) ([]successors.MemoryRow, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return probe.Run[successors.MemorySpec, successors.MemoryRow](self, successors.MemoryProbeCommand, specs, 1)
}

// memProbeCmd is the hidden per-process measurement behind memoryProbes.
func memProbeCmd(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s: want one JSON spec", successors.MemoryProbeCommand)
	}
	var spec successors.MemorySpec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil {
		return fmt.Errorf("%s: %w", successors.MemoryProbeCommand, err)
	}
	row, err := successors.MeasureMemory(spec)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(row)
}
