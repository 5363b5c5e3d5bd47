package successors

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/stats"
)

// Files written under the results folder.
const (
	MarkdownFile = "successors.md"
	JSONFile     = "successors.json"
	Figure       = "figures/successors_perplexity_vs_params"
)

// Write renders the table (Markdown and JSON) and its figure into dir.
func Write(dir string, t *Table) error {
	if err := t.plot().Save(filepath.Join(dir, Figure), 7.5, 4.5); err != nil {
		return err
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

// Read loads a results folder's successors.json.
func Read(dir string) (*Table, error) {
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		return nil, err
	}
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("successors: %s: %w", filepath.Join(dir, JSONFile), err)
	}
	return &t, nil
}

// Markdown is the whole successors.md.
func (t *Table) Markdown() string {
	var b strings.Builder
	b.WriteString(t.searchTable().Markdown())
	b.WriteString("\n" + t.ladderTable().Markdown())
	b.WriteString("\n" + t.costTable().Markdown())
	b.WriteString("\n" + t.memoryTable().Markdown())
	b.WriteString("\n" + paperTable().Markdown())
	fmt.Fprintf(&b, "\n![perplexity vs size](%s.png)\n", Figure)
	return b.String()
}

// searchTable lists every searched rate's final validation loss, the
// chosen one in bold.
func (t *Table) searchTable() report.Table {
	out := report.Table{Title: fmt.Sprintf("Learning-rate search at %s (seed %d, final validation loss in nats per byte)", t.SearchSize, experiments.SearchSeed),
		Header: []string{"", "rates searched: loss", "chosen", ""}, Align: []report.Align{report.AlignLeft, report.AlignLeft, report.AlignRight, report.AlignLeft}}
	for _, m := range t.Methods {
		s := t.Searches[m]
		if s == nil {
			out.Rows = append(out.Rows, []string{m, "not searched yet", "–", ""})
			continue
		}
		var pts []string
		for _, p := range s.Points {
			v := rate(p.LR) + ": " + loss(p.Loss)
			if p.LR == s.Chosen {
				v = "**" + v + "**"
			}
			pts = append(pts, v)
		}
		where := "interior"
		if !s.Interior {
			where = fmt.Sprintf("at the edge after %d rates (the most the search tries)", len(s.Points))
		}
		out.Rows = append(out.Rows, []string{m, strings.Join(pts, ", "), rate(s.Chosen), where})
	}
	out.Notes = []string{fmt.Sprintf("Every method gets the same search: three rates a factor of %g apart around the rate its own paper trains at "+
		"(full training the preset's, ReLoRA twice it, GaLore ten times, low-rank twice), extended past whichever end is best "+
		"until the best is interior, at most %d rates. The search seed is none of the table's seeds. ReLoRA's rate is its "+
		"low-rank phase's; its warm start keeps the preset's full-rank rate.", experiments.SearchStep, experiments.SearchMaxRates)}
	return out
}

func (t *Table) ladderTable() report.Table {
	out := report.Table{Title: fmt.Sprintf("Validation perplexity (trainable parameters), preset %q, each method at its chosen rate", t.Preset), Header: []string{""}}
	for _, s := range t.Sizes {
		out.Header = append(out.Header, s.Name)
	}
	for _, m := range t.Methods {
		row := []string{m}
		for _, s := range t.Sizes {
			row = append(row, t.cellText(m, s.Name))
		}
		out.Rows = append(out.Rows, row)
	}
	out.Notes = []string{t.seedNote(), fmt.Sprintf("Rank r = d/8 at every size for ReLoRA, GaLore and low-rank; GaLore recomputes each projection's "+
		"subspace every %d steps and scales its update by %g (the GaLore paper's settings). The sizes are Table 2's ladder without its largest rung.",
		200, 0.25)}
	return out
}

func (t *Table) cellText(method, size string) string {
	c := t.cell(method, size)
	if c == nil {
		return "–"
	}
	s := stats.PlusMinus(c.PPLs, 2)
	if c.Diverged > 0 {
		s = fmt.Sprintf("diverged %d/%d (%s)", c.Diverged, c.Diverged+len(c.PPLs), s)
	}
	return fmt.Sprintf("%s (%s)", s, report.Params(c.Trainable))
}

func (t *Table) seedNote() string {
	lo, hi := math.MaxInt, 0
	for _, bySize := range t.Cells {
		for _, c := range bySize {
			n := len(c.PPLs) + c.Diverged
			lo, hi = min(lo, n), max(hi, n)
		}
	}
	switch {
	case hi <= 1:
		return "One seed per cell."
	case lo == hi:
		return fmt.Sprintf("Mean ± std over %d seeds.", hi)
	}
	return fmt.Sprintf("Mean ± std over %d–%d seeds (the matrix is trained part-way).", lo, hi)
}

// costTable is what each method trains and keeps at the largest size.
func (t *Table) costTable() report.Table {
	size := t.Sizes[len(t.Sizes)-1].Name
	out := report.Table{Title: fmt.Sprintf("What each method trains and keeps, size %s", size),
		Header: []string{"", "parameters", "trainable", "optimizer state", "ms per step"}}
	for _, m := range t.Methods {
		c := t.cell(m, size)
		if c == nil {
			out.Rows = append(out.Rows, []string{m, "–", "–", "–", "–"})
			continue
		}
		out.Rows = append(out.Rows, []string{m, report.Params(c.Total), report.Params(c.Trainable),
			fmt.Sprintf("%s (%.0f KiB)", report.Params(c.OptimizerFloats), float64(4*c.OptimizerFloats)/1024),
			fmt.Sprintf("%.1f", c.StepMillis)})
	}
	out.Notes = []string{"Optimizer state: the floats AdamW held at the run's end (both moments, float32), counted in the run. " +
		"GaLore's moments live in each projection's rank-r subspace; ReLoRA's are its factors' (its warm start held full-rank ones). " +
		"Milliseconds per step are the runs' training time over their steps, two runs sharing the machine: compare within this table only."}
	return out
}

