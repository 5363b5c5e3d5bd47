// Package report is the rendering layer of the harness: it turns plain data
// (strings for tables, float slices for figures) into Markdown / terminal
// tables and PNG + SVG figures. It deliberately knows nothing about training
// so that experiments can be re-rendered from stored results alone.
//
// All output is deterministic: the same input always yields byte-identical
// Markdown, text and SVG, so regenerated artefacts only show up in a diff when
// the underlying numbers change.
package report

import (
	"bytes"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/relorago/harness/stats"
)

// Align is the horizontal alignment of a table column.
type Align int

// Column alignments. The zero value AlignDefault exists so that a partially
// filled []Align (e.g. make([]Align, n) with one column changed) keeps the
// default for the other columns instead of silently forcing them left.
const (
	// AlignDefault uses the table default: first column left, others right
	// (labels on the left, numbers right-aligned so digits line up).
	AlignDefault Align = iota
	// AlignLeft aligns the column to the left.
	AlignLeft
	// AlignRight aligns the column to the right.
	AlignRight
	// AlignCenter centres the column.
	AlignCenter
)

// Table is a titled grid of cells. Rows may be ragged: every row (and the
// header) is padded with empty cells to the widest row, so a caller never
// loses data because of a short header.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
	Notes  []string // printed as lines under the table (Markdown: as a paragraph / list)
	Align  []Align  // per column; default: first column left, others right
}

// columns is the number of columns of the padded grid.
func (t Table) columns() int {
	n := len(t.Header)
	for _, r := range t.Rows {
		n = max(n, len(r))
	}
	return n
}

// alignments resolves the per-column alignment, applying the defaults.
func (t Table) alignments(n int) tw.Alignment {
	out := make(tw.Alignment, n)
	for i := range out {
		a := AlignDefault
		if i < len(t.Align) {
			a = t.Align[i]
		}
		switch a {
		case AlignLeft:
			out[i] = tw.AlignLeft
		case AlignRight:
			out[i] = tw.AlignRight
		case AlignCenter:
			out[i] = tw.AlignCenter
		default:
			if i == 0 {
				out[i] = tw.AlignLeft
			} else {
				out[i] = tw.AlignRight
			}
		}
	}
	return out
}

// grid returns the padded header and rows with esc applied to every cell.
func (t Table) grid(n int, esc func(string) string) (header []any, rows [][]any) {
	pad := func(cells []string) []any {
		out := make([]any, n)
		for i := range out {
			s := ""
			if i < len(cells) {
				s = cells[i]
			}
			out[i] = esc(s)
		}
		return out
	}
	header = pad(t.Header)
	rows = make([][]any, len(t.Rows))
	for i, r := range t.Rows {
		rows[i] = pad(r)
	}
	return header, rows
}

// render runs tablewriter with the given renderer. Header auto-formatting is
// switched off because tablewriter upper-cases headers by default, which
// would mangle names such as "ReLoRA" or "lr".
//
// withHeader forces a header row even when Header is empty: Markdown tables
// are invalid without one, whereas the terminal form simply omits it.
func (t Table) render(r tw.Renderer, esc func(string) string, withHeader bool) (string, error) {
	n := t.columns()
	header, rows := t.grid(n, esc)
	var buf bytes.Buffer
	tbl := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(r),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithAlignment(t.alignments(n)),
	)
	if withHeader || len(t.Header) > 0 {
		tbl.Header(header...)
	}
	for _, row := range rows {
		if err := tbl.Append(row...); err != nil {
			return "", err
		}
	}
	if err := tbl.Render(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// mdEscape keeps a cell inside its Markdown column: a raw '|' would start a
// new column and a newline would end the table.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r\n", "<br>")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// oneLine collapses line breaks, for titles and notes that must stay on one
// Markdown line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Markdown renders the table as GitHub-flavoured Markdown: an optional
// "### Title" heading, the pipe table (with alignment markers in the
// separator row) and the notes. A single note becomes a paragraph, several
// become a bullet list, so that notes never merge into one run-on line.
// A table without columns renders only its title and notes.
func (t Table) Markdown() string {
	var b strings.Builder
	if t.Title != "" {
		b.WriteString("### " + oneLine(t.Title) + "\n\n")
	}
	if t.columns() > 0 {
		s, err := t.render(renderer.NewMarkdown(), mdEscape, true)
		if err != nil {
			// Markdown has no error return; surface the failure in the
			// document instead of dropping the table silently.
			s = "<!-- report: cannot render table: " + oneLine(err.Error()) + " -->\n"
		}
		b.WriteString(s)
	}
	switch len(t.Notes) {
	case 0:
	case 1:
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(oneLine(t.Notes[0]) + "\n")
	default:
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		for _, n := range t.Notes {
			b.WriteString("- " + oneLine(n) + "\n")
		}
	}
	return b.String()
}

// Text renders the table for a terminal with tablewriter's default (boxed)
// renderer: the title on its own line, the grid, then one line per note.
func (t Table) Text() string {
	var b strings.Builder
	if t.Title != "" {
		b.WriteString(t.Title + "\n")
	}
	if t.columns() > 0 {
		s, err := t.render(renderer.NewBlueprint(), func(s string) string { return s }, false)
		if err != nil {
			s = "report: cannot render table: " + err.Error() + "\n"
		}
		b.WriteString(s)
	}
	for _, n := range t.Notes {
		b.WriteString(n + "\n")
	}
	return b.String()
}

// Verdict is one comparison's reading on its own 95% interval over seeds,
// with no control over a family: the sweeps' exploratory marks. The
// paper's claims are judged together in package claims.
type Verdict string

// The three verdicts.
const (
	Reproduced    Verdict = "reproduced"     // the paper's direction, outside the noise
	NotReproduced Verdict = "not reproduced" // the opposite direction, outside the noise
	Inconclusive  Verdict = "inconclusive"   // the margin is inside the noise (or one seed gives none)
)

// Verdicts lists the verdicts in the order reports count them.
var Verdicts = []Verdict{Reproduced, Inconclusive, NotReproduced}

// Mark is the verdict with its sign for Markdown.
func (v Verdict) Mark() string {
	switch v {
	case Reproduced:
		return "✅ reproduced"
	case NotReproduced:
		return "❌ not reproduced"
	}
	return "❔ inconclusive"
}

// JudgeBelow judges a claim that a quantity lies below bound (e.g. "ReLoRA
// beats LoRA": the per-seed perplexity difference is below 0) on the
// quantity's interval.
func JudgeBelow(iv stats.Interval, bound float64) Verdict {
	switch {
	case iv.Below(bound):
		return Reproduced
	case iv.Above(bound):
		return NotReproduced
	}
	return Inconclusive
}
