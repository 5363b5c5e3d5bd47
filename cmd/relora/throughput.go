package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/kernels/gemm"
	"github.com/relorago/harness/throughput"
	"github.com/relorago/harness/train"
)

// throughputCmd regenerates the paper's Table 4 across model widths: per
// width and thread count one process pairs full-rank and ReLoRA steps round
// by round; memory comes from one process per step kind.
func throughputCmd(args []string) error {
	fs := flag.NewFlagSet("throughput", flag.ContinueOnError)
	preset := fs.String("preset", "default", "experiment preset whose model (depth, batch, sequence), data and warm start are measured")
	widths := fs.String("widths", "", "comma-separated model widths (default: the preset's, 64…1024 for default and tiny)")
	o := throughput.DefaultOptions
	fs.IntVar(&o.Warmup, "warmup", o.Warmup, "untimed rounds per speed probe")
	fs.IntVar(&o.MinRounds, "min-rounds", o.MinRounds, "timed rounds per speed probe, at least")
	fs.IntVar(&o.MaxRounds, "max-rounds", o.MaxRounds, "timed rounds per speed probe, at most")
	fs.Float64Var(&o.Seconds, "seconds", o.Seconds, "time budget of a speed probe's timed rounds (rounds between -min-rounds and -max-rounds)")
	fs.IntVar(&o.Retries, "retries", o.Retries, fmt.Sprintf("measure a speed probe again, up to this many times, when one core's FMA loop read more than %.0f%% apart at its start and end (the host was shared)", 100*throughput.SharedSpread))
	threads := fs.String("threads", "1,2", "thread counts to measure")
	results := fs.String("results", "", "folder for the table and figure (default: the preset's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.MinRounds < 2 || o.MaxRounds < o.MinRounds || o.Warmup < 0 {
		return fmt.Errorf("throughput: want 2 ≤ -min-rounds ≤ -max-rounds and -warmup ≥ 0 (an interval needs 2 rounds)")
	}
	if o.Retries < 0 {
		return fmt.Errorf("throughput: -retries %d: want 0 or more", o.Retries)
	}
	var err error
	if o.Threads, err = intList(*threads); err != nil {
		return fmt.Errorf("throughput: -threads: %w", err)
	}
	dims, err := intList(*widths)
	if err != nil {
		return fmt.Errorf("throughput: -widths: %w", err)
	}
	p, err := experiments.Get(*preset)
	if err != nil {
		return err
	}
	if *results == "" {
		*results = p.ResultsDir
	}
	t, err := measureWidths(p, dims, o, *results)
	if err != nil {
		return err
	}
	fmt.Print(t.Markdown())
	return nil
}

// measureThroughput measures Table 4 for a preset and writes its files
// (`relora report -remeasure`): warmup untimed rounds and between minRounds
// and maxRounds timed ones per speed probe, within the default time budget.
func measureThroughput(p experiments.Preset, warmup, maxRounds, minRounds int, results string) (*throughput.Table, error) {
	o := throughput.DefaultOptions
	o.Warmup, o.MinRounds, o.MaxRounds = min(warmup, 1), max(2, minRounds), max(2, minRounds, min(maxRounds, o.MaxRounds))
	return measureWidths(p, nil, o, results)
}

func measureWidths(p experiments.Preset, dims []int, o throughput.Options, results string) (*throughput.Table, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	widths, err := throughput.Widths(p, dims)
	if err != nil {
		return nil, err
	}
	plan := throughput.NewPlan(p, widths, o)
	progress, err := throughput.NewProgress(p, plan)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	// elapsed says how long the measurement has run and, once a probe has
	// been timed, about how long it has left.
	elapsed := func(next int) string {
		s := time.Since(start).Round(time.Second).String() + " so far"
		if left, ok := progress.Left(next); ok {
			s += ", about " + left.Round(time.Second).String() + " left"
		}
		return s
	}
	var speed []throughput.Measurement
	for i, spec := range plan.Speed {
		fmt.Fprintf(os.Stderr, "speed %d/%d: d %d, %d thread(s): full-rank and ReLoRA r %v, fused and composed, paired by rounds (%s)\n",
			i+1, len(plan.Speed), spec.Width.Dim, spec.Threads, spec.Width.Ranks, elapsed(i))
		run := func() (throughput.Measurement, error) {
			t0 := time.Now()
			ms, err := throughput.RunProbes(self, []throughput.Spec{spec}, 1)
			if err != nil {
				return throughput.Measurement{}, err
			}
			progress.Done(i, ms[0], time.Since(t0))
			return ms[0], nil
		}
		again := func(attempt int, short float64) {
			fmt.Fprintf(os.Stderr, "speed %d/%d: one core's FMA loop read %.1f%% apart at the probe's start and end (more than %.0f%%: the host was shared); measuring it again, attempt %d of %d (%s)\n",
				i+1, len(plan.Speed), 100*short, 100*throughput.SharedSpread, attempt, 1+o.Retries, elapsed(i))
		}
		m, err := throughput.MeasureQuiet(run, o.Retries, again)
		if err != nil {
			return nil, err
		}
		speed = append(speed, m)
	}
	// Memory probes only read their peak RSS: two at a time, one per core.
	fmt.Fprintf(os.Stderr, "memory: %d probes, 2 at a time (%s)\n", len(plan.Memory), elapsed(len(plan.Speed)))
	memory, err := throughput.RunProbes(self, plan.Memory, 2)
	if err != nil {
		return nil, err
	}
	t, err := throughput.Build(p, plan, speed, memory)
	if err != nil {
		return nil, err
	}
	t.Backend, t.Kernel, t.Date = gemm.Backend, gemm.MicroKernel(), start.UTC().Format("2006-01-02 15:04 UTC")
	t.CPU = train.CPUModel()
	if g := train.CPUGeneration(); g != "" {
		t.CPU += " (" + g + ")"
	}
	fmt.Fprintf(os.Stderr, "measured in %s\n", time.Since(start).Round(time.Second))
	if short, shared := t.PeakShortfall(); shared {
		fmt.Fprintf(os.Stderr, "warning: one core's FMA loop read %.0f–%.0f GFLOP/s during the probes, the lowest %.1f%% under the highest:\n"+
			"  other work slowed the cores. The speed-ups are paired, but their intervals are wider than on a quiet machine.\n",
			t.FMAPeak[0], t.FMAPeak[1], 100*short)
	}
	return t, throughput.Write(results, t)
}

// intList parses "1,2,3" (empty: nil).
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
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
