package spectra

import (
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/tables"
)

// Entry is Fig. 5 in the harness's registry of tables.
type Entry struct{}

func (Entry) Name() string { return "spectra" }
func (Entry) About() string {
	return "Fig. 5: singular values of the total update ΔW (full, LoRA+WS, ReLoRA)"
}
func (Entry) Section() string { return "Fig. 5 — spectra" }
func (Entry) Source() string  { return "Fig. 5" }
func (Entry) File() string    { return MarkdownFile }
func (Entry) Target() string  { return "spectra" }

// RecordExtras: a run's record keeps its Fig. 5 analysis, so that the
// figure renders without the run's weights.
func (Entry) RecordExtras() []string { return []string{RunFile} }

func (Entry) Runs(env tables.Env) ([]experiments.Run, error) {
	return experiments.Spectra(env.Preset()), nil
}

func (e Entry) Needs(env tables.Env) ([]experiments.Run, error) { return e.Runs(env) }

// Build trains (or reuses) Fig. 5's runs, analyses them and writes its
// files. The analysis (stage 1) reads each run's checkpoints, exports its
// effective weights and writes the singular values of its ΔW into the run
// folder (RunFile); a run analysed before is left alone, so a run read
// from its record (no checkpoints, but the RunFile) is fine. The records
// then get the RunFile, and the table (stage 2) is built from the records'
// files alone, the same with or without the run cache. Every other seed of
// the three runs already trained joins the claim; the figures stay on the
// first seed.
func (Entry) Build(env tables.Env) (*tables.Built, error) {
	runs, outs, err := env.All(experiments.Spectra(env.Preset()))
	if err != nil {
		return nil, err
	}
	if err := AnalyzeRuns(runs, outs); err != nil {
		return nil, err
	}
	if err := env.Record(outs); err != nil {
		return nil, err
	}
	t, err := Build(runs, outs)
	if err != nil {
		return nil, err
	}
	// The exports stay in the run cache: records hold no weights.
	cache := map[string]string{}
	for _, r := range runs {
		if _, ok := cache[r.Row]; !ok {
			cache[r.Row] = runner.Dir(env.RunsDir(), r.Config)
		}
	}
	t.ExportsIn(func(method string) string { return cache[method] })
	if err := Write(env.Results(), t); err != nil {
		return nil, err
	}
	return &tables.Built{Table: t, Markdown: t.Markdown(), Terminal: t.Report().Text(), Runs: runs, Outcomes: outs}, nil
}
