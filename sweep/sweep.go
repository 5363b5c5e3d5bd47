// Package sweep renders the sensitivity sweeps: ReLoRA against its
// baselines while one of the paper's fixed choices (reset interval, rank,
// pruning ratio) varies, each gap with its 95% interval over seeds, and a
// sentence saying where ReLoRA's advantage holds.
package sweep

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/stats"
	"github.com/relorago/harness/train"
)

// Output files, relative to the results folder.
const (
	MarkdownFile = "sweep.md"
	JSONFile     = "sweep.json"
	FigurePrefix = "figures/sweep_"
)

// Gap is method − baseline validation perplexity at one point, over seeds.
type Gap struct {
	Method   string         `json:"method"`
	Baseline string         `json:"baseline"`
	Mean     float64        `json:"mean"`
	Lo       float64        `json:"-"` // 95% paired-t interval (NaN with one seed)
	Hi       float64        `json:"-"`
	Interval *[2]float64    `json:"interval,omitempty"` // [Lo, Hi] when there is one
	Seeds    int            `json:"seeds"`
	Better   int            `json:"better_seeds"` // seeds where the method's perplexity is lower
	Verdict  report.Verdict `json:"verdict"`      // "method beats baseline" at this point
}

// Point is one value of the swept parameter.
type Point struct {
	Label  string             `json:"label"`
	Value  float64            `json:"value"`
	Preset bool               `json:"preset"` // the preset's own value (Table 1's runs)
	Gaps   []Gap              `json:"gaps"`
	PPL    map[string]float64 `json:"mean_perplexity"` // per method
	// Unstable counts, per method, the seeds that did not diverge but whose
	// training loss blew up and recovered (train.InstabilityOf).
	Unstable map[string]int `json:"unstable_seeds,omitempty"`
	Seeds    map[string]int `json:"seeds,omitempty"` // per method
}

// Result is one sweep. A sweep with runs that have no result yet has no
// points: half a sweep would draw a trend from the points that happened to
// finish first.
type Result struct {
	experiments.Sweep
	Points  []Point `json:"points,omitempty"`
	Summary string  `json:"summary,omitempty"` // where the method's advantage holds
	Missing int     `json:"missing_runs,omitempty"`
}

// Done says whether every run of the sweep has a result.
func (r Result) Done() bool { return r.Missing == 0 }

// Table is every sweep.
type Table struct {
	Preset string   `json:"preset"`
	Sweeps []Result `json:"sweeps"`
}

// outcomes are the sweeps' runs as Build reads them, by (point, method).
type outcomes struct {
	ppl      map[[2]string]map[uint64]float64 // seed → final perplexity
	unstable map[[2]string]int                // seeds not diverged but unstable (train.InstabilityOf)
	missing  map[string]int                   // point → runs without a result
}

// readOutcomes collects every run's final perplexity and whether its
// training loss blew up and recovered (from its metrics.jsonl).
func readOutcomes(runs []experiments.Run, outs []runner.Outcome) (outcomes, error) {
	o := outcomes{ppl: map[[2]string]map[uint64]float64{}, unstable: map[[2]string]int{}, missing: map[string]int{}}
	for i, r := range runs {
		res := outs[i].Result
		if res == nil {
			o.missing[r.Size]++
			continue
		}
		k := [2]string{r.Size, r.Row}
		if o.ppl[k] == nil {
			o.ppl[k] = map[uint64]float64{}
		}
		o.ppl[k][r.Seed] = float64(res.FinalVal.Perplexity)
		ms, err := train.ReadMetrics(filepath.Join(outs[i].Dir, train.MetricsFile))
		if err != nil {
			return o, fmt.Errorf("sweep: %s at %s seed %d: %w", r.Row, r.Size, r.Seed, err)
		}
		if train.InstabilityOf(ms).Unstable() && res.Status != train.StatusDiverged {
			o.unstable[k]++
		}
	}
	return o, nil
}