// paperTable is GaLore's Table 2, for the orderings.
func paperTable() report.Table {
	out := report.Table{Title: "GaLore's Table 2 (Zhao et al. 2024, LLaMA on C4, validation perplexity), for comparison of orderings",
		Header: append([]string{""}, experiments.GaLorePaperSizes...)}
	for _, m := range experiments.SuccessorMethods {
		row := []string{m.Name}
		for _, v := range m.Paper {
			row = append(row, fmt.Sprintf("%.2f", v))
		}
		out.Rows = append(out.Rows, row)
	}
	out.Notes = []string{"Their models are thousands of times larger than these; only the orderings compare. " +
		"GaLore's scripts train its 60M model at rank d/4 (128 of 512); here every low-rank method is at r = d/8, this harness's ReLoRA rank. " +
		"Weiss et al. (2025, arXiv:2509.12960) find ReLoRA behind full-rank training at 11M–66M parameters, with a gap that widens with size."}
	return out
}

// plot is perplexity against total parameters, one line per method.
func (t *Table) plot() report.LinePlot {
	var series []report.Series
	var ticks []report.Tick
	for _, m := range t.Methods {
		var x, y, lo, hi []float64
		for _, s := range t.Sizes {
			c := t.cell(experiments.RowScalingFull, s.Name)
			if c == nil || c.Total == 0 {
				continue
			}
			if m == experiments.RowScalingFull {
				ticks = append(ticks, report.Tick{Value: float64(c.Total), Label: s.Name})
			}
			if mc := t.cell(m, s.Name); mc != nil && len(mc.PPLs) > 0 {
				x, y = append(x, float64(c.Total)), append(y, mc.MeanPPL)
				lo, hi = append(lo, slices.Min(mc.PPLs)), append(hi, slices.Max(mc.PPLs))
			}
		}
		if len(x) > 0 {
			series = append(series, report.Series{Name: m, X: x, Y: y, Lo: lo, Hi: hi, Points: true})
		}
	}
	return report.LinePlot{Title: "ReLoRA and its successors — perplexity vs size (band: seed min–max)",
		XLabel: "full-rank model's parameters at each size (log scale)", YLabel: "validation perplexity",
		LogX: true, XTicks: ticks, Series: series}
}

func rate(lr float64) string { return strconv.FormatFloat(lr, 'g', 3, 64) }

func loss(l float64) string {
	if math.IsInf(l, 1) {
		return "diverged"
	}
	return fmt.Sprintf("%.4f", l)
}

// memoryTable is the memory probes: per size, each method's peak
// resident memory and its difference from full training's, beside what
// the counts say the difference should be.
func (t *Table) memoryTable() report.Table {
	out := report.Table{Title: "Memory, measured: peak resident memory of a process taking two training steps (MiB)",
		Header: []string{"", "method", "peak RSS", "Δ vs full, measured", "Δ vs full, counted", "optimizer state", "activations + gradients"},
		Align:  []report.Align{report.AlignLeft, report.AlignLeft}}
	if len(t.Memory) == 0 {
		out.Notes = []string{"Not measured yet: `make successors` measures it (or `relora report -remeasure`)."}
		return out
	}
	full := map[string]MemoryRow{}
	for _, r := range t.Memory {
		if r.Method == experiments.RowScalingFull {
			full[r.Size] = r
		}
	}
	for _, size := range t.Sizes {
		for _, m := range t.Methods {
			i := slices.IndexFunc(t.Memory, func(r MemoryRow) bool { return r.Method == m && r.Size == size.Name })
			if i < 0 {
				continue
			}
			r, f := t.Memory[i], full[size.Name]
			out.Rows = append(out.Rows, []string{size.Name, m, mib(float64(r.MaxRSSBytes)),
				signedMiB(float64(r.MaxRSSBytes - f.MaxRSSBytes)), signedMiB(float64(counted(r) - counted(f))),
				mib(float64(4 * r.OptimizerFloats)), mib(float64(r.ArenaBytes))})
		}
	}
	out.Notes = []string{fmt.Sprintf("Each probe is its own process, one core, %d steps at the first seed (getrusage's peak RSS), "+
		"so it holds the same corpus and runtime as full training's: the difference is the method's "+
		"(the Go heap at its default GOGC, as in training: a step's garbage counts until it is collected; "+
		"GaLore's first step computes its projectors, a float64 SVD of each projection's gradient, as it does again every T steps). "+
		"Counted: 4 bytes per float of weights, gradients and optimizer state (the trainable weights' gradients only) "+
		"plus the step's arena. At these widths one step's activations outweigh the optimizer state, "+
		"which is what GaLore and ReLoRA shrink; their saving grows with width.", MemoryProbeSteps)}
	return out
}

// counted is a probe's memory by the counts: weights, trainable weights'
// gradients and optimizer state at 4 bytes a float, and the step's arena.
func counted(r MemoryRow) int64 {
	return 4*int64(r.Total+r.Trainable+r.OptimizerFloats) + int64(r.ArenaBytes)
}

func mib(b float64) string { return fmt.Sprintf("%.1f", b/(1<<20)) }

func signedMiB(b float64) string { return fmt.Sprintf("%+.1f", b/(1<<20)) }
