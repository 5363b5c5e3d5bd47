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
	var (
		table, partition, account, qos, binary string
		throttle                               int
		timeScale                              float64
	)
	reg := registry()
	m, p, err := parseMatrix("slurm", args, tableFlags(reg...), func(fs *flag.FlagSet) {
		fs.StringVar(&table, "table", "report", "table to run: "+strings.Join(slurmTables(), ", "))
		fs.IntVar(&throttle, "throttle", 32, "array tasks running at once (0 = no limit)")
		fs.StringVar(&partition, "partition", "", "sbatch --partition (omitted when empty)")
		fs.StringVar(&account, "account", "", "sbatch --account (omitted when empty)")
		fs.StringVar(&qos, "qos", "", "sbatch --qos (omitted when empty)")
		fs.StringVar(&binary, "binary", "", "relora binary the nodes run, on the shared filesystem (default: this one)")
		fs.Float64Var(&timeScale, "time-scale", 1, "multiply the estimated run times by this (nodes slower than this harness's measurements, e.g. without AVX2)")
	})
	if err != nil {
		return err
	}
	if throttle < 0 || !(timeScale > 0) {
		return fmt.Errorf("slurm: -throttle must be ≥ 0 and -time-scale > 0")
	}
	configs, err := slurmConfigs(table, reg, m, p)
	if err != nil {
		return err
	}
	own := givenTableFlags(m)
	if binary == "" {
		if binary, err = os.Executable(); err != nil {
			return err
		}
	}
	abs := func(p string) string {
		if err == nil {
			p, err = filepath.Abs(p)
		}
		return p
	}
	runsDir, results, binary := abs(m.runsDir), abs(m.results), abs(binary)
	if err != nil {
		return err
	}

	render := []string{binary, table, "-preset", p.Name, "-j", "1", "-runs", runsDir, "-results", results}
	if m.seeds != "" {
		render = append(render, "-seeds", m.seeds)
	}
	render = append(render, own...)

	regen := []string{binary, "slurm", "-table", table, "-preset", p.Name, "-runs", runsDir, "-results", results,
		"-throttle", fmt.Sprint(throttle), "-time-scale", fmt.Sprint(timeScale), "-binary", binary}
	regen = append(regen, own...)
	for _, o := range []struct{ flag, v string }{{"-seeds", m.seeds}, {"-partition", partition}, {"-account", account}, {"-qos", qos}} {
		if o.v != "" {
			regen = append(regen, o.flag, o.v)
		}
	}

	pending, err := runner.Unfinished(configs, runsDir)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		fmt.Printf("slurm: every run of %s is finished in %s: nothing to submit, nothing written. Render with:\n  %s\n",
			table, runsDir, shellJoin(render))
		return nil
	}
	if m.commands {
		for _, r := range pending {
			fmt.Println(r.Command(binary))
		}
		return nil
	}

	// The render job reads every run, records it, draws the figures and
	// (spectra, report) analyses Fig. 5's checkpoints: seconds to minutes
	// on one core; it trains nothing when every run finished.
	renderTime, renderMem := 30*time.Minute, int64(2<<30)
	if table == "report" {
		renderTime, renderMem = time.Hour, 4<<30
	}
	dir := filepath.Join(runsDir, "slurm")
	files, err := runner.WriteSlurm(runner.SlurmArray{
		Name: table, Dir: dir, Binary: binary, Runs: pending,
		Throttle: throttle, Partition: partition, Account: account, QOS: qos, TimeScale: timeScale,
		Render: render, Regenerate: regen, RenderTime: renderTime, RenderMem: renderMem, RenderCPUs: 1,
	})
	if err != nil {
		return err
	}
	fmt.Printf("slurm: %s: %d unfinished runs → one array task each (--time=%s --mem=%s, 1 core, at most %s at once), then the render job:\n",
		table, len(pending), runner.SlurmTime(files.Time), runner.SlurmMem(files.Mem), throttleText(throttle))
	fmt.Printf("  %s\n  %s\n  %s (the task list, one command a line)\n", files.Array, files.Render, files.Tasks)
	fmt.Printf("%s, the binary and the Go installation must be on a filesystem every node sees. Submit with:\n  bash %s\n",
		runsDir, runner.ShellQuote(files.Submit))
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
