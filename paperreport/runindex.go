package paperreport

import (
	"fmt"
	"strings"

	"github.com/relorago/harness/report"
)

// writeRunIndex lists every run behind the report, so that any number can
// be traced to its folder (config.json, metrics.jsonl, result.json,
// checkpoints). It is folded: it is for looking things up, not reading.
func (r *Report) writeRunIndex(b *strings.Builder) {
	b.WriteString("## Run index\n\n<details><summary>Every training run behind the tables (click to expand)</summary>\n\n")
	for _, s := range r.Sections {
		if len(s.Outcomes) == 0 {
			continue
		}
		t := report.Table{Title: s.Name, Header: []string{"Row", "Size", "Seed", "Run folder", "Status", "Val. loss", "Training"}}
		for i, o := range s.Outcomes {
			row, size, seed := "–", "–", "–"
			if i < len(s.Runs) {
				row, seed = s.Runs[i].Row, fmt.Sprint(s.Runs[i].Seed)
				if s.Runs[i].Size != "" {
					size = s.Runs[i].Size
				}
			}
			status, loss, took := "failed", "–", "–"
			if o.Err != nil {
				status = "failed: " + o.Err.Error()
			}
			if res := o.Result; res != nil {
				status = res.Status
				if d := res.WarmStartDifferences; len(d) > 0 {
					status += " (warm start from another run: " + strings.Join(d, "; ") + ")"
				}
				loss = fmt.Sprintf("%.4f", float64(res.FinalVal.Loss))
				took = hours(res.TrainSeconds)
			}
			t.Rows = append(t.Rows, []string{row, size, seed, "`" + o.Dir + "`", status, loss, took})
		}
		b.WriteString(t.Markdown())
		b.WriteString("\n")
	}
	b.WriteString("</details>\n")
}
