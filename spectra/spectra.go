// Package spectra regenerates the paper's Fig. 5 (singular values of the
// weight update ΔW of full-rank training, LoRA and ReLoRA) from finished
// runs, adds scale-free rank measures and ReLoRA's rank growth merge by
// merge, checks the claim that ReLoRA's update is high-rank like full
// training, and exports the effective weights as safetensors.
package spectra

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/report"
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

// RunFiles says which run folder a method's numbers come from and where its
// effective weights were exported.
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
	LoRAFrozenDrift float64        `json:"lora_frozen_drift"`
	Claims          []report.Claim `json:"claims"`

	// sigma holds, per method and projection, the singular values of all
	// layers concatenated: Fig. 5's data, too bulky for the JSON.
	sigma map[string]map[string][]float64
}

// method is one method's run while Build works on it.
type method struct {
	name   string
	run    experiments.Run
	dir    string
	scale  float64
	delta  weights
	files  RunFiles
	growth []weights // ReLoRA only: W_eff after each merge − W_warm
}

// Build reads the three runs of experiments.Spectra (full-rank, LoRA+WS,
// ReLoRA; extra runs are ignored, the first of each row is used), computes
// ΔW and its spectrum for every layer and projection, and exports every
// method's effective weights at the warm start and the end as
// <run dir>/effective-<step>.safetensors (Build's only side effect). Errors
// name the missing run or checkpoint file.
func Build(runs []experiments.Run, outs []runner.Outcome) (*Table, error) {
	t, ms, err := collect(runs, outs)
	if err != nil {
		return nil, err
	}
	if err := t.spectra(ms); err != nil {
		return nil, err
	}
	if err := t.rankGrowth(ms); err != nil {
		return nil, err
	}
	t.Claims = []report.Claim{t.highRankClaim()}
	return t, nil
}

// collect finds the three methods' runs, reads their checkpoints, exports
// the effective weights and computes every ΔW (by method name).
func collect(runs []experiments.Run, outs []runner.Outcome) (*Table, map[string]*method, error) {
	if len(runs) != len(outs) {
		return nil, nil, fmt.Errorf("spectra: %d runs but %d outcomes", len(runs), len(outs))
	}
	ms := map[string]*method{}
	for _, name := range Methods {
		for i, r := range runs {
			if r.Row != name {
				continue
			}
			if outs[i].Err != nil {
				return nil, nil, fmt.Errorf("spectra: run %s (%s) failed: %w", name, outs[i].Dir, outs[i].Err)
			}
			ms[name] = &method{name: name, run: r, dir: outs[i].Dir,
				scale: loraScale(r.Config.ReLoRA.Alpha, r.Config.ReLoRA.Rank)}
			break
		}
		if ms[name] == nil {
			return nil, nil, fmt.Errorf("spectra: no run for row %q among the %d runs", name, len(runs))
		}
	}
	re := ms[experiments.RowReLoRA].run.Config
	ws := re.ReLoRA.WarmStartSteps
	if ws < 1 {
		return nil, nil, fmt.Errorf("spectra: the ReLoRA run has no warm start, so there is no W_warm to measure ΔW from")
	}
	mc := re.Model
	for _, m := range ms {
		if m.run.Config.Model != mc {
			return nil, nil, fmt.Errorf("spectra: run %s has model %+v, ReLoRA's is %+v", m.name, m.run.Config.Model, mc)
		}
	}
	t := &Table{Preset: re.Preset, Model: mc, Steps: re.Steps, WarmStart: ws, Rank: re.ReLoRA.Rank, Alpha: re.ReLoRA.Alpha,
		Merges: re.ReLoRA.MergeSteps(re.Steps)}
	for _, name := range Methods {
		if err := t.load(ms[name]); err != nil {
			return nil, nil, err
		}
		t.Runs = append(t.Runs, ms[name].files)
	}
	return t, ms, nil
}

