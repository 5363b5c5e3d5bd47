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

// The report's loss-against-compute section lists the equal-FLOP runs
// beside Table 1's (for -print-commands), names `make budget` as what
// trains them, and needs only Table 1's to render.
func TestReportHasTheBudgetSection(t *testing.T) {
	// The default preset: the quick one's budget width is Table 1's, so its
	// full-rank budget run is Table 1's own.
	p, _ := experiments.Get("default")
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
				t.Fatalf("the budget section does not list run %s (%s)", runner.Hash(c), c.ReLoRA.Method)
			}
		}
		needs, err := part.needs()
		if err != nil || len(needs) == 0 {
			t.Fatalf("the budget section needs %d runs (%v), want Table 1's", len(needs), err)
		}
		budgetRun := map[string]bool{}
		for _, c := range experiments.Configs(spec.Runs) {
			budgetRun[runner.Hash(c)] = true
		}
		table1Row := map[string]bool{}
		for _, r := range experiments.Ablation(p) {
			table1Row[r.Row] = true
		}
		for _, r := range needs {
			if budgetRun[runner.Hash(r.Config)] || !table1Row[r.Row] {
				t.Errorf("the budget section needs %s seed %d to render, want only Table 1's runs", r.Row, r.Seed)
			}
		}
		return
	}
	t.Fatal("no report section is trained by `make budget`")
}
