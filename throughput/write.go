package throughput

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/relorago/harness/bench/peak"
	"github.com/relorago/harness/report"
)

// Files written under the results folder.
const (
	MarkdownFile = "throughput.md"
	JSONFile     = "throughput.json"
	WidthFigure  = "figures/throughput_vs_width"
)

// Write renders the tables (Markdown and JSON) and the width figure into
// dir. It reads nothing: everything comes from t.
func Write(dir string, t *Table) error {
	if err := t.WidthPlot().Save(filepath.Join(dir, WidthFigure), 7.5, 4.2); err != nil {
		return err
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

// WidthPlot is ReLoRA's measured speed-up over full-rank against the model
// width (one core, fused op, both ranks, each with its 95% interval over
// rounds as a band; two threads at r = d/8), next to the FLOP model's, over
// the full-rank reference at 1×.
func (t *Table) WidthPlot() report.LinePlot {
	var ticks []report.Tick
	var dims []float64
	for _, w := range t.Widths {
		dims = append(dims, float64(w.Dim))
		ticks = append(ticks, report.Tick{Value: float64(w.Dim), Label: fmt.Sprint(w.Dim)})
	}
	// Every line is ReLoRA: the colour tells the rank, the dash what was
	// drawn (measured on one core, the FLOP model, two threads).
	measured := func(name string, variant int, rankOf func(Width) int, threads int, band bool) (report.Series, report.Series) {
		rank := strings.SplitN(name, ",", 2)[0]
		s := report.Series{Name: name, Method: rank, Variant: variant, Points: true}
		m := report.Series{Name: "FLOP model, " + rank, Method: rank, Variant: 1, Dashed: true}
		for _, w := range t.Widths {
			c, ok := t.Cell(w.Dim, rankOf(w), true, threads)
			if !ok {
				continue
			}
			iv := c.Speedup()
			s.X, s.Y = append(s.X, float64(w.Dim)), append(s.Y, iv.Mean)
			if band && iv.N >= 2 {
				s.Lo, s.Hi = append(s.Lo, iv.Lo), append(s.Hi, iv.Hi)
			}
			m.X, m.Y = append(m.X, float64(w.Dim)), append(m.Y, c.FLOPSpeedup)
		}
		if len(s.Lo) != len(s.X) {
			s.Lo, s.Hi = nil, nil
		}
		return s, m
	}
	main, mainModel := measured("r = d/8, 1 core", 0, Width.MainRank, 1, true)
	thin, thinModel := measured("r = d/16, 1 core", 0, func(w Width) int { return w.Ranks[len(w.Ranks)-1] }, 1, true)
	two, _ := measured("r = d/8, 2 threads", 2, Width.MainRank, 2, false)
	series := []report.Series{main, mainModel, thin, thinModel, two}
	series = nonEmpty(series)
	if len(dims) > 0 {
		series = append(series, report.Series{Name: "full-rank (1×)", Method: "full-rank",
			X: []float64{dims[0], dims[len(dims)-1]}, Y: []float64{1, 1}})
	}
	return report.LinePlot{
		Title:  "ReLoRA step speed-up over full-rank vs width (fused LoRA op)",
		XLabel: "model width d (log scale; 4 layers, ffn 2.75·d)", YLabel: "speed-up (full-rank step time ÷ ReLoRA's)",
		LogX: true, XTicks: ticks, Series: series,
	}
}

// nonEmpty drops series without points.
func nonEmpty(ss []report.Series) []report.Series {
	var out []report.Series
	for _, s := range ss {
		if len(s.X) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// Markdown is the whole throughput.md: the speed-up table, where a step's
// time goes, memory and work per step, and the width figure.
func (t *Table) Markdown() string {
	if len(t.Widths) == 0 {
		// A throughput.json of the single-width table this one replaced.
		return fmt.Sprintf("### Table 4 — training throughput, preset %q\n\nThis Table 4 was measured by an older version (one width); `make throughput` measures it across widths.\n\n", t.Preset)
	}
	return t.speedupTable().Markdown() +
		"\n" + t.timeSplitTable().Markdown() +
		"\n" + t.memoryTable().Markdown() +
		fmt.Sprintf("\n![speed-up vs width](%s.png)\n", WidthFigure)
}

// stepKind is one way of running a step: on how many threads, and with the
// fused LoRA op or the composed one.
type stepKind struct {
	threads int
	fused   bool
}

// speedupKinds are the measured columns of the speed-up table, in order.
var speedupKinds = []stepKind{{1, true}, {1, false}, {2, true}, {2, false}}

// speedupTable is Table 4: ReLoRA's speed-up over full-rank for every
// width and rank, measured four ways, beside the FLOP model and the
// warm-start-adjusted figures.
func (t *Table) speedupTable() report.Table {
	speed := report.Table{
		Title: fmt.Sprintf("Table 4 — ReLoRA step speed-up over full-rank across model widths, preset %q", t.Preset),
		Header: []string{"d", "r", "FLOP model", "1 core, fused", "1 core, composed", "2 threads, fused", "2 threads, composed",
			fmt.Sprintf("WS-adjusted (%.0f%%)", 100*t.WarmFraction), "WS-adjusted (33%)", "Full-rank step, 1 core"},
		Notes: t.speedupNotes(),
	}
	for _, w := range t.Widths {
		for _, r := range w.Ranks {
			speed.Rows = append(speed.Rows, t.speedupRow(w.Dim, r))
		}
	}
	return speed
}

// speedupRow is one width and rank: the FLOP model, the four measured
// speed-ups ("—" when not measured), then the columns derived from the
// one-core fused cell, which is the reference (empty when it is missing).
func (t *Table) speedupRow(dim, rank int) []string {
	flop, adj, adjPaper, fullMs := "", "", "", ""
	if c, ok := t.Cell(dim, rank, true, 1); ok {
		iv := c.Speedup()
		flop = fmt.Sprintf("%.2fx", c.FLOPSpeedup)
		adj = fmt.Sprintf("%.2fx", Adjusted(iv.Mean, t.WarmFraction))
		adjPaper = fmt.Sprintf("%.2fx", Adjusted(iv.Mean, PaperWarmFraction))
		fullMs = fmt.Sprintf("%.0f ms", c.FullMillis)
	}
	row := []string{fmt.Sprint(dim), fmt.Sprint(rank), flop}
	for _, k := range speedupKinds {
		c, ok := t.Cell(dim, rank, k.fused, k.threads)
		if !ok {
			row = append(row, "—")
			continue
		}
		row = append(row, fmtX(c.Speedup()))
	}
	return append(row, adj, adjPaper, fullMs)
}

// speedupNotes say how the speed-ups were measured and under what load,
// and what the FLOP model and the warm-start adjustment assume, so the
// table can be judged without reading the code.
func (t *Table) speedupNotes() []string {
	lo, hi := 0.0, 0.0
	if len(t.Load) == 2 {
		lo, hi = t.Load[0], t.Load[1]
	}
	rounds := "?"
	if len(t.Rounds) == 2 {
		rounds = fmt.Sprintf("%d–%d", t.Rounds[0], t.Rounds[1])
	}
	backend := t.Backend
	if t.Kernel != "" {
		backend += " (" + t.Kernel + " micro-kernel)"
	}
	where := ""
	if t.CPU != "" {
		where = " on " + t.CPU
	}
	notes := []string{
		fmt.Sprintf("Speed-up: the mean over rounds of each round's full-rank step time over its ReLoRA step time, with the 95%% interval (Student t). One process per width and thread count runs, in rounds, one full-rank step and one ReLoRA step of each rank and op (the order rotating from round to round), after a warm-up round; %s timed rounds per process (as many as fill `relora throughput -seconds`, within -min-rounds and -max-rounds). On one core a step's time is the process's CPU time, which other work sharing the core does not advance (on a quiet machine it equals the wall time); on 2 threads it is the wall time, waits included. Models: the preset's depth, batch and sequence length at width d, ffn 2.75·d, heads of 16–64 dims; GEMM backend %s.", rounds, backend),
		fmt.Sprintf("Measured %s%s; the 1-minute load average ranged from %.1f to %.1f during the probes (the machine has 2 cores): above the probe's threads, other work shared the cores. Pairing within rounds cancels most of it (both steps of a round share the conditions); what is left widens the intervals, most on 2 threads.", t.Date, where, lo, hi),
		fmt.Sprintf("FLOP model: model.Config.FLOPsPerStep, 6 per weight per token for trainable linears, 4 for frozen ones, 6·r·(in+out) per token for the factors, attention's 12·T²·d per layer and sequence. WS-adjusted: a share f of the run is full-rank warm start, throughput 1 / (f/full + (1−f)/ReLoRA): the preset's own f = %.0f%% and the paper's 33%%.", 100*t.WarmFraction),
	}
	if len(t.FMAPeak) == 2 {
		short, shared := t.PeakShortfall()
		verdict := ": no sign that the cores were shared."
		if shared {
			verdict = fmt.Sprintf(" (more than %.0f%%): the host was shared while this table was measured.", 100*SharedSpread)
		}
		where := ""
		if p, ok := t.lowestProbe(); ok {
			where = fmt.Sprintf(" (d %d's %d-thread probe)", p.Dim, p.Threads)
		}
		notes = append(notes, fmt.Sprintf("One core's FMA peak (bench/peak's register-only loop, the median of %d rounds at each speed probe's start and end) read %.0f–%.0f GFLOP/s: the ceiling of the GEMM rates below, in brackets as a share of the highest reading. A reading well under the highest means the host slowed the core, as a virtual machine's neighbours do without showing in its load average: the pairing cancels that in the speed-ups, but their intervals widen and step times and rates are low. Here the lowest%s was %.1f%% under the highest%s", peak.ReadingRounds, t.FMAPeak[0], t.FMAPeak[1], where, 100*short, verdict))
	}
	if n := t.remeasuredNote(); n != "" {
		notes = append(notes, n)
	}
	return notes
}

// timeSplitTable splits each width's main step into its GEMM classes and
// the rest, full-rank → ReLoRA, to show where the speed-up comes from.
// Cells measured without the per-class accounting are left out.
func (t *Table) timeSplitTable() report.Table {
	split := report.Table{
		Title:  "Where a step's time goes (1 core, fused LoRA op, r = d/8; wall time, medians over rounds, ms)",
		Header: []string{"d", "Step: full → ReLoRA", "Dense GEMMs", "Low-rank GEMMs", "Attention GEMMs", "Rest of the step", "Dense GEMM rate", "Low-rank GEMM rate"},
		Notes:  []string{"GEMM time is each class's calls timed inside the GEMM (kernels/gemm accounting by shape): dense = the projections' and the LM head's products (ReLoRA skips the frozen W's weight gradient, a third of them), low-rank = the LoRA factors' six thin products per projection, attention = the causal softmax's products. The rest is the step's other work: embeddings, RMSNorm, rotary, softmax, SwiGLU, cross-entropy, gradient clipping and AdamW (whose state ReLoRA shrinks)."},
	}
	for _, c := range t.mainCells() {
		if len(c.FullGEMMMillis) != len(Classes) {
			continue
		}
		split.Rows = append(split.Rows, t.timeSplitRow(c))
	}
	return split
}

// timeSplitRow is one cell's row of the time split; a low-rank class
// exists only in the ReLoRA step, so that column has no full-rank side.
func (t *Table) timeSplitRow(c Cell) []string {
	return []string{fmt.Sprint(c.Dim),
		fmt.Sprintf("%.1f → %.1f", c.FullMillis, c.ReLoRAMillis),
		fmt.Sprintf("%.1f → %.1f", c.FullGEMMMillis[0], c.ReLoRAGEMMMillis[0]),
		fmt.Sprintf("%.1f", c.ReLoRAGEMMMillis[1]),
		fmt.Sprintf("%.1f → %.1f", c.FullGEMMMillis[2], c.ReLoRAGEMMMillis[2]),
		fmt.Sprintf("%.1f → %.1f", restOfStep(c.FullMillis, c.FullGEMMMillis), restOfStep(c.ReLoRAMillis, c.ReLoRAGEMMMillis)),
		t.rate(gflops(c.FullGEMMFLOPs[0], c.FullGEMMMillis[0])),
		t.rate(gflops(c.ReLoRAGEMMFLOPs[1], c.ReLoRAGEMMMillis[1]))}
}

// rate formats a GEMM rate, with its share of the highest FMA peak reading
// where the table has one.
func (t *Table) rate(g float64) string {
	if len(t.FMAPeak) != 2 || t.FMAPeak[1] <= 0 {
		return fmt.Sprintf("%.0f GFLOP/s", g)
	}
	return fmt.Sprintf("%.0f GFLOP/s (%.0f%%)", g, 100*g/t.FMAPeak[1])
}

// restOfStep is a step's time outside its GEMMs (ms): what no GEMM
// speed-up can shrink.
func restOfStep(stepMillis float64, gemmMillis []float64) float64 {
	for _, v := range gemmMillis {
		stepMillis -= v
	}
	return stepMillis
}

// memoryTable is each step kind's parameters, optimizer state, memory and
// work per step, from a process running that step alone.
func (t *Table) memoryTable() report.Table {
	mem := report.Table{
		Title:  "Memory and work per step (1 core, each step kind alone in its process)",
		Header: []string{"d", "Step", "Trainable params", "Total params", "Optimizer floats", "Activations+grads (MB)", "Peak RSS (MB)", "GFLOP/step"},
	}
	for _, m := range t.Memory {
		mem.Rows = append(mem.Rows, []string{fmt.Sprint(m.Dim), m.Variant.String(), fmt.Sprint(m.Trainable), fmt.Sprint(m.Total),
			fmt.Sprint(m.OptFloats), fmt.Sprintf("%.1f", float64(m.ArenaBytes)/1e6), fmt.Sprintf("%.1f", float64(m.MaxRSS)/1e6),
			fmt.Sprintf("%.2f", m.FLOPs/1e9)})
	}
	return mem
}

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
