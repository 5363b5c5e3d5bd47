// Package spectra regenerates the paper's Fig. 5 (singular values of the
// weight update ΔW of full-rank training, LoRA and ReLoRA) from finished
// runs, adds scale-free rank measures and ReLoRA's rank growth merge by
// merge, and checks the claim that ReLoRA's update is high-rank like full
// training.
//
// It works in two stages. AnalyzeRun (stage 1) reads one run's checkpoints,
// exports its effective weights as safetensors and writes the singular
// values of its ΔW into the run folder (RunFile, small enough to keep with
// the run's records). Build (stage 2) makes the table from those files
// alone, so it needs no weights and has no side effects.
package spectra

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// Fig5Projections are the projections the paper's Fig. 5 shows, and over
// which the claim and the rank-growth figure average.
var Fig5Projections = []string{"q", "v", "up", "down"}

// Methods are the rows Fig. 5 compares, in the order of the figure's series
// (so each method keeps its colour across figures).
var Methods = []string{experiments.RowFull, experiments.RowLoRAWS, experiments.RowReLoRA}

// Range is a statistic over the layers of a model.
type Range struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// rangeOf summarises values over layers.
func rangeOf(xs []float64) Range {
	r := Range{Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range xs {
		r.Mean += x
		r.Min, r.Max = math.Min(r.Min, x), math.Max(r.Max, x)
	}
	r.Mean /= float64(len(xs))
	return r
}

// LayerSpectrum is one layer's ΔW of one projection.
type LayerSpectrum struct {
	Layer int `json:"layer"`
	Spectrum
}

// Row is one projection kind × method, over all layers.
type Row struct {
	Proj     string `json:"proj"`
	Method   string `json:"method"`
	Size     int    `json:"size"`      // min(out, in): the largest rank ΔW can have
	LoRARank int    `json:"lora_rank"` // r, for reference (LoRA's ΔW has rank ≤ r)

	BelowAbs   Range `json:"below_abs"` // count of σ < AbsThreshold (the paper's)
	BelowRel   Range `json:"below_rel"` // count of σ < RelThreshold·σ_max
	EffRank    Range `json:"effective_rank"`
	StableRank Range `json:"stable_rank"`
	NumRank    Range `json:"numerical_rank"`
	SigmaMax   Range `json:"sigma_max"`

	Layers []LayerSpectrum `json:"layers"`
}

// RunFiles says which run folder a method's numbers come from and where
// AnalyzeRun exported its effective weights.
type RunFiles struct {
	Method     string `json:"method"`
	Dir        string `json:"run_dir"`
	WarmStep   int    `json:"warm_step"`
	EndStep    int    `json:"end_step"`
	WarmExport string `json:"warm_export"` // safetensors of the effective weights at WarmStep
	EndExport  string `json:"end_export"`  // ... and at EndStep
}

// Growth is ReLoRA's rank growth: the effective rank of W_after_merge_k −
// W_warm after each merge k and at the end, beside the full-rank and LoRA
// updates for reference. Empty with Skipped set when it cannot be measured.
type Growth struct {
	MergeSteps []int                `json:"merge_steps"`      // 0-based steps after which ReLoRA merged
	Steps      []int                `json:"checkpoint_steps"` // steps of the measured checkpoints: m+1 per merge, then the end
	EffRank    map[string][]float64 `json:"effective_rank"`   // per projection (Fig5Projections): mean over layers, per checkpoint
	Full       map[string]float64   `json:"full_rank"`        // full-rank ΔW, same metric
	LoRA       map[string]float64   `json:"lora"`             // LoRA's s·B·A, same metric
	Skipped    string               `json:"skipped,omitempty"`
}

// Table is the regenerated Fig. 5 with its rank statistics.
type Table struct {
	Preset    string       `json:"preset"` // the model preset label of the runs
	Model     model.Config `json:"model"`
	Steps     int          `json:"steps"`
	WarmStart int          `json:"warm_start"` // step of W_warm
	Rank      int          `json:"lora_rank"`
	Alpha     float64      `json:"lora_alpha"`
	Merges    []int        `json:"merge_steps"` // ReLoRA's merges (0-based steps)
	Runs      []RunFiles   `json:"runs"`
	Rows      []Row        `json:"rows"`
	Growth    Growth       `json:"rank_growth"`
	// LoRAFrozenDrift is max |W_frozen − W_warm| of the LoRA+WS run. It
	// should be 0: the paper's notebook takes s·B·A alone as LoRA's ΔW,
	// which is only W_eff − W_warm when the frozen weight is W_warm.
	LoRAFrozenDrift float64 `json:"lora_frozen_drift"`
	// Seeds measures the claim's ranks in every seed whose three runs have
	// RunFiles, the figures' seed first; SeedsSkipped says why other
	// seeds are left out.
	Seeds        []SeedRanks `json:"seeds"`
	SeedsSkipped []string    `json:"seeds_skipped,omitempty"`

	// sigma holds, per method and projection, the singular values of all
	// layers concatenated: Fig. 5's data, too bulky for the JSON.
	sigma map[string]map[string][]float64
}

// picked is the run a method's numbers come from.
type picked struct {
	cfg train.Config
	dir string
}

// pick finds the runs of Fig. 5's methods (the first run of each row, extra
// runs ignored) and checks that they can be compared: one model shape, and
// a warm start in the ReLoRA run, whose step (returned) is W_warm for all.
func pick(runs []experiments.Run, outs []runner.Outcome) (map[string]picked, int, error) {
	if len(runs) != len(outs) {
		return nil, 0, fmt.Errorf("spectra: %d runs but %d outcomes", len(runs), len(outs))
	}
	ps := map[string]picked{}
	for _, name := range Methods {
		found := false
		for i, r := range runs {
			if r.Row != name {
				continue
			}
			if outs[i].Err != nil {
				return nil, 0, fmt.Errorf("spectra: run %s (%s) failed: %w", name, outs[i].Dir, outs[i].Err)
			}
			ps[name], found = picked{cfg: r.Config, dir: outs[i].Dir}, true
			break
		}
		if !found {
			return nil, 0, fmt.Errorf("spectra: no run for row %q among the %d runs", name, len(runs))
		}
	}
	re := ps[experiments.RowReLoRA].cfg
	ws := re.ReLoRA.WarmStartSteps
	if ws < 1 {
		return nil, 0, fmt.Errorf("spectra: the ReLoRA run has no warm start, so there is no W_warm to measure ΔW from")
	}
	for _, name := range Methods {
		if mc := ps[name].cfg.Model; mc != re.Model {
			return nil, 0, fmt.Errorf("spectra: run %s has model %+v, ReLoRA's is %+v", name, mc, re.Model)
		}
	}
	return ps, ws, nil
}

// Build is stage 2: it makes the table from the RunFile of the three runs
// of experiments.Spectra (full-rank, LoRA+WS, ReLoRA; the first of each
// row makes the figures, and the claim is judged over the seeds of every
// other run given whose RunFiles exist), which AnalyzeRun wrote from
// their checkpoints. It reads nothing else (no checkpoint) and writes
// nothing, so a table built from copies of the RunFiles is the same as one
// built right after the analysis. Errors name the run whose RunFile is
// missing or was made for another run.
func Build(runs []experiments.Run, outs []runner.Outcome) (*Table, error) {
	t, rs, err := collect(runs, outs)
	if err != nil {
		return nil, err
	}
	t.spectra(rs)
	t.rankGrowth(rs)
	groups := bySeed(runs, outs)
	t.Seeds = []SeedRanks{measureSeed(groups[0].seed, rs)}
	t.otherSeeds(groups)
	return t, nil
}

// ExportsIn points the table's export paths at other run folders: cacheDir
// gives a method's run folder in the run cache. AnalyzeRun exports the
// effective weights into the folder it analyses, which holds the
// checkpoints, while Build may have read the RunFiles from the runs'
// records, which never hold weights.
func (t *Table) ExportsIn(cacheDir func(method string) string) {
	for i := range t.Runs {
		r := &t.Runs[i]
		d := cacheDir(r.Method)
		r.WarmExport, r.EndExport = filepath.Join(d, ExportFile(r.WarmStep)), filepath.Join(d, ExportFile(r.EndStep))
	}
}

// collect finds the three methods' runs and reads their RunFiles (by
// method name).
func collect(runs []experiments.Run, outs []runner.Outcome) (*Table, map[string]*RunSpectra, error) {
	ps, ws, err := pick(runs, outs)
	if err != nil {
		return nil, nil, err
	}
	re := ps[experiments.RowReLoRA].cfg
	t := &Table{Preset: re.Preset, Model: re.Model, Steps: re.Steps, WarmStart: ws, Rank: re.ReLoRA.Rank, Alpha: re.ReLoRA.Alpha,
		Merges: re.ReLoRA.MergeSteps(re.Steps)}
	rs := map[string]*RunSpectra{}
	for _, name := range Methods {
		p := ps[name]
		if rs[name], err = readRunFor(p.dir, p.cfg, name, ws); err != nil {
			return nil, nil, err
		}
		warm, end := rs[name].WarmCheckpointStep, rs[name].EndCheckpointStep
		t.Runs = append(t.Runs, RunFiles{Method: name, Dir: p.dir, WarmStep: warm, EndStep: end,
			WarmExport: filepath.Join(p.dir, ExportFile(warm)), EndExport: filepath.Join(p.dir, ExportFile(end))})
	}
	t.LoRAFrozenDrift = *rs[experiments.RowLoRAWS].LoRAFrozenDrift
	return t, rs, nil
}

// spectra fills the rows and Fig. 5's data from each method's singular
// values.
func (t *Table) spectra(rs map[string]*RunSpectra) {
	t.sigma = map[string]map[string][]float64{}
	for _, name := range Methods {
		t.sigma[name] = map[string][]float64{}
	}
	for _, p := range model.ProjNames {
		out, in := shapeOf(t.Model, p)
		for _, name := range Methods {
			row := Row{Proj: p, Method: name, Size: min(out, in), LoRARank: t.Rank}
			var belowAbs, belowRel, eff, stable, num, smax []float64
			for l := range t.Model.Layers {
				sigma := rs[name].Sigma[p][l]
				t.sigma[name][p] = append(t.sigma[name][p], sigma...)
				s := Analyze(sigma)
				row.Layers = append(row.Layers, LayerSpectrum{Layer: l, Spectrum: s})
				belowAbs, belowRel = append(belowAbs, float64(s.BelowAbs)), append(belowRel, float64(s.BelowRel))
				eff, stable = append(eff, s.EffRank), append(stable, s.StableRank)
				num, smax = append(num, float64(s.NumRank)), append(smax, s.SigmaMax)
			}
			row.BelowAbs, row.BelowRel = rangeOf(belowAbs), rangeOf(belowRel)
			row.EffRank, row.StableRank = rangeOf(eff), rangeOf(stable)
			row.NumRank, row.SigmaMax = rangeOf(num), rangeOf(smax)
			t.Rows = append(t.Rows, row)
		}
	}
}

// meanEffRank is the effective rank of one projection's matrices (their
// singular values by layer), averaged over layers.
func meanEffRank(byLayer [][]float64) float64 {
	s := 0.0
	for _, sigma := range byLayer {
		s += EffectiveRank(sigma)
	}
	return s / float64(len(byLayer))
}

// rankGrowth measures ReLoRA's update after each merge.
func (t *Table) rankGrowth(rs map[string]*RunSpectra) {
	g := &t.Growth
	g.MergeSteps = t.Merges
	g.EffRank, g.Full, g.LoRA = map[string][]float64{}, map[string]float64{}, map[string]float64{}
	for _, p := range Fig5Projections {
		g.Full[p] = t.row(p, experiments.RowFull).EffRank.Mean
		g.LoRA[p] = t.row(p, experiments.RowLoRAWS).EffRank.Mean
	}
	re := rs[experiments.RowReLoRA]
	if re.MissingMerge != "" {
		g.Skipped = fmt.Sprintf("the ReLoRA run has no %s (it was trained by a binary that did not keep "+
			"the checkpoints after merges; retrain it to get the figure), so the rank-growth figure is skipped", re.MissingMerge)
		return
	}
	if len(t.Merges) == 0 {
		g.Skipped = "the ReLoRA run never merged (no restart before its last step), so there is no rank growth to show"
		return
	}
	for _, m := range re.Merges {
		g.Steps = append(g.Steps, m.Step)
		for _, p := range Fig5Projections {
			g.EffRank[p] = append(g.EffRank[p], meanEffRank(m.Sigma[p]))
		}
	}
	// The last point is the end of training: every merge plus the
	// current, not yet merged s·B·A (the Row's value, same definition).
	g.Steps = append(g.Steps, re.EndCheckpointStep)
	for _, p := range Fig5Projections {
		g.EffRank[p] = append(g.EffRank[p], t.row(p, experiments.RowReLoRA).EffRank.Mean)
	}
}

// row returns the row of a projection and method.
func (t *Table) row(proj, method string) *Row {
	for i := range t.Rows {
		if t.Rows[i].Proj == proj && t.Rows[i].Method == method {
			return &t.Rows[i]
		}
	}
	panic("spectra: no row " + proj + " / " + method)
}
