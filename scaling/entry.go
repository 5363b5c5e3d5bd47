package scaling

import (
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/tables"
)

// Entry is Tables 2 and 3 in the harness's registry of tables.
type Entry struct{}

func (Entry) Name() string { return "scaling" }
func (Entry) About() string {
	return "Tables 2 and 3: full, control, LoRA, LoRA+WS, ReLoRA across model sizes"
}
func (Entry) Section() string { return "Tables 2 and 3 — scaling" }
func (Entry) Source() string  { return "Table 2" }
func (Entry) File() string    { return MarkdownFile }
func (Entry) Target() string  { return "scaling" }

func (Entry) Runs(env tables.Env) ([]experiments.Run, error) {
	return experiments.Scaling(env.ReportPreset())
}

// Needs: the matrix takes several sittings, so the report renders it once
// the preset's own seed is complete, with every other seed trained so far
// (each cell says over how many seeds).
func (Entry) Needs(env tables.Env) ([]experiments.Run, error) {
	return experiments.Scaling(env.Preset())
}

func (Entry) Build(env tables.Env) (*tables.Built, error) {
	p := env.Preset()
	if env.TrainMissing() || env.Verify() {
		p = env.ReportPreset()
	}
	runs, err := experiments.Scaling(p)
	if err != nil {
		return nil, err
	}
	runs, outs, err := tables.Recorded(env, runs)
	if err != nil {
		return nil, err
	}
	t, err := Build(p, runs, outs)
	if err != nil {
		return nil, err
	}
	if err := Write(env.Results(), t); err != nil {
		return nil, err
	}
	return &tables.Built{Table: t, Markdown: t.Markdown(), Terminal: t.Markdown(), Runs: runs, Outcomes: outs}, nil
}
