package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/tables"
	"github.com/relorago/harness/train"
)

// matrixFlags are the flags every table command shares.
type matrixFlags struct {
	preset   string
	jobs     int
	runsDir  string
	results  string
	commands bool
	seeds    string
	verify   bool

	requested map[string]bool   // hashes of the runs the command was asked for (-verify trains these)
	given     map[string]string // the flags given on the command line, by name
}

func bindMatrixFlags(fs *flag.FlagSet) *matrixFlags {
	m := &matrixFlags{}
	fs.StringVar(&m.preset, "preset", "default", "experiment preset: "+strings.Join(experiments.PresetNames(), ", "))
	fs.IntVar(&m.jobs, "j", runtime.NumCPU(), fmt.Sprintf("runs trained at once (each on one core; 1 to %d)", maxThreads))
	fs.StringVar(&m.runsDir, "runs", "runs", "folder of run folders (cache)")
	fs.StringVar(&m.results, "results", "", "folder for tables, figures and run records (default: the preset's, e.g. results/ for default, results/quick/ for quick)")
	fs.StringVar(&m.seeds, "seeds", "", "seeds to train: a count n (seeds 1..n) or a list like 4,5,6 (default: the preset's); tables also use every other seed already trained")
	fs.BoolVar(&m.verify, "verify", false, "train the asked-for runs even when the results folder has their records, and check the numbers against the records")
	fs.BoolVar(&m.commands, "print-commands", false, "print one `relora train` command per unfinished run (for a job array) and exit (takes no value)")
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
	if m.requested == nil {
		m.requested = map[string]bool{}
	}
	for _, c := range configs {
		m.requested[runner.Hash(c)] = true
	}
	outs, err = runner.Execute(configs, runner.Options{RunsDir: m.runsDir, Jobs: m.jobs, RecordsDir: m.recordsDir(),
		Verify: func(c train.Config) bool { return m.verify && m.requested[runner.Hash(c)] }})
	if errors.Is(err, runner.ErrBadRecord) {
		return nil, false, err // a record that does not verify must not render, nor be trained over
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "relora: some runs failed:", err)
	}
	return outs, true, nil
}

// executeAllSeeds is execute over runs and every other seed of them that
// the run cache or the records hold, so that a table shows every seed
// trained so far (asking for seed 1 does not shrink a 3-seed table). The
// extra seeds follow the asked-for ones, row by row in seed order.
func (m *matrixFlags) executeAllSeeds(runs []experiments.Run) ([]experiments.Run, []runner.Outcome, bool, error) {
	if !m.commands {
		runs = experiments.WithSeeds(runs, runner.IndexSeeds(m.runsDir, m.recordsDir()).Seeds)
	}
	outs, done, err := m.execute(runs)
	return runs, outs, done, err
}

// executeAvailable is executeAllSeeds for a table that renders what exists:
// unless trainMissing, runs that neither the cache nor the records hold
// are left untrained. It records the runs it has and returns them with
// their outcomes (have, outs), and all runs with an tables.ErrNotTrained outcome
// for each one left out (all, allOuts), for the table to count as missing.
func (m *matrixFlags) executeAvailable(runs []experiments.Run, trainMissing bool) (have []experiments.Run, outs []runner.Outcome, all []experiments.Run, allOuts []runner.Outcome, err error) {
	var missing []experiments.Run
	for _, r := range experiments.WithSeeds(runs, runner.IndexSeeds(m.runsDir, m.recordsDir()).Seeds) {
		if trainMissing || runner.Missing([]train.Config{r.Config}, m.runsDir, m.recordsDir()) == 0 {
			have = append(have, r)
		} else {
			missing = append(missing, r)
		}
	}
	if outs, _, err = m.execute(have); err != nil {
		return nil, nil, nil, nil, err
	}
	if err = m.record(outs); err != nil {
		return nil, nil, nil, nil, err
	}
	all, allOuts = append([]experiments.Run(nil), have...), append([]runner.Outcome(nil), outs...)
	for _, r := range missing {
		all = append(all, r)
		allOuts = append(allOuts, runner.Outcome{Config: r.Config, Err: tables.ErrNotTrained})
	}
	return have, outs, all, allOuts, nil
}

// record writes or checks the run records of outs (see runner.Record) and
// points outs at them; it says on stderr how reruns compare with records.
func (m *matrixFlags) record(outs []runner.Outcome) error {
	checks, err := runner.Record(outs, m.recordsDir(), recordExtras()...)
	if s := runner.Summary(checks); s != "" {
		fmt.Fprintln(os.Stderr, "records:", s)
	}
	return err
}

// recordsDir is where the run records of the results folder live.
func (m *matrixFlags) recordsDir() string { return filepath.Join(m.results, "runs") }

// parseMatrix parses a table command's flags; extra binds the command's own.
func parseMatrix(name string, args []string, extra ...func(*flag.FlagSet)) (*matrixFlags, experiments.Preset, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: relora %s [flags]\n\n", name)
		fs.PrintDefaults()
	}
	m := bindMatrixFlags(fs)
	for _, bind := range extra {
		bind(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, experiments.Preset{}, err
	}
	if fs.NArg() > 0 {
		return nil, experiments.Preset{}, fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	m.given = map[string]string{}
	fs.Visit(func(f *flag.Flag) { m.given[f.Name] = f.Value.String() })
	p, err := experiments.Get(m.preset)
	if err != nil {
		return nil, p, err
	}
	if m.results == "" {
		m.results = p.ResultsDir
	}
	if m.seeds != "" {
		if p.Seeds, err = parseSeeds(m.seeds); err != nil {
			return nil, p, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := verifiable(m.verify, m.recordsDir()); err != nil {
		return nil, p, fmt.Errorf("%s -verify: %w", name, err)
	}
	return m, p, nil
}

// verifiable refuses -verify over a folder of records where runs cannot
// reproduce them: a record that differs is replaced by the run, so
// verifying there would overwrite every record with other roundings of
// it. Into a folder without records -verify only trains, as anywhere.
func verifiable(verify bool, recordsDir string) error {
	if !verify {
		return nil
	}
	err := referenceArithmetic()
	if err == nil {
		return nil
	}
	entries, _ := os.ReadDir(recordsDir)
	if !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.IsDir() }) {
		return nil
	}
	return fmt.Errorf("%w; the records in %s were trained with the Go GEMM's FMA kernels and the assembly loops on x86-64 with AVX2 and FMA, so every one would differ here and be overwritten. Verify on such a machine, or train into a folder without records (-results, or RESULTS= with make) and compare", err, recordsDir)
}

// referenceArithmetic is kernels.ReferenceArithmetic; tests replace it.
var referenceArithmetic = kernels.ReferenceArithmetic

// printClaimsNote says where a table's claims are judged: over the whole
// family at once, which one table alone cannot do.
func printClaimsNote() {
	fmt.Println("\nThe paper's claims are judged over the whole family in results/REPORT.md (`make report` renders it in seconds).")
}

// parseSeeds reads -seeds: a count n (seeds 1..n) or a comma-separated list.
func parseSeeds(v string) ([]uint64, error) {
	if !strings.Contains(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-seeds %q: want a count ≥ 1 or a list like 4,5,6", v)
		}
		return seedsUpTo(n), nil
	}
	var seeds []uint64
	for _, f := range strings.Split(v, ",") {
		s, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("-seeds %q: %q is not a seed number", v, f)
		}
		if !slices.Contains(seeds, s) {
			seeds = append(seeds, s)
		}
	}
	return seeds, nil
}

// seedsUpTo returns the seeds 1, 2, ..., n.
func seedsUpTo(n int) []uint64 {
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}
