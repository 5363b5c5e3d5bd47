package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/tables"
	"github.com/relorago/harness/train"
)

// slurmCmd writes a Slurm job array for a table's unfinished runs (one
// task per run, one core each) and a render job that builds the table after
// the array, into <runs>/slurm/, and prints the command that submits them.
// It takes the table commands' flags; -j and -verify do not apply (the
// array trains every run the cache lacks, and the render checks each
// against its record as any table command does).
func slurmCmd(args []string) error {
	reg := registry()
	job, err := parseSlurm(args, reg)
	if err != nil {
		return err
	}
	configs, err := slurmConfigs(job.table, reg, job.m, job.preset)
	if err != nil {
		return err
	}
	if err := job.resolvePaths(); err != nil {
		return err
	}
	pending, err := runner.Unfinished(configs, job.runsDir)
	if err != nil {
		return err
	}
	switch {
	case len(pending) == 0:
		fmt.Printf("slurm: every run of %s is finished in %s: nothing to submit, nothing written. Render with:\n  %s\n",
			job.table, job.runsDir, shellJoin(job.renderCommand()))
	case job.m.commands:
		for _, r := range pending {
			fmt.Println(r.Command(job.binary))
		}
	default:
		return job.write(pending)
	}
	return nil
}

// slurmFlags are the flags `relora slurm` adds to the table commands'.
type slurmFlags struct {
	table, partition, account, qos, binary string
	throttle                               int
	timeScale                              float64
}

func (o *slurmFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.table, "table", "report", "table to run: "+strings.Join(slurmTables(), ", "))
	fs.IntVar(&o.throttle, "throttle", 32, "array tasks running at once (0 = no limit)")
	fs.StringVar(&o.partition, "partition", "", "sbatch --partition (omitted when empty)")
	fs.StringVar(&o.account, "account", "", "sbatch --account (omitted when empty)")
	fs.StringVar(&o.qos, "qos", "", "sbatch --qos (omitted when empty)")
	fs.StringVar(&o.binary, "binary", "", "relora binary the nodes run, on the shared filesystem (default: this one)")
	fs.Float64Var(&o.timeScale, "time-scale", 1, "multiply the estimated run times by this (nodes slower than this harness's measurements, e.g. without AVX2)")
}

// slurmJob is one `relora slurm` invocation: its flags and, once
// resolvePaths has run, the absolute paths the nodes use.
type slurmJob struct {
	slurmFlags
	m                *matrixFlags
	preset           experiments.Preset
	runsDir, results string
}

func parseSlurm(args []string, reg []tables.Table) (*slurmJob, error) {
	j := &slurmJob{}
	m, p, err := parseMatrix("slurm", args, tableFlags(reg...), j.bind)
	if err != nil {
		return nil, err
	}
	if j.throttle < 0 || !(j.timeScale > 0) {
		return nil, fmt.Errorf("slurm: -throttle must be ≥ 0 and -time-scale > 0")
	}
	j.m, j.preset = m, p
	return j, nil
}

// resolvePaths makes the runs and results folders and the binary (this
// one unless -binary) absolute: the nodes do not share the working
// directory.
func (j *slurmJob) resolvePaths() error {
	if j.binary == "" {
		b, err := os.Executable()
		if err != nil {
			return err
		}
		j.binary = b
	}
	j.runsDir, j.results = j.m.runsDir, j.m.results
	for _, p := range []*string{&j.runsDir, &j.results, &j.binary} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	return nil
}

// renderCommand is the table command the render job runs once the array
// is done: one core, since every run is trained by then.
func (j *slurmJob) renderCommand() []string {
	render := []string{j.binary, j.table, "-preset", j.preset.Name, "-j", "1", "-runs", j.runsDir, "-results", j.results}
	if j.m.seeds != "" {
		render = append(render, "-seeds", j.m.seeds)
	}
	return append(render, givenTableFlags(j.m)...)
}

