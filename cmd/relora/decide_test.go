package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// decide -n on the committed records judges the family, renders the report
// and plans seeds within the budget, cheapest claim first, training
// nothing: the run cache stays empty.
func TestDecidePlansFromTheRecordsWithoutTraining(t *testing.T) {
	results, runs := committedRecords(t), t.TempDir()
	if err := decideCmd([]string{"-n", "-budget", "1h", "-j", "2", "-results", results, "-runs", runs}); err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile(filepath.Join(results, "REPORT.md"))
	if err != nil || !strings.Contains(string(report), "family-wise error 5%, Holm") {
		t.Fatalf("REPORT.md not rendered (%v)", err)
	}
	if entries, _ := os.ReadDir(runs); len(entries) > 0 {
		t.Fatalf("decide -n trained or wrote %d entries into the run cache", len(entries))
	}

	// The same plan, as the command makes it: within 2 core-hours, every
	// planned run new, and none of them a fine-tuning run (their seeds
	// depend on a learning-rate search decide does not run).
	m := &matrixFlags{results: results, runsDir: runs}
	p, _ := experiments.Get("default")
	j, err := writeReport(reportEnv(m, p, false, false))
	if err != nil {
		t.Fatal(err)
	}
	has := func(c train.Config) bool { return runner.Missing([]train.Config{c}, runs, m.recordsDir()) == 0 }
	steps, err := j.Plan(p, 2, has)
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, s := range steps {
		total += s.Hours
		for _, r := range s.Runs {
			if has(r.Config) || r.Config.Finetune != nil {
				t.Errorf("%s plans %s seed %d, which exists or is a fine-tuning run", s.ID, r.Row, r.Seed)
			}
		}
	}
	if total > 2 {
		t.Errorf("plan of %.2f core-hours for a budget of 2", total)
	}
}
