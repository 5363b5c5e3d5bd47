package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/throughput"
)

// throughputCmd regenerates the paper's Table 4: it measures full-rank and
// ReLoRA steps in separate processes (so each reports its own peak memory).
func throughputCmd(args []string) error {
	fs := flag.NewFlagSet("throughput", flag.ContinueOnError)
	preset := fs.String("preset", "default", "experiment preset whose model, batch and rank are measured")
	warmup := fs.Int("warmup", 5, "untimed steps before timing")
	steps := fs.Int("steps", 40, "timed steps (the median is reported)")
	rounds := fs.Int("rounds", 3, "times the whole plan is measured (each probe's median round is reported)")
	results := fs.String("results", "", "folder for the table and figure (default: the preset's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *steps < 1 || *warmup < 0 || *rounds < 1 {
		return fmt.Errorf("throughput: -steps and -rounds must be ≥ 1 and -warmup ≥ 0")
	}
	p, err := experiments.Get(*preset)
	if err != nil {
		return err
	}
	if *results == "" {
		*results = p.ResultsDir
	}
	t, err := measureThroughput(p, *warmup, *steps, *rounds, *results)
	if err != nil {
		return err
	}
	fmt.Print(t.Markdown())
	return nil
}

// measureThroughput measures Table 4 for a preset and writes its files.
func measureThroughput(p experiments.Preset, warmup, steps, rounds int, results string) (*throughput.Table, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	plan := throughput.Plan(p, warmup, steps, []int{2, 4, 8, 16, 32, 64})
	var all [][][]throughput.Measurement
	for round := 1; round <= rounds; round++ {
		var measured [][]throughput.Measurement
		for i, batch := range plan {
			fmt.Fprintf(os.Stderr, "round %d/%d, measuring %d/%d: rank %d, %d run(s) × %d thread(s)\n",
				round, rounds, i+1, len(plan), batch[0].Rank, len(batch), batch[0].Threads)
			ms, err := throughput.RunProbes(self, batch)
			if err != nil {
				return nil, err
			}
			measured = append(measured, ms)
		}
		all = append(all, measured)
	}
	t, err := throughput.Build(p, plan, throughput.MedianOfRounds(all))
	if err != nil {
		return nil, err
	}
	t.Rounds = rounds
	return t, throughput.Write(results, t)
}

// probeCmd is the hidden per-process measurement behind throughputCmd.
func probeCmd(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("probe: want one JSON spec")
	}
	var spec throughput.Spec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	m, err := throughput.Measure(spec)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(m)
}
