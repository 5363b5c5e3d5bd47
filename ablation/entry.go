package ablation

import (
	"flag"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/tables"
)

// Entry is Table 1 in the harness's registry of tables.
type Entry struct {
	rows string // -rows: only these comma-separated rows
}

func (*Entry) Name() string { return "ablation" }
func (*Entry) About() string {
	return "Table 1: restarts × optimizer reset × jagged schedule × warm start"
}
func (*Entry) Section() string { return "Table 1 — ablation" }
func (*Entry) Source() string  { return "Table 1" }
func (*Entry) File() string    { return MarkdownFile }
func (*Entry) Target() string  { return "ablation SEEDS=3" }

// Flags binds -rows.
func (e *Entry) Flags(fs *flag.FlagSet) {
	fs.StringVar(&e.rows, "rows", "", "only these comma-separated Table 1 rows (e.g. \"LoRA,+R+O\")")
}

func (e *Entry) matrix(p experiments.Preset) ([]experiments.Run, error) {
	var names []string
	if e.rows != "" {
		names = strings.Split(e.rows, ",")
	}
	rows, err := experiments.AblationRowsNamed(names)
	if err != nil {
		return nil, err
	}
	return experiments.AblationOf(p, rows), nil
}

// Runs are the rows at the report's seeds: its claims are judged on the
// spread over seeds.
func (e *Entry) Runs(env tables.Env) ([]experiments.Run, error) { return e.matrix(env.ReportPreset()) }

func (e *Entry) Needs(env tables.Env) ([]experiments.Run, error) { return e.Runs(env) }

// Build trains (or reuses) the rows at every seed the cache and records
// hold and writes ablation.md, its JSON and figures.
func (e *Entry) Build(env tables.Env) (*tables.Built, error) {
	runs, err := e.Runs(env)
	if err != nil {
		return nil, err
	}
	runs, outs, err := tables.Recorded(env, runs)
	if err != nil {
		return nil, err
	}
	t, err := Build(env.ReportPreset(), runs, outs)
	if err != nil {
		return nil, err
	}
	if err := Write(env.Results(), t); err != nil {
		return nil, err
	}
	return &tables.Built{Table: t, Markdown: t.Markdown(), Terminal: t.Report().Text(), Runs: runs, Outcomes: outs}, nil
}