// load reads a method's warm-start and final checkpoints, exports its
// effective weights and computes its ΔW; for ReLoRA it also reads the
// checkpoints kept after each merge.
func (t *Table) load(m *method) error {
	warmCk, err := loadCheckpoint(m.dir, train.KeptCheckpoint(t.WarmStart), m.name+" weights at the warm start (W_warm)")
	if err != nil {
		return err
	}
	warm, err := warmCk.effective(t.Model, m.scale)
	if err != nil {
		return err
	}
	endCk, err := loadCheckpoint(m.dir, train.CheckpointFile, m.name+" final weights")
	if err != nil {
		return err
	}
	end, err := endCk.effective(t.Model, m.scale)
	if err != nil {
		return err
	}
	m.files = RunFiles{Method: m.name, Dir: m.dir, WarmStep: warmCk.Step, EndStep: endCk.Step}
	for _, e := range []struct {
		w     weights
		step  int
		stage string
		path  *string
	}{{warm, warmCk.Step, "warm_start", &m.files.WarmExport}, {end, endCk.Step, "end", &m.files.EndExport}} {
		*e.path = filepath.Join(m.dir, ExportFile(e.step))
		meta := map[string]string{"method": m.name, "step": strconv.Itoa(e.step), "stage": e.stage,
			"format": "effective weight W + (alpha/r)·B·A of each projection, [out, in]"}
		if err := export(*e.path, e.w, meta); err != nil {
			return fmt.Errorf("spectra: exporting %s: %w", *e.path, err)
		}
	}

	switch m.name {
	case experiments.RowLoRAWS:
		// The paper's notebook: LoRA's update is the adapter alone.
		if m.delta, err = endCk.lowRankUpdates(t.Model, m.scale); err != nil {
			return err
		}
		frozen, err := endCk.stored(t.Model)
		if err != nil {
			return err
		}
		t.LoRAFrozenDrift = maxAbsDiff(frozen, warm)
	default:
		m.delta = sub(end, warm)
	}
	if m.name != experiments.RowReLoRA {
		return nil
	}
	for _, step := range t.Merges {
		ck, err := loadCheckpoint(m.dir, train.KeptCheckpoint(step+1), fmt.Sprintf("ReLoRA weights after the merge at step %d", step))
		if errors.Is(err, errMissing) {
			t.Growth.Skipped = fmt.Sprintf("the ReLoRA run has no %s (it was trained by a binary that did not keep "+
				"the checkpoints after merges; retrain it to get the figure), so the rank-growth figure is skipped", train.KeptCheckpoint(step+1))
			m.growth = nil
			return nil
		}
		if err != nil {
			return err
		}
		w, err := ck.effective(t.Model, m.scale)
		if err != nil {
			return err
		}
		m.growth = append(m.growth, sub(w, warm))
		t.Growth.Steps = append(t.Growth.Steps, ck.Step)
	}
	return nil
}

// spectra fills the rows and Fig. 5's data from each method's ΔW.
func (t *Table) spectra(ms map[string]*method) error {
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
				sigma, err := SingularValues(ms[name].delta[tensorName(l, p)])
				if err != nil {
					return fmt.Errorf("%w (%s, %s)", err, name, tensorName(l, p))
				}
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
	return nil
}

// meanEffRank is the effective rank of ws' projection p, averaged over layers.
func meanEffRank(w weights, layers int, p string) (float64, error) {
	s := 0.0
	for l := range layers {
		sigma, err := SingularValues(w[tensorName(l, p)])
		if err != nil {
			return 0, err
		}
		s += EffectiveRank(sigma)
	}
	return s / float64(layers), nil
}

// rankGrowth measures ReLoRA's update after each merge.
func (t *Table) rankGrowth(ms map[string]*method) error {
	g := &t.Growth
	g.MergeSteps = t.Merges
	g.EffRank, g.Full, g.LoRA = map[string][]float64{}, map[string]float64{}, map[string]float64{}
	for _, p := range Fig5Projections {
		g.Full[p] = t.row(p, experiments.RowFull).EffRank.Mean
		g.LoRA[p] = t.row(p, experiments.RowLoRAWS).EffRank.Mean
	}
	if g.Skipped != "" {
		g.Steps = nil
		return nil
	}
	if len(t.Merges) == 0 {
		g.Skipped = "the ReLoRA run never merged (no restart before its last step), so there is no rank growth to show"
		return nil
	}
	re := ms[experiments.RowReLoRA]
	for _, w := range re.growth {
		for _, p := range Fig5Projections {
			e, err := meanEffRank(w, t.Model.Layers, p)
			if err != nil {
				return err
			}
			g.EffRank[p] = append(g.EffRank[p], e)
		}
	}
	// The last point is the end of training: every merge plus the
	// current, not yet merged s·B·A (the Row's value, same definition).
	g.Steps = append(g.Steps, re.files.EndStep)
	for _, p := range Fig5Projections {
		g.EffRank[p] = append(g.EffRank[p], t.row(p, experiments.RowReLoRA).EffRank.Mean)
	}
	return nil
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
