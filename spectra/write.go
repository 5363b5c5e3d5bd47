package spectra

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
)

// Files written under the results folder.
const (
	MarkdownFile = "spectra.md"
	JSONFile     = "spectra.json"
	Fig5Figure   = "figures/fig5_singular_values"
	GrowthFigure = "figures/spectra_rank_growth"
)

// Write renders the table into resultsDir: spectra.md (table, claim,
// figure links), spectra.json and the figures (PNG + SVG). The figures need
// the singular values Build keeps out of the JSON, so t must come from
// Build, not from decoding spectra.json.
func Write(resultsDir string, t *Table) error {
	if t.sigma == nil {
		return errors.New("spectra: Write needs a Table made by Build (the singular values of Fig. 5 are not in the JSON)")
	}
	if err := t.writeFig5(filepath.Join(resultsDir, Fig5Figure)); err != nil {
		return err
	}
	if t.Growth.Skipped == "" {
		if err := t.writeGrowth(filepath.Join(resultsDir, GrowthFigure)); err != nil {
			return err
		}
	}
	return report.WriteDocument(resultsDir, JSONFile, t, MarkdownFile, t.Markdown())
}

// Markdown is the whole spectra.md: table, claim, figures, exports.
func (t *Table) Markdown() string {
	var b strings.Builder
	b.WriteString(t.Report().Markdown())
	fmt.Fprintf(&b, "\n![Fig. 5 — singular values of ΔW](%s.png)\n\n", Fig5Figure)
	fmt.Fprintf(&b, "Fig. 5 leaves out the singular values that are numerically zero (σ ≤ %s·σmax of their layer; the legend counts them, the complement of the table's numerical rank): in the paper's form they are one bin at 0 that flattens every other bin.\n\n", tolText)
	if t.Growth.Skipped != "" {
		fmt.Fprintf(&b, "Rank growth: not shown — %s.\n", t.Growth.Skipped)
	} else {
		fmt.Fprintf(&b, "Rank growth of ReLoRA's update after each merge (checkpoints at steps %v; the last one is the end of training):\n\n", t.Growth.Steps)
		fmt.Fprintf(&b, "![ReLoRA rank growth](%s.png)\n", GrowthFigure)
	}
	b.WriteString("\n#### Effective weights exported (safetensors, F32, tensors `layers.<i>.<proj>` of shape [out, in])\n\n")
	for _, r := range t.Runs {
		fmt.Fprintf(&b, "- %s: `%s` (step %d), `%s` (step %d)\n", r.Method, r.WarmExport, r.WarmStep, r.EndExport, r.EndStep)
	}
	return b.String()
}

// rangeCell shows a statistic over layers as "mean (min–max)"; a single
// layer shows just its value.
func rangeCell(r Range, dec int) string {
	if r.Min == r.Max {
		return fmt.Sprintf("%.*f", dec, r.Mean)
	}
	return fmt.Sprintf("%.*f (%.*f–%.*f)", dec, r.Mean, dec, r.Min, dec, r.Max)
}

// Report returns the table as report.Table: one row per projection ×
// method.
func (t *Table) Report() report.Table {
	rt := report.Table{
		Title: "Fig. 5 — spectrum of the weight update ΔW per projection (mean (min–max) over layers)",
		Header: []string{"Projection", "Method", "min(out,in)", "r", "σ < 0.1", "σ < 0.1·σmax",
			"eff. rank", "stable rank", "num. rank", "σmax"},
		Align: []report.Align{report.AlignLeft, report.AlignLeft},
	}
	for _, r := range t.Rows {
		rt.Rows = append(rt.Rows, []string{r.Proj, r.Method, fmt.Sprint(r.Size), fmt.Sprint(r.LoRARank),
			rangeCell(r.BelowAbs, 1), rangeCell(r.BelowRel, 1), rangeCell(r.EffRank, 1),
			rangeCell(r.StableRank, 2), rangeCell(r.NumRank, 1), rangeCell(r.SigmaMax, 3)})
	}
	rt.Notes = []string{
		fmt.Sprintf("Model %q (d %d, ffn %d, %d layers), %d steps; W_warm = weights after the %d-step full-rank warm start; "+
			"LoRA rank r = %d, alpha = %g; ReLoRA merged after steps %v (the steps of metrics.jsonl and of the kept checkpoints ckpt-<step>).",
			t.Preset, t.Model.Dim, t.Model.FFN, t.Model.Layers, t.Steps, t.WarmStart, t.Rank, t.Alpha, oneBased(t.Merges)),
		"ΔW: full-rank W_end − W_warm; ReLoRA (W_end + s·B·A) − W_warm, the sum of every merged update and the current one; " +
			"LoRA+WS s·B·A of the final checkpoint alone (s = alpha/r), as the paper's notebook computes it.",
		fmt.Sprintf("σ < %g is the paper's count. An absolute threshold measures the size of ΔW as much as its rank: a smaller "+
			"learning rate, fewer steps or a smaller model shrink every singular value and raise the count without changing the rank, "+
			"so at this scale it may count nearly all values for every method. σ < %g·σmax is scale-free and comparable across methods.",
			AbsThreshold, RelThreshold),
		"Effective rank: exp of the Shannon entropy of σ/Σσ (Roy & Vetterli 2007), a threshold-free rank between 1 and min(out,in). " +
			"Stable rank: ‖ΔW‖_F²/σmax², the number of directions carrying the energy. " +
			fmt.Sprintf("Numerical rank: σ > %g·σmax (float32 rounding of the weights is ≈1e-7·σmax).", NumRankTol),
	}
	if t.LoRAFrozenDrift != 0 {
		rt.Notes = append(rt.Notes, fmt.Sprintf("Warning: the LoRA+WS run's frozen weights differ from its warm-start weights by up to %g, "+
			"so s·B·A is not exactly its W_eff − W_warm.", t.LoRAFrozenDrift))
	}
	return rt
}

