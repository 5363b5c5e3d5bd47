package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// decideCmd trains the seeds that decide the most claims per core-hour
// within a time budget, then renders the report again. The family and its
// rules are fixed in package claims before this runs, so the new seeds
// confirm or refute rules the old seeds could not have shaped. Interrupted,
// it resumes: finished runs are reused, unfinished ones continue from their
// checkpoints, and the plan is recomputed from what exists.
func decideCmd(args []string) error {
	var budget time.Duration
	var dryRun bool
	m, p, err := parseMatrix("decide", args, func(fs *flag.FlagSet) {
		fs.DurationVar(&budget, "budget", 4*time.Hour, "wall time to spend training, with -j runs at once (e.g. 90m, 4h)")
		fs.BoolVar(&dryRun, "n", false, "print the plan and exit without training")
	})
	if err != nil {
		return err
	}
	if budget <= 0 {
		return fmt.Errorf("decide: -budget %v: want a positive duration such as 90m or 4h", budget)
	}
	if m.jobs < 1 {
		return fmt.Errorf("decide: -j %d: want at least 1", m.jobs)
	}
	coreHours := budget.Hours() * float64(m.jobs)

	j, err := writeReport(reportEnv(m, p, false, false))
	if err != nil {
		return err
	}
	has := func(c train.Config) bool { return runner.Missing([]train.Config{c}, m.runsDir, m.recordsDir()) == 0 }
	steps, err := j.Plan(p, coreHours, has)
	if err != nil {
		return err
	}
	var runs []experiments.Run
	total := 0.0
	fmt.Fprintf(os.Stderr, "decide: %.1f core-hours (%v on %d cores); plan, cheapest claim first:\n", coreHours, budget, m.jobs)
	for _, s := range steps {
		fmt.Fprintf(os.Stderr, "  %-22s %d seeds per cell: %2d runs, %.1f core-h (Holm p now %.3f)\n", s.ID, s.Seeds, len(s.Runs), s.Hours, s.Before.PAdjusted)
		runs = append(runs, s.Runs...)
		total += s.Hours
	}
	if len(steps) == 0 {
		fmt.Fprintln(os.Stderr, "  nothing: no undecided claim within reach fits the budget")
		return nil
	}
	fmt.Fprintf(os.Stderr, "  %d runs, %.1f core-hours\n", len(runs), total)
	if dryRun {
		return nil
	}
	if m.commands {
		_, _, err := m.execute(runs)
		return err
	}
	outs, _, err := m.execute(runs)
	if err != nil {
		return err
	}
	if err := m.record(outs); err != nil {
		return err
	}
	before := j.Counts()
	after, err := writeReport(reportEnv(m, p, false, false))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "decide: before %v; after %v\n", before, after.Counts())
	return nil
}