// regenerateCommand is this command with every choice spelled out, so the
// render job can tell how to resubmit the runs that failed.
func (j *slurmJob) regenerateCommand() []string {
	regen := []string{j.binary, "slurm", "-table", j.table, "-preset", j.preset.Name, "-runs", j.runsDir, "-results", j.results,
		"-throttle", fmt.Sprint(j.throttle), "-time-scale", fmt.Sprint(j.timeScale), "-binary", j.binary}
	regen = append(regen, givenTableFlags(j.m)...)
	for _, o := range []struct{ flag, v string }{{"-seeds", j.m.seeds}, {"-partition", j.partition}, {"-account", j.account}, {"-qos", j.qos}} {
		if o.v != "" {
			regen = append(regen, o.flag, o.v)
		}
	}
	return regen
}

// renderLimits are the render job's time and memory. It reads every run,
// records it, draws the figures and (spectra, report) analyses Fig. 5's
// checkpoints: seconds to minutes on one core; it trains nothing when
// every run finished.
func renderLimits(table string) (time.Duration, int64) {
	if table == "report" {
		return time.Hour, 4 << 30
	}
	return 30 * time.Minute, 2 << 30
}

// write writes the array and render scripts for pending into
// <runs>/slurm/ and says how to submit them.
func (j *slurmJob) write(pending []runner.Pending) error {
	renderTime, renderMem := renderLimits(j.table)
	files, err := runner.WriteSlurm(runner.SlurmArray{
		Name: j.table, Dir: filepath.Join(j.runsDir, "slurm"), Binary: j.binary, Runs: pending,
		Throttle: j.throttle, Partition: j.partition, Account: j.account, QOS: j.qos, TimeScale: j.timeScale,
		Render: j.renderCommand(), Regenerate: j.regenerateCommand(), RenderTime: renderTime, RenderMem: renderMem, RenderCPUs: 1,
	})
	if err != nil {
		return err
	}
	fmt.Printf("slurm: %s: %d unfinished runs → one array task each (--time=%s --mem=%s, 1 core, at most %s at once), then the render job:\n",
		j.table, len(pending), runner.SlurmTime(files.Time), runner.SlurmMem(files.Mem), throttleText(j.throttle))
	fmt.Printf("  %s\n  %s\n  %s (the task list, one command a line)\n", files.Array, files.Render, files.Tasks)
	fmt.Printf("%s, the binary and the Go installation must be on a filesystem every node sees. Submit with:\n  bash %s\n",
		j.runsDir, runner.ShellQuote(files.Submit))
	return nil
}

// slurmConfigs returns the runs a table trains, as its -print-commands
// lists them; "report" is every table's, at the report's seeds.
func slurmConfigs(table string, reg []tables.Table, m *matrixFlags, p experiments.Preset) ([]train.Config, error) {
	if table == "report" {
		e := reportEnv(m, p, false, false)
		e.tables = reg
		return registryRuns(e)
	}
	t, ok := tableNamed(reg, table)
	if !ok {
		return nil, fmt.Errorf("slurm: -table %q: want one of %s", table, strings.Join(slurmTables(), ", "))
	}
	runs, err := t.Runs(newEnv(m, p, p, true, false))
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("slurm: -table %s trains no runs (it measures on the machine that renders it)", table)
	}
	return experiments.Configs(runs), nil
}

// givenTableFlags are the tables' own flags (ablation's -rows) as given,
// to pass on to the render and regenerate commands.
func givenTableFlags(m *matrixFlags) []string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	tableFlags(registry()...)(fs)
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := m.given[f.Name]; ok {
			out = append(out, "-"+f.Name, v)
		}
	})
	return out
}

// slurmTables are the tables `relora slurm` can submit: every table of the
// registry and the whole report.
func slurmTables() []string {
	var names []string
	for _, t := range registry() {
		names = append(names, t.Name())
	}
	return append(names, "report")
}

func throttleText(n int) string {
	if n == 0 {
		return "all"
	}
	return fmt.Sprint(n)
}

func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, w := range argv {
		q[i] = runner.ShellQuote(w)
	}
	return strings.Join(q, " ")
}
