package throughput

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/relorago/harness/report"
)

// Files written under the results folder.
const (
	MarkdownFile = "throughput.md"
	JSONFile     = "throughput.json"
	RankFigure   = "figures/throughput_vs_rank"
)

// Write renders the tables (Markdown and JSON) and the rank figure into dir.
// It reads nothing: everything comes from t.
func Write(dir string, t *Table) error {
	if err := t.rankPlot().Save(filepath.Join(dir, RankFigure), 7.5, 4); err != nil {
		return err
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

// rankPlot is ReLoRA's speed-up by rank, measured and modelled, in
// ReLoRA's colour (the model a variant of it), over the full-rank
// reference at 1×; the rank axis labels the measured ranks.
func (t *Table) rankPlot() report.LinePlot {
	var ranks, measured, model []float64
	for _, r := range t.Ranks {
		ranks = append(ranks, float64(r.Rank))
		measured = append(measured, r.MeasuredRatio)
		model = append(model, r.FLOPRatio)
	}
	series := []report.Series{
		{Name: "ReLoRA, measured", Method: "ReLoRA", X: ranks, Y: measured, Points: true},
		{Name: "ReLoRA, FLOP model", Method: "ReLoRA", Variant: 1, X: ranks, Y: model, Points: true},
	}
	if len(ranks) > 0 {
		series = append(series, report.Series{Name: "full-rank (1×)", Method: "full-rank",
			X: []float64{ranks[0], ranks[len(ranks)-1]}, Y: []float64{1, 1}})
	}
	return report.LinePlot{
		Title: "ReLoRA step speed-up over full-rank vs rank (1 core)", XLabel: "LoRA rank r (log scale)", YLabel: "speed-up (tokens/s ÷ full-rank)", LogX: true,
		Series: series,
	}
}

// Markdown is the whole throughput.md.
func (t *Table) Markdown() string {
	var b strings.Builder
	speed := report.Table{
		Title:  fmt.Sprintf("Table 4 — training throughput, full-rank vs ReLoRA (r = %d), preset %q", t.Rank, t.Preset),
		Header: []string{"Setup", "Full-rank tok/s", "ReLoRA tok/s", "Full ex/s", "ReLoRA ex/s", "Immediate speed-up", "WS-adjusted tok/s", "WS-adjusted speed-up"},
	}
	for _, r := range append(t.Rows, t.Fused) {
		speed.Rows = append(speed.Rows, []string{r.Name, f0(r.FullTokS), f0(r.ReLoRATokS), f1(r.FullExS), f1(r.ReLoRAExS),
			fmt.Sprintf("%.2f×", r.Immediate), f0(r.AdjustedTokS), fmt.Sprintf("%.2f×", r.AdjustedSpeed)})
	}
	speed.Notes = []string{
		fmt.Sprintf("Each ReLoRA probe alternates its steps with full-rank steps in the same process, and both are timed: the speed-up is measured under the same conditions (between processes the same step's speed varies by ±20%% on this shared VM). Tokens/s at the median step time after a warm-up; of each probe the median of %d rounds of the whole plan; evaluation excluded. \"2 runs at once\" sums two single-threaded processes, as the runner's workers run.", max(t.Rounds, 1)),
		"The training runs use the composed LoRA path (relora.LoRA: x·Wᵀ + s·(x·Aᵀ)·Bᵀ with the committed results' exact arithmetic); the fused row uses the single LoRALinear op, numerically the same up to float rounding.",
		fmt.Sprintf("Warm-start-adjusted: %.0f%% of a ReLoRA run is full-rank warm start, so its throughput is 1 / (%.2f/full + %.2f/ReLoRA) (the paper's definition).", 100*WarmFraction, WarmFraction, 1-WarmFraction),
	}
	b.WriteString(speed.Markdown())

	mem := report.Table{
		Title:  "Memory and work per step (1 core)",
		Header: []string{"Step", "Trainable params", "Total params", "Optimizer floats", "Activations+grads (MB)", "Peak RSS (MB)", "GFLOP/step", "Median ms", "GFLOP/s"},
	}
	for i, m := range t.Memory {
		name := "full-rank"
		switch {
		case i > 0 && m.Fused:
			name = fmt.Sprintf("ReLoRA r=%d, fused LoRA op", m.Rank)
		case i > 0:
			name = fmt.Sprintf("ReLoRA r=%d", m.Rank)
		}
		mem.Rows = append(mem.Rows, []string{name, fmt.Sprint(m.Trainable), fmt.Sprint(m.Total), fmt.Sprint(m.OptFloats),
			f1(float64(m.ArenaBytes) / 1e6), f1(float64(m.MaxRSSBytes) / 1e6), fmt.Sprintf("%.2f", m.FLOPs/1e9), f1(m.MedianMillis), f1(m.GFLOPs)})
	}
	mem.Notes = []string{"FLOPs: 6 per weight per token for trainable linears, 4 for frozen ones (no weight gradient), plus attention's 12·T²·d per layer and sequence (model.Config.FLOPsPerStep). " +
		"The speed-up comes from the frozen W's skipped weight-gradient GEMM (a third of a linear's work) and the optimizer's smaller state; the LoRA path adds 6·r·(in+out) per token per linear, so it shrinks as r grows, and attention, embeddings and the head are unchanged."}
	b.WriteString("\n" + mem.Markdown())

	rk := report.Table{Title: "Speed-up vs rank (1 core)", Header: []string{"r", "Trainable params", "Measured speed-up", "FLOP-model speed-up", "ReLoRA GFLOP/s"}}
	for _, r := range t.Ranks {
		rk.Rows = append(rk.Rows, []string{fmt.Sprint(r.Rank), fmt.Sprint(r.Trainable), fmt.Sprintf("%.2f×", r.MeasuredRatio), fmt.Sprintf("%.2f×", r.FLOPRatio), f1(r.ReLoRAGFLOPs)})
	}
	b.WriteString("\n" + rk.Markdown())
	b.WriteString("\n#### Claim of the paper's Table 4\n\n")
	b.WriteString(report.ClaimsMarkdown(t.Claims))
	fmt.Fprintf(&b, "\n![speed-up vs rank](%s.png)\n", RankFigure)
	return b.String()
}

func f0(x float64) string { return fmt.Sprintf("%.0f", x) }
func f1(x float64) string { return fmt.Sprintf("%.1f", x) }

// Read loads a Table written by Write from dir's JSON file.
func Read(dir string) (*Table, error) {
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		return nil, err
	}
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("throughput: %s: %w", filepath.Join(dir, JSONFile), err)
	}
	return &t, nil
}
