package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/throughput"
	"github.com/relorago/harness/train"
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
	b, err := throughput.Entry{}.Build(newEnv(&matrixFlags{results: dir}, p, p, false, false))
	if err != nil {
		t.Fatal(err)
	}
	if tt, ok := b.Table.(*throughput.Table); !ok || tt.Rank != 4 || !strings.Contains(b.Note, "reused") {
		t.Fatalf("got %+v, %q; want the stored table reused", b.Table, b.Note)
	}
}

func TestReportNamesACorruptTable4(t *testing.T) {
	dir := t.TempDir()
	p, _ := experiments.Get("quick")
	if err := os.WriteFile(filepath.Join(dir, throughput.JSONFile), []byte(`{"preset":`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := throughput.Entry{}.Build(newEnv(&matrixFlags{results: dir}, p, p, false, false))
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
	e := reportEnv(&matrixFlags{results: t.TempDir()}, p, false, false)
	for _, part := range e.tables {
		if part.Target() != "budget" {
			continue
		}
		runs, err := part.Runs(e)
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
		needs, err := part.Needs(e)
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

// The sweep section renders once one sweep is complete: it needs the runs
// of the sweep with the fewest missing, here the reset-interval sweep,
// whose runs alone are in the cache.
func TestReportSweepSectionNeedsOneCompleteSweep(t *testing.T) {
	p, _ := experiments.Get("default")
	p.Seeds = seedsUpTo(reportSeeds)
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		t.Fatal(err)
	}
	m := &matrixFlags{results: t.TempDir(), runsDir: t.TempDir()}
	reset := map[string]bool{}
	for _, label := range sweeps[0].Points {
		reset[label] = true
	}
	for _, r := range runs {
		if !reset[r.Size] {
			continue
		}
		dir := filepath.Join(m.runsDir, runner.Hash(r.Config))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, train.ResultFile), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := reportEnv(m, p, false, false)
	for _, part := range e.tables {
		if part.Target() != "sweep" {
			continue
		}
		needs, err := part.Needs(e)
		if err != nil {
			t.Fatal(err)
		}
		if n := runner.Missing(experiments.Configs(needs), m.runsDir, m.recordsDir()); n != 0 || len(needs) == 0 {
			t.Fatalf("the sweep section needs %d runs, %d of them missing; want the complete reset sweep", len(needs), n)
		}
		for _, r := range needs {
			if !reset[r.Size] {
				t.Errorf("the sweep section needs %s at %s", r.Row, r.Size)
			}
		}
		return
	}
	t.Fatal("no report section is trained by `make sweep`")
}
