package sweep

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/train"
)

// Write renders sweep.md, sweep.json and one figure per sweep into dir. It
// reads nothing: everything comes from t.
func Write(dir string, t *Table) error {
	for _, r := range t.Sweeps {
		if !r.Done() {
			continue
		}
		if err := r.plot().Save(filepath.Join(dir, Figure(r)), 7, 4.2); err != nil {
			return fmt.Errorf("sweep %s: %w", r.Name, err)
		}
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

// Figure is a sweep's figure path (no extension), relative to the results.
func Figure(r Result) string { return FigurePrefix + strings.ReplaceAll(r.Name, " ", "_") }

// plot draws each pair's gap with its interval, in the method's style
// (report.MethodStyle; a method compared with two baselines gets a variant
// for the second). A log axis labels the swept values; a linear one puts
// them evenly spaced, since ratios like 0.9, 0.99, 0.999, 1 would overlap.
func (r Result) plot() report.LinePlot {
	p := report.LinePlot{Title: "Sensitivity: " + r.Name + " (gap with its 95% interval over seeds)", XLabel: r.Param,
		YLabel: "Δ validation perplexity (< 0: method better)", LogX: r.LogX, ZeroLine: true}
	if !r.LogX {
		p.XLabel += " (evenly spaced)"
		for i, pt := range r.Points {
			p.XTicks = append(p.XTicks, report.Tick{Value: float64(i), Label: strconv.FormatFloat(pt.Value, 'g', -1, 64)})
		}
	}
	if r.widestGap() > symlogAbove {
		p.SymLogY = symlogLinear
		p.YLabel = "Δ val. perplexity (< 0: method better), symlog"
	}
	seen := map[string]int{}
	for k, pair := range r.Pairs {
		s := report.Series{Name: shortName(pair[0]) + " − " + shortName(pair[1]), Method: pair[0], Variant: seen[pair[0]], Points: true}
		seen[pair[0]]++
		for i, pt := range r.Points {
			x := pt.Value
			if !r.LogX {
				x = float64(i)
			} else if x <= 0 {
				continue
			}
			g := pt.Gaps[k]
			s.X, s.Y, s.Lo, s.Hi = append(s.X, x), append(s.Y, g.Mean), append(s.Lo, g.Lo), append(s.Hi, g.Hi)
		}
		p.Series = append(p.Series, s)
	}
	return p
}

// A sweep whose gap intervals reach beyond symlogAbove perplexity (a run
// that blows up: +20 where the other gaps are ±0.03) is drawn on a
// symmetric log Y axis, linear within ±symlogLinear (the tables' last
// digit), so the small gaps stay readable beside the large ones.
const (
	symlogAbove  = 1.0
	symlogLinear = 0.01
)

// widestGap is the largest |end| of any gap's interval (or |mean| with one
// seed), ignoring non-finite values.
func (r Result) widestGap() float64 {
	w := 0.0
	for _, pt := range r.Points {
		for _, g := range pt.Gaps {
			for _, v := range []float64{g.Mean, g.Lo, g.Hi} {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					w = math.Max(w, math.Abs(v))
				}
			}
		}
	}
	return w
}

// shortName keeps legends narrow: the ReLoRA row's name spells out its
// switches.
func shortName(method string) string {
	if method == experiments.RowReLoRA {
		return "ReLoRA"
	}
	return method
}

// Markdown is the whole sweep.md (also a section of REPORT.md).
func (t *Table) Markdown() string {
	var b strings.Builder
	for _, r := range t.Sweeps {
		fmt.Fprintf(&b, "#### %s\n\n%s\n\n", strings.ToUpper(r.Name[:1])+r.Name[1:], r.Statement)
		if !r.Done() {
			verb := map[bool]string{true: "has", false: "have"}[r.Missing == 1]
			fmt.Fprintf(&b, "Not run yet: %d of its runs %s no result; `make sweep` trains them (README.md's table of targets has the time).\n\n", r.Missing, verb)
			continue
		}
		tab := report.Table{Header: []string{r.Param}, Align: []report.Align{report.AlignLeft}}
		for _, m := range r.Methods {
			tab.Header = append(tab.Header, m+" ppl")
		}
		for _, pair := range r.Pairs {
			tab.Header = append(tab.Header, pair[0]+" − "+pair[1])
		}
		for _, pt := range r.Points {
			label := pt.Label
			if pt.Preset {
				label += " (preset)"
			}
			row := []string{label}
			for _, m := range r.Methods {
				cell := fmt.Sprintf("%.3f", pt.PPL[m])
				if n := pt.Unstable[m]; n > 0 {
					cell += fmt.Sprintf(" (unstable %d/%d)", n, pt.Seeds[m])
				}
				row = append(row, cell)
			}
			for _, g := range pt.Gaps {
				row = append(row, gapCell(g))
			}
			tab.Rows = append(tab.Rows, row)
		}
		b.WriteString(tab.Markdown())
		fmt.Fprintf(&b, "\n**Where it holds:** %s\n\n![%s](%s.png)\n\n", r.Summary, r.Name, Figure(r))
	}
	b.WriteString("Each gap is the mean over seeds of the per-seed perplexity difference (same seed: same data order and " +
		"initialisation) with its 95% paired Student-t interval; ✅ the whole interval is below 0 (the method is better), " +
		"❌ above 0, ❔ it contains 0 (each point read alone, an exploratory reading: the paper's claims are judged as a family " +
		"in REPORT.md's glance); k/n: the method is better in k of the n seeds. " +
		fmt.Sprintf("\"Unstable k/n\": in k of n seeds the training loss's %d-step moving average rose above %g× its running minimum "+
			"and recovered (not diverged).\n", train.UnstableWindow, train.UnstableFactor))
	return b.String()
}

func gapCell(g Gap) string {
	mark := map[report.Verdict]string{report.Reproduced: "✅", report.NotReproduced: "❌", report.Inconclusive: "❔"}[g.Verdict]
	if g.Seeds < 2 {
		return fmt.Sprintf("%+.3f (1 seed) %s", g.Mean, mark)
	}
	return fmt.Sprintf("%+.3f [%+.3f, %+.3f] %s %d/%d", g.Mean, g.Lo, g.Hi, mark, g.Better, g.Seeds)
}
