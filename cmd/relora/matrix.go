package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/runner"
)

// matrixFlags are the flags every table command shares.
type matrixFlags struct {
	preset   string
	jobs     int
	runsDir  string
	results  string
	commands bool
	seeds    int
	rows     string
}

func bindMatrixFlags(fs *flag.FlagSet) *matrixFlags {
	m := &matrixFlags{}
	fs.StringVar(&m.preset, "preset", "default", "experiment preset: default or quick")
	fs.IntVar(&m.jobs, "j", runtime.NumCPU(), "runs trained at once (each on one core)")
	fs.StringVar(&m.runsDir, "runs", "runs", "folder of run folders (cache)")
	fs.StringVar(&m.results, "results", "results", "folder for tables and figures")
	fs.StringVar(&m.rows, "rows", "", "ablation: only these comma-separated Table 1 rows (e.g. \"LoRA,+R+O\")")
	fs.IntVar(&m.seeds, "seeds", 0, "number of seeds (1, 2, 3, ...; 0 = the preset's)")
	fs.BoolVar(&m.commands, "print-commands", false, "print one `relora train` command per unfinished run (for a job array) and exit")
	return m
}

// execute runs (or reuses) the matrix; with -print-commands it only prints.
// It returns done=false when it only printed.
func (m *matrixFlags) execute(runs []experiments.Run) (outs []runner.Outcome, done bool, err error) {
	configs := experiments.Configs(runs)
	if m.commands {
		self, _ := os.Executable()
		return nil, false, runner.WriteCommands(configs, m.runsDir, self, os.Stdout)
	}
	outs, err = runner.Execute(configs, runner.Options{RunsDir: m.runsDir, Jobs: m.jobs})
	if err != nil {
		fmt.Fprintln(os.Stderr, "relora: some runs failed:", err)
	}
	return outs, true, nil
}

// parseMatrix parses a table command's flags; extra binds the command's own.
func parseMatrix(name string, args []string, extra ...func(*flag.FlagSet)) (*matrixFlags, experiments.Preset, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	m := bindMatrixFlags(fs)
	for _, bind := range extra {
		bind(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, experiments.Preset{}, err
	}
	if fs.NArg() > 0 {
		return nil, experiments.Preset{}, fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	p, err := experiments.Get(m.preset)
	if err != nil {
		return nil, p, err
	}
	if m.seeds < 0 {
		return nil, p, fmt.Errorf("%s: -seeds must be ≥ 0, got %d", name, m.seeds)
	}
	if m.seeds > 0 {
		p.Seeds = seedsUpTo(m.seeds)
	}
	return m, p, nil
}

// printClaims lists the paper's claims with their verdicts on the terminal.
func printClaims(claims []report.Claim) {
	for _, c := range claims {
		verdict := "NOT reproduced"
		if c.Reproduced {
			verdict = "reproduced"
		}
		fmt.Printf("  %s: %s — %s\n", c.Statement, verdict, c.Evidence)
	}
}

// seedsUpTo returns the seeds 1, 2, ..., n.
func seedsUpTo(n int) []uint64 {
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}
