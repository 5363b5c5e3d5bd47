package main

import (
	"fmt"
	"os"

	"github.com/relorago/harness/claims"
	"github.com/relorago/harness/paperreport"
	"github.com/relorago/harness/tables"
)

// buildSection builds one table for the report and adds it to the claims'
// input, or, when neither the cache nor the records hold the runs it needs
// (and training them was not asked for), writes a note saying which target
// trains them.
func buildSection(e *env, t tables.Table, in *claims.Input) (paperreport.Section, error) {
	fmt.Fprintf(os.Stderr, "%s:\n", t.Section())
	sec := paperreport.Section{Name: t.Section(), File: t.File(), Source: t.Source()}
	if !e.trainMissing && !e.m.verify {
		needs, err := t.Needs(e)
		if err != nil {
			return sec, err
		}
		if n := e.Missing(needs); n > 0 {
			fmt.Fprintf(os.Stderr, "  %d runs are neither in the run cache nor in the records: skipped (`make %s` trains them)\n", n, t.Target())
			sec.Source = ""
			sec.Note = fmt.Sprintf("Not run yet: %d of its runs are neither in the run cache nor in the run records; `make %s` trains them.", n, t.Target())
			return sec, nil
		}
	}
	b, err := t.Build(e)
	if err != nil {
		return sec, err
	}
	in.Add(b.Table)
	in.AddRunTimes(b.Outcomes)
	sec.Markdown, sec.Runs, sec.Outcomes, sec.Note = b.Markdown, b.Runs, b.Outcomes, b.Note
	if b.Table == nil {
		sec.Source = ""
	}
	return sec, nil
}
