package successors

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/tables"
)

// Entry is the successors table in the harness's registry of tables.
// Probe measures memory, each probe in a fresh process the command starts
// (nil: memory is reused from the last table or left out).
type Entry struct {
	Probe func([]MemorySpec) ([]MemoryRow, error)
}

func (Entry) Name() string { return "successors" }
func (Entry) About() string {
	return "Beyond the paper: full training, ReLoRA, GaLore and low-rank, each at its own searched learning rate, across sizes"
}
func (Entry) Section() string { return "Beyond the paper — ReLoRA and its successors" }
func (Entry) Source() string  { return "GaLore Table 2" }
func (Entry) File() string    { return MarkdownFile }
func (Entry) Target() string  { return "successors" }

// Runs are every run known so far: the searches as far as they have gone,
// and once every search has settled, the ladder at the report's seeds.
func (Entry) Runs(env tables.Env) ([]experiments.Run, error) {
	return known(env, env.ReportPreset())
}

// Needs: the same at the preset's seeds.
func (Entry) Needs(env tables.Env) ([]experiments.Run, error) {
	return known(env, env.Preset())
}

// known walks the stages as far as the cache and the records go: each
// round of the search needs the one before it, the ladder needs the
// search's chosen rates.
func known(env tables.Env, p experiments.Preset) ([]experiments.Run, error) {
	s, err := experiments.Successors(p)
	if err != nil {
		return nil, err
	}
	read := func(runs []experiments.Run) ([]runner.Outcome, error) {
		return tables.Known(env, runs)
	}
	search, outs, err := searchRates(s, read)
	if err != nil || outs == nil {
		if err == nil {
			fmt.Fprintln(os.Stderr, "successors: these are the learning-rate searches so far; list the runs again once they have finished")
		}
		return search, err
	}
	ladder, err := s.LadderRuns(chosen(search, outs), p.Seeds)
	return append(search, ladder...), err
}

// searchRates runs the searches round by round through execute, adding
// each method's next rate until every method's best is interior or it
// has had experiments.SearchMaxRates rates. execute returning nil
// outcomes stops it there (runs not trained yet), with the runs so far.
func searchRates(s experiments.SuccessorsSpec, execute func([]experiments.Run) ([]runner.Outcome, error)) ([]experiments.Run, []runner.Outcome, error) {
	runs, err := s.FirstSearch()
	if err != nil {
		return nil, nil, err
	}
	for {
		outs, err := execute(runs)
		if err != nil || outs == nil {
			return runs, nil, err
		}
		var next []experiments.Run
		for _, m := range experiments.SuccessorMethods {
			if lr, ok := experiments.NextRate(Points(runs, outs)[m.Name]); ok {
				r, err := s.SearchRun(m.Name, lr)
				if err != nil {
					return nil, nil, err
				}
				next = append(next, r)
			}
		}
		if len(next) == 0 {
			return runs, outs, nil
		}
		runs = append(runs, next...)
	}
}

func chosen(search []experiments.Run, outs []runner.Outcome) map[string]float64 {
	out := map[string]float64{}
	for m, pts := range Points(search, outs) {
		best, _ := experiments.Best(pts)
		out[m] = best.LR
	}
	return out
}

// Build trains (or reuses) the searches round by round, then every method
// across the ladder at its chosen rate, and writes the table.
func (e Entry) Build(env tables.Env) (*tables.Built, error) {
	p := env.Preset()
	if env.TrainMissing() || env.Verify() {
		p = env.ReportPreset()
	}
	s, err := experiments.Successors(p)
	if err != nil {
		return nil, err
	}
	execute := func(runs []experiments.Run) ([]runner.Outcome, error) {
		outs, err := env.Execute(runs)
		if err != nil {
			return nil, err
		}
		return outs, env.Record(outs)
	}
	search, searchOuts, err := searchRates(s, execute)
	if err != nil {
		return nil, err
	}
	ladder, err := s.LadderRuns(chosen(search, searchOuts), p.Seeds)
	if err != nil {
		return nil, err
	}
	ladder, ladderOuts, err := tables.Recorded(env, ladder)
	if err != nil {
		return nil, err
	}
	ladder, ladderOuts = withoutSearchSeed(ladder, ladderOuts)
	t, err := Build(s, search, searchOuts, ladder, ladderOuts)
	if err != nil {
		return nil, err
	}
	if t.Memory, err = e.memory(env, s, t.Chosen()); err != nil {
		return nil, err
	}
	if err := Write(env.Results(), t); err != nil {
		return nil, err
	}
	runs, outs := append(search, ladder...), append(searchOuts, ladderOuts...)
	return &tables.Built{Table: t, Markdown: t.Markdown(), Terminal: t.Markdown(), Runs: runs, Outcomes: outs}, nil
}

// withoutSearchSeed drops the search's runs that the cache offers as
// another seed of a ladder cell (the chosen rate at the search rung): the
// table reports no run its rate was chosen on.
func withoutSearchSeed(runs []experiments.Run, outs []runner.Outcome) ([]experiments.Run, []runner.Outcome) {
	var r []experiments.Run
	var o []runner.Outcome
	for i := range runs {
		if runs[i].Seed != experiments.SearchSeed {
			r, o = append(r, runs[i]), append(o, outs[i])
		}
	}
	return r, o
}

// memory is the table's memory probes: the last table's when they were
// measured for the same configs (a re-render changes nothing), measured
// afresh when the command trains or asks to remeasure, else none.
func (e Entry) memory(env tables.Env, s experiments.SuccessorsSpec, chosen map[string]float64) ([]MemoryRow, error) {
	specs, err := MemorySpecs(s, chosen)
	if err != nil {
		return nil, err
	}
	prev, err := Read(env.Results())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if prev != nil && current(prev.Memory, specs) && !env.Remeasure() {
		return prev.Memory, nil
	}
	if e.Probe == nil || !(env.TrainMissing() || env.Remeasure()) {
		return nil, nil
	}
	fmt.Fprintf(os.Stderr, "successors: %d memory probes, each in its own process\n", len(specs))
	return e.Probe(specs)
}
