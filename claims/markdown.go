package claims

import (
	"fmt"
	"math"
	"strings"

	"github.com/relorago/harness/report"
	"github.com/relorago/harness/verdict"
)

// Heading is the glance section's title with the adjusted verdicts
// counted.
func (j *Judged) Heading() string {
	n := j.Counts()
	return fmt.Sprintf("The claims at a glance (the paper's and its successors'): of %d, %d reproduced, %d not reproduced, %d inconclusive, %d out of reach "+
		"(family-wise error 5%%, Holm)", len(j.Results), n[verdict.Reproduced], n[verdict.NotReproduced], n[verdict.Inconclusive], n[verdict.OutOfReach])
}

// GlanceMarkdown is one line per claim: its test, seeds, effect with its
// raw 95% interval, Holm-adjusted p-value and verdict, and the seeds that
// would decide it.
func (j *Judged) GlanceMarkdown() string {
	t := report.Table{Header: []string{"Claim", "Source", "Statement", "Test", "n", "Effect θ [95% CI]", "Holm p", "Verdict", "Seeds to decide"},
		Align: []report.Align{report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignRight, report.AlignLeft,
			report.AlignRight, report.AlignLeft, report.AlignLeft}}
	for _, r := range j.Results {
		t.Rows = append(t.Rows, []string{r.ID, r.Source, r.Statement, r.Test.Describe(), fmt.Sprint(r.Units()), r.effect(),
			pFormat(r.Outcome.PAdjusted), r.Outcome.Verdict.Mark(), r.seedsToDecide()})
	}
	return t.Markdown()
}

// effect is the estimate of a one-part claim, or the binding part (the
// largest p-value for the paper's side) of a claim over several.
func (r Result) effect() string {
	if r.Missing != "" {
		return "not measured: " + r.Missing
	}
	if len(r.Parts) == 0 {
		return "–"
	}
	worst, pw := 0, -1.0
	for i, p := range r.Parts {
		pf := r.Test.PFor(p.Estimate)
		if pf > pw {
			worst, pw = i, pf
		}
	}
	p := r.Parts[worst]
	s := p.Estimate.Format(decimals(p.Estimate))
	if len(r.Parts) > 1 {
		s = fmt.Sprintf("weakest of %d parts, %s: %s", len(r.Parts), partLabel(p), s)
	}
	return s
}

// partLabel is the end of a comparison's name: the size or cell it is at.
func partLabel(p part) string {
	if i := strings.LastIndex(p.Comparison, "@ "); i >= 0 {
		return p.Comparison[i+2:]
	}
	return p.Comparison
}

func decimals(e verdict.Estimate) int {
	switch a := math.Abs(e.Value); {
	case a >= 10:
		return 1
	case a >= 0.1:
		return 2
	case a >= 0.01:
		return 3
	}
	return 4
}

func pFormat(p float64) string {
	switch {
	case p < 0.001:
		return "< 0.001"
	case p >= 1:
		return "1"
	}
	return fmt.Sprintf("%.3f", p)
}

// pRelation is "= 0.031", "< 0.001" or "= 1", to follow a "p".
func pRelation(p float64) string {
	f := pFormat(p)
	if strings.HasPrefix(f, "<") {
		return f
	}
	return "= " + f
}

func (r Result) seedsToDecide() string {
	o := r.Outcome
	switch {
	case o.Verdict == verdict.Reproduced || o.Verdict == verdict.NotReproduced:
		return "decided"
	case r.Missing != "":
		return "–"
	case o.Needed < 0 && o.Verdict == verdict.OutOfReach:
		return "no count (effect on the boundary)"
	case o.Needed < 0:
		return "a second seed, to measure the spread"
	case r.UnitHours == 0:
		return fmt.Sprintf("≈%d %s", o.Needed, r.unitName())
	case o.Verdict == verdict.OutOfReach:
		return fmt.Sprintf("≈%d seeds (%.0f core-h > %d)", o.Needed, o.NeededHours, ReachHours)
	}
	return fmt.Sprintf("≈%d seeds (+%.1f core-h)", o.Needed, o.NeededHours)
}

func (r Result) unitName() string {
	if r.runs == nil && r.Source == "Table 4" {
		return "timing rounds"
	}
	return "seeds"
}

// SectionMarkdown lists the claims of one source in full: the paper's
// words, the quantity, the test, every part with its interval, the
// verdict after the family's control.
func (j *Judged) SectionMarkdown(source string) string {
	rs := j.Of(source)
	if len(rs) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#### Claims (judged over the whole family of %d; see the glance table)\n\n", len(j.Results))
	for _, r := range rs {
		fmt.Fprintf(&b, "- **%s** (`%s`) — %s. The paper: %s. θ: %s; %s", r.Statement, r.ID, r.Outcome.Verdict.Mark(), r.Paper, r.Quantity, r.Test.Describe())
		if r.Analysis != "" {
			fmt.Fprintf(&b, "; %s", r.Analysis)
		}
		b.WriteString(".")
		if r.Missing != "" {
			fmt.Fprintf(&b, " Not measured: %s.\n", r.Missing)
			continue
		}
		var parts []string
		for _, p := range r.Parts {
			parts = append(parts, fmt.Sprintf("%s, θ = %s", p.Detail, p.Estimate.Format(decimals(p.Estimate))))
		}
		fmt.Fprintf(&b, " Measured: %s.", strings.Join(parts, "; "))
		if r.Evidence != "" {
			fmt.Fprintf(&b, " Also: %s.", r.Evidence)
		}
		if r.ForcedWhy != "" {
			fmt.Fprintf(&b, " Decided by a declared rule: %s.", r.ForcedWhy)
		}
		fmt.Fprintf(&b, " p %s, Holm-adjusted %s; %s.\n", pRelation(r.Outcome.P), pRelation(r.Outcome.PAdjusted), r.seedsToDecide())
	}
	return b.String()
}

// ComparisonsMarkdown lists every distinct comparison once, with the
// claims that rest on it: claims that share runs are not independent
// evidence, and this shows where they share.
func (j *Judged) ComparisonsMarkdown() string {
	type use struct {
		est    verdict.Estimate
		claims []string
	}
	var order []string
	uses := map[string]*use{}
	for _, r := range j.Results {
		for _, p := range r.Parts {
			u, ok := uses[p.Comparison]
			if !ok {
				u = &use{est: p.Estimate}
				uses[p.Comparison] = u
				order = append(order, p.Comparison)
			}
			u.claims = append(u.claims, r.ID)
		}
	}
	t := report.Table{Header: []string{"Comparison", "n", "θ [95% CI]", "Claims resting on it"},
		Align: []report.Align{report.AlignLeft, report.AlignRight, report.AlignLeft, report.AlignLeft}}
	for _, c := range order {
		u := uses[c]
		t.Rows = append(t.Rows, []string{c, fmt.Sprint(u.est.N), u.est.Format(decimals(u.est)), strings.Join(u.claims, ", ")})
	}
	return t.Markdown()
}
