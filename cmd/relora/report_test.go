package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/throughput"
)

func TestReportReusesTable4OfTheSamePreset(t *testing.T) {
	dir := t.TempDir()
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, throughput.JSONFile), []byte(`{"preset":"quick","rank":4}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tt, note, err := throughputForReport(p, dir, false)
	if err != nil || tt.Rank != 4 || !strings.Contains(note, "reused") {
		t.Fatalf("got %+v, %q, %v; want the stored table reused", tt, note, err)
	}
}

func TestReportNamesACorruptTable4(t *testing.T) {
	dir := t.TempDir()
	p, _ := experiments.Get("quick")
	if err := os.WriteFile(filepath.Join(dir, throughput.JSONFile), []byte(`{"preset":`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := throughputForReport(p, dir, false)
	if err == nil || !strings.Contains(err.Error(), throughput.JSONFile) {
		t.Fatalf("error %v, want one naming %s", err, throughput.JSONFile)
	}
}

// The report's loss-against-compute section waits for the equal-FLOP runs
// as well as Table 1's, and names `make budget` as what trains them.
func TestReportHasTheBudgetSection(t *testing.T) {
	p, _ := experiments.Get("quick")
	spec, err := experiments.Budget(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range reportParts(&matrixFlags{results: t.TempDir()}, p, false, false) {
		if part.target != "budget" {
			continue
		}
		runs, err := part.runs()
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, c := range experiments.Configs(runs) {
			have[runner.Hash(c)] = true
		}
		for _, c := range experiments.Configs(append(experiments.Ablation(p), spec.Runs...)) {
			if !have[runner.Hash(c)] {
				t.Fatalf("the budget section does not wait for run %s (%s)", runner.Hash(c), c.ReLoRA.Method)
			}
		}
		return
	}
	t.Fatal("no report section is trained by `make budget`")
}