// writeFig5 draws the paper's Fig. 5: for q, v, up and down, density
// histograms (50 bins, as the official notebook) of the singular values of
// all layers' ΔW, the three methods overlaid. The singular values that are
// numerically zero (≤ NumRankTol·σmax of their layer, the complement of the
// table's numerical rank: 56 of 64 per layer for LoRA's rank-8 update) are
// left out, and the legend counts them: in the paper's figure they are one
// bin at 0 that dwarfs every other bin.
func (t *Table) writeFig5(path string) error {
	var panels []report.Histogram
	for _, p := range Fig5Projections {
		h := report.Histogram{Title: fmt.Sprintf("%s projections (σ ≤ %s·σmax left out)", p, tolText), XLabel: "singular value of ΔW", Bins: 50, FromZero: true}
		for _, m := range Methods {
			shown, hidden := t.nonZeroSigma(p, m)
			h.Series = append(h.Series, report.HistSeries{
				Name:   fmt.Sprintf("%s (%d of %d σ left out)", shortName(m), hidden, hidden+len(shown)),
				Method: m, Values: shown})
		}
		panels = append(panels, h)
	}
	if err := report.SavePanels(path, panels, 2, 5, 3.2); err != nil {
		return fmt.Errorf("spectra: %s: %w", Fig5Figure, err)
	}
	return nil
}

// tolText is NumRankTol as figures print it ("1e-6", not "1e-06").
var tolText = strings.Replace(strconv.FormatFloat(NumRankTol, 'g', -1, 64), "e-0", "e-", 1)

// nonZeroSigma returns the singular values of a projection's ΔW (all
// layers) above NumRankTol·σmax of their layer, and how many it left out.
func (t *Table) nonZeroSigma(proj, method string) (shown []float64, hidden int) {
	all, size := t.sigma[method][proj], t.row(proj, method).Size
	for l := 0; l+size <= len(all); l += size {
		layer := all[l : l+size]
		tol := NumRankTol * sigmaMax(layer)
		for _, v := range layer {
			if v > tol {
				shown = append(shown, v)
			} else {
				hidden++
			}
		}
	}
	return shown, hidden
}

// shortName keeps legends narrow: the ReLoRA row's name spells out its
// switches, which the figure does not need.
func shortName(method string) string {
	if method == experiments.RowReLoRA {
		return "ReLoRA"
	}
	return method
}

// writeGrowth draws ReLoRA's effective rank after each merge per
// projection (one line each, all in ReLoRA's colour, told apart by dash
// and marker), with full-rank and LoRA as horizontal references in theirs
// (their mean over the same projections, to keep the figure readable; the
// JSON has them per projection).
func (t *Table) writeGrowth(path string) error {
	g := t.Growth
	n := len(g.Steps)
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	var series []report.Series
	for k, p := range Fig5Projections {
		series = append(series, report.Series{Name: "ReLoRA " + p, Method: experiments.RowReLoRA, Variant: k, X: xs, Y: g.EffRank[p], Points: true})
	}
	ref := func(name, method string, byProj map[string]float64) report.Series {
		m := 0.0
		for _, p := range Fig5Projections {
			m += byProj[p]
		}
		m /= float64(len(Fig5Projections))
		return report.Series{Name: name, Method: method, X: []float64{1, float64(n)}, Y: []float64{m, m}}
	}
	series = append(series, ref("Full-rank ΔW", experiments.RowFull, g.Full), ref("LoRA+WS s·B·A", experiments.RowLoRAWS, g.LoRA))
	lp := report.LinePlot{
		Title:  "ReLoRA: effective rank of W − W_warm after each merge (mean over layers)",
		XLabel: fmt.Sprintf("merges (%d = end of training, current B·A included)", n),
		YLabel: "effective rank (references: mean of " + strings.Join(Fig5Projections, ", ") + ")", Series: series,
	}
	if err := lp.Save(path, 8, 4.5); err != nil {
		return fmt.Errorf("spectra: %s: %w", GrowthFigure, err)
	}
	return nil
}

// oneBased turns 0-based step indices into the 1-based step numbers that
// metrics.jsonl and the kept checkpoints use (a merge at index 1200 happens
// after step 1201, kept as ckpt-1201).
func oneBased(steps []int) []int {
	out := make([]int, len(steps))
	for i, s := range steps {
		out[i] = s + 1
	}
	return out
}
