package budget

import (
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/tables"
)

// Entry is the loss-against-compute section in the harness's registry of
// tables: Table 1's runs at the FLOPs they spent, and the equal-FLOP
// experiment (experiments.Budget).
type Entry struct{}

func (Entry) Name() string    { return "budget" }
func (Entry) About() string   { return "loss against training FLOPs and time; the equal-FLOP experiment" }
func (Entry) Section() string { return "Loss against compute" }
func (Entry) Source() string  { return "Loss against compute" }
func (Entry) File() string    { return MarkdownFile }
func (Entry) Target() string  { return "budget" }

func (Entry) Runs(env tables.Env) ([]experiments.Run, error) {
	p := env.ReportPreset()
	spec, err := experiments.Budget(p)
	if err != nil {
		return nil, err
	}
	return append(experiments.Ablation(p), spec.Runs...), nil
}

// Needs: the section renders once Table 1's runs exist; equal-FLOP runs
// not trained yet are listed as missing in it.
func (Entry) Needs(env tables.Env) ([]experiments.Run, error) {
	return experiments.Ablation(env.ReportPreset()), nil
}

// Build trains (or reuses) Table 1's runs and the equal-FLOP matrix (the
// latter only as far as it exists unless env trains what is missing),
// records both and writes the tables and figures. Its runs are the
// equal-FLOP ones: Table 1's belong to Table 1's section.
func (Entry) Build(env tables.Env) (*tables.Built, error) {
	p := env.ReportPreset()
	spec, err := experiments.Budget(p)
	if err != nil {
		return nil, err
	}
	t1Runs, t1Outs, err := tables.Recorded(env, experiments.Ablation(p))
	if err != nil {
		return nil, err
	}
	have, outs, bRuns, bOuts, err := env.Available(spec.Runs)
	if err != nil {
		return nil, err
	}
	t, err := Build(p, spec, t1Runs, t1Outs, bRuns, bOuts)
	if err != nil {
		return nil, err
	}
	if err := Write(env.Results(), t); err != nil {
		return nil, err
	}
	return &tables.Built{Table: t, Markdown: t.Markdown(), Terminal: t.Markdown(), Runs: have, Outcomes: outs}, nil
}
