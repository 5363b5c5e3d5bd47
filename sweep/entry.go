package sweep

import (
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/tables"
)

// Entry is the sensitivity sweeps in the harness's registry of tables.
type Entry struct{}

func (Entry) Name() string { return "sweep" }
func (Entry) About() string {
	return "sensitivity sweeps: reset interval, rank, pruning ratio (3 seeds)"
}
func (Entry) Section() string { return "Sensitivity sweeps" }
func (Entry) Source() string  { return "" }
func (Entry) File() string    { return MarkdownFile }
func (Entry) Target() string  { return "sweep" }

func (Entry) Runs(env tables.Env) ([]experiments.Run, error) {
	_, runs, err := experiments.Sweeps(env.ReportPreset())
	return runs, err
}

// Needs is the sweep with the fewest runs missing: the report renders once
// one sweep is complete, and the others say how many runs they miss.
func (Entry) Needs(env tables.Env) ([]experiments.Run, error) {
	sweeps, runs, err := experiments.Sweeps(env.ReportPreset())
	if err != nil {
		return nil, err
	}
	var best []experiments.Run
	fewest := -1
	for _, sw := range sweeps {
		own := slices.DeleteFunc(slices.Clone(runs), func(r experiments.Run) bool { return !slices.Contains(sw.Points, r.Size) })
		if n := env.Missing(own); fewest < 0 || n < fewest {
			best, fewest = own, n
		}
	}
	return best, nil
}

// Build trains (or reuses) the sweeps' runs and writes their files; runs
// that neither the cache nor the records hold are left untrained unless
// env trains what is missing, and their sweeps say so.
func (Entry) Build(env tables.Env) (*tables.Built, error) {
	p := env.ReportPreset()
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		return nil, err
	}
	have, outs, all, allOuts, err := env.Available(runs)
	if err != nil {
		return nil, err
	}
	t, err := Build(p, sweeps, all, allOuts)
	if err != nil {
		return nil, err
	}
	if err := Write(env.Results(), t); err != nil {
		return nil, err
	}
	return &tables.Built{Table: t, Markdown: "### Sensitivity sweeps\n\n" + t.Markdown(), Terminal: t.Markdown(), Runs: have, Outcomes: outs}, nil
}