// Build reads the sweeps' outcomes (runs from experiments.Sweeps, in order,
// plus any extra seeds). An outcome without a result (not trained yet, or
// failed) leaves its sweep unrendered, counted in Missing.
func Build(p experiments.Preset, sweeps []experiments.Sweep, runs []experiments.Run, outs []runner.Outcome) (*Table, error) {
	if len(runs) != len(outs) {
		return nil, fmt.Errorf("sweep: %d runs but %d outcomes", len(runs), len(outs))
	}
	o, err := readOutcomes(runs, outs)
	if err != nil {
		return nil, err
	}
	ppl, unstable, missing := o.ppl, o.unstable, o.missing
	t := &Table{Preset: p.Name}
	for _, sw := range sweeps {
		res := Result{Sweep: sw}
		for _, label := range sw.Points {
			res.Missing += missing[label]
		}
		if !res.Done() {
			t.Sweeps = append(t.Sweeps, res)
			continue
		}
		for i, label := range sw.Points {
			pt := Point{Label: label, Value: sw.Values[i], Preset: i == sw.Preset, PPL: map[string]float64{},
				Unstable: map[string]int{}, Seeds: map[string]int{}}
			for _, m := range sw.Methods {
				var xs []float64
				for _, v := range ppl[[2]string{label, m}] {
					xs = append(xs, v)
				}
				sortFloats(xs) // map order would change the sum's last bit
				pt.PPL[m] = stats.Mean(xs)
				pt.Seeds[m] = len(xs)
				if n := unstable[[2]string{label, m}]; n > 0 {
					pt.Unstable[m] = n
				}
			}
			for _, pair := range sw.Pairs {
				a, b := ppl[[2]string{label, pair[0]}], ppl[[2]string{label, pair[1]}]
				var d []float64
				for seed, pa := range a {
					if pb, ok := b[seed]; ok && !math.IsNaN(pa-pb) && !math.IsInf(pa-pb, 0) {
						d = append(d, pa-pb)
					}
				}
				sortFloats(d)
				iv := stats.MeanInterval(d)
				g := Gap{Method: pair[0], Baseline: pair[1], Mean: iv.Mean, Lo: iv.Lo, Hi: iv.Hi, Seeds: iv.N,
					Verdict: report.JudgeBelow(iv, 0)}
				for _, x := range d {
					if x < 0 {
						g.Better++
					}
				}
				if iv.N >= 2 {
					g.Interval = &[2]float64{iv.Lo, iv.Hi}
				}
				pt.Gaps = append(pt.Gaps, g)
			}
			res.Points = append(res.Points, pt)
		}
		res.Summary = summarize(res)
		t.Sweeps = append(t.Sweeps, res)
	}
	return t, nil
}

// sortFloats orders values so float sums over them do not depend on map
// order.
func sortFloats(xs []float64) { slices.Sort(xs) }

// summarize says, per pair, at which points the method beats its baseline
// beyond the noise, where it loses, and where it is inconclusive.
func summarize(r Result) string {
	var parts []string
	for k, pair := range r.Pairs {
		by := map[report.Verdict][]string{}
		for _, pt := range r.Points {
			by[pt.Gaps[k].Verdict] = append(by[pt.Gaps[k].Verdict], pt.Label)
		}
		var s []string
		if l := by[report.Reproduced]; len(l) > 0 {
			s = append(s, "ahead at "+strings.Join(l, ", "))
		}
		if l := by[report.NotReproduced]; len(l) > 0 {
			s = append(s, "behind at "+strings.Join(l, ", "))
		}
		if l := by[report.Inconclusive]; len(l) > 0 {
			s = append(s, "within the seed noise at "+strings.Join(l, ", "))
		}
		parts = append(parts, fmt.Sprintf("%s vs %s: %s", pair[0], pair[1], strings.Join(s, "; ")))
	}
	return strings.Join(parts, ". ") + "."
}
