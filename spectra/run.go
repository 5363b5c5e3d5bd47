package spectra

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/relorago/harness/atomicfile"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// RunFile is what stage 1 (AnalyzeRun) writes into a run folder: the
// singular values of the run's ΔW, a few kilobytes to a few hundred, which
// is all stage 2 (Build) reads. It belongs to a run's small files (with
// config.json, result.json and metrics.jsonl), so Fig. 5 renders from a
// run's record without its checkpoints.
const RunFile = "spectra-run.json"

// RunFormat is the version of RunFile's content. Bump it when the analysis
// changes what it writes: AnalyzeRun then recomputes older files, and Build
// refuses them.
const RunFormat = 1

// RunSpectra is the content of RunFile: what one run contributes to Fig. 5,
// a pure function of its checkpoints (the same checkpoints give the same
// bytes).
type RunSpectra struct {
	Format int `json:"format"` // RunFormat
	// ConfigHash, Role and WarmStep say what the file was made for: the run
	// (runner.Hash of its config), the Fig. 5 method it plays (one of
	// Methods) and the step of W_warm, whose checkpoint ΔW is measured from.
	ConfigHash string `json:"config_hash"`
	Role       string `json:"role"`
	WarmStep   int    `json:"warm_step"`
	Delta      string `json:"delta"` // how ΔW is formed, in words

	// Steps of the checkpoints measured: W_warm's and the final one.
	WarmCheckpointStep int `json:"warm_checkpoint_step"`
	EndCheckpointStep  int `json:"end_checkpoint_step"`
	// LoRAScale is the s of W + s·B·A in the effective weights (0 for a
	// full-rank run).
	LoRAScale float64 `json:"lora_scale"`

	// Sigma holds the singular values of ΔW, in decreasing order, by
	// projection (model.ProjNames) and then layer.
	Sigma map[string][][]float64 `json:"singular_values"`

	// LoRAFrozenDrift (LoRA+WS only) is max |W_frozen − W_warm|: 0 when the
	// paper's ΔW = s·B·A is the run's W_eff − W_warm.
	LoRAFrozenDrift *float64 `json:"lora_frozen_drift,omitempty"`
	// Merges (ReLoRA only) measures W_eff − W_warm after every merge.
	Merges []MergeSpectra `json:"merges,omitempty"`
	// MissingMerge (ReLoRA only) names the first checkpoint after a merge
	// that the run did not keep; Merges is empty then.
	MissingMerge string `json:"missing_merge_checkpoint,omitempty"`
}

// MergeSpectra is ReLoRA's update W_eff − W_warm after one merge.
type MergeSpectra struct {
	MergeStep int                    `json:"merge_step"`      // 0-based step after which the run merged
	Step      int                    `json:"checkpoint_step"` // step of the checkpoint measured
	Sigma     map[string][][]float64 `json:"singular_values"` // as RunSpectra.Sigma
}

// deltaDefinition says in words how each method's ΔW is formed.
var deltaDefinition = map[string]string{
	experiments.RowFull:   "W_end - W_warm",
	experiments.RowLoRAWS: "s·B·A of the final checkpoint alone (the paper's notebook)",
	experiments.RowReLoRA: "W_eff,end - W_warm with W_eff = W + s·B·A",
}

// AnalyzeRun is stage 1 for one run: it reads the run's checkpoints in dir
// (W_warm kept after warmStep, the final weights and, for ReLoRA, the
// weights kept after each merge), exports the effective weights at both
// ends as dir/ExportFile(step) (safetensors), and writes the singular
// values of the run's ΔW to dir/RunFile (atomically). role is the Fig. 5
// method the run plays (one of Methods): it decides ΔW's definition. dir
// must hold a finished run (result.json).
//
// A RunFile made for the same run, role and warm step is kept as it is:
// nothing is recomputed unless its effective-weight exports are missing
// and the checkpoints are there to make them again. So a run folder without
// checkpoints but with its RunFile (a committed run record) is not an
// error.
func AnalyzeRun(dir string, cfg train.Config, role string, warmStep int) error {
	if !slices.Contains(Methods, role) {
		return fmt.Errorf("spectra: unknown role %q (want one of %q)", role, Methods)
	}
	if warmStep < 1 {
		return fmt.Errorf("spectra: warm step %d: there is no W_warm to measure ΔW from", warmStep)
	}
	hash := runner.Hash(cfg)
	hasCkpt := exists(filepath.Join(dir, train.CheckpointFile))
	old, err := ReadRun(dir)
	stale := "" // why an existing RunFile cannot be kept
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !hasCkpt {
			return fmt.Errorf("spectra: the %s run in %s has neither its %s nor the checkpoints to make it from (no %s): "+
				"copy the %s into the run's record, or train the run again", role, dir, RunFile, train.CheckpointFile, RunFile)
		}
	case err != nil:
		stale = fmt.Sprintf("unreadable (%v)", err)
	default:
		stale = old.madeFor(hash, role, warmStep)
		if stale == "" && (!hasCkpt || exported(dir, old)) {
			return nil
		}
	}
	if _, err := os.Stat(filepath.Join(dir, train.ResultFile)); err != nil {
		return fmt.Errorf("spectra: the %s run in %s is not finished (%w): only a finished run can be analysed", role, dir, err)
	}
	rs, err := analyze(dir, cfg, role, warmStep)
	if err != nil {
		if stale != "" {
			err = fmt.Errorf("%w (its %s is %s, so it must be made again)", err, RunFile, stale)
		}
		return err
	}
	rs.ConfigHash = hash
	b, err := json.Marshal(rs)
	if err != nil {
		return fmt.Errorf("spectra: the %s run in %s: %w", role, dir, err)
	}
	return atomicfile.Write(filepath.Join(dir, RunFile), append(b, '\n'))
}

// AnalyzeRuns runs AnalyzeRun on the runs Build reads, seed by seed, with
// the ReLoRA run's warm start as every method's W_warm. The first seed's
// runs make Fig. 5: their errors are reported together. Other seeds only
// add to the claim's interval, so a seed whose runs cannot be analysed
// (a record without its RunFile and no checkpoints) is left for Build to
// list as skipped, with the reason.
func AnalyzeRuns(runs []experiments.Run, outs []runner.Outcome) error {
	for i, g := range bySeed(runs, outs) {
		ps, ws, err := pick(g.runs, g.outs)
		if err == nil {
			var errs []error
			for _, name := range Methods {
				errs = append(errs, AnalyzeRun(ps[name].dir, ps[name].cfg, name, ws))
			}
			err = errors.Join(errs...)
		}
		if i == 0 && err != nil {
			return err
		}
	}
	return nil
}

// ReadRun reads a run folder's RunFile. A missing file is an error
// matching fs.ErrNotExist.
func ReadRun(dir string) (*RunSpectra, error) {
	path := filepath.Join(dir, RunFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs RunSpectra
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("spectra: %s is corrupt: %w", path, err)
	}
	return &rs, nil
}

// madeFor returns "" when rs was made by this code for the run hash, role
// and warm step, and otherwise how it differs.
func (rs *RunSpectra) madeFor(hash, role string, warmStep int) string {
	switch {
	case rs.Format != RunFormat:
		return fmt.Sprintf("of format %d, this code's is %d", rs.Format, RunFormat)
	case rs.ConfigHash != hash:
		return fmt.Sprintf("made for the run with config hash %s, not %s", rs.ConfigHash, hash)
	case rs.Role != role:
		return fmt.Sprintf("made for the role %q, not %q", rs.Role, role)
	case rs.WarmStep != warmStep:
		return fmt.Sprintf("made for W_warm at step %d, not %d", rs.WarmStep, warmStep)
	}
	return ""
}

// exported says whether both effective-weight exports of rs are in dir.
func exported(dir string, rs *RunSpectra) bool {
	return exists(filepath.Join(dir, ExportFile(rs.WarmCheckpointStep))) && exists(filepath.Join(dir, ExportFile(rs.EndCheckpointStep)))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// analyze computes a run's RunSpectra from its checkpoints and exports its
// effective weights (all but ConfigHash).
func analyze(dir string, cfg train.Config, role string, warmStep int) (*RunSpectra, error) {
	mc, scale := cfg.Model, loraScale(cfg.ReLoRA.Alpha, cfg.ReLoRA.Rank)
	warmCk, err := loadCheckpoint(dir, train.KeptCheckpoint(warmStep), role+" weights at the warm start (W_warm)")
	if err != nil {
		return nil, err
	}
	warm, err := warmCk.effective(mc, scale)
	if err != nil {
		return nil, err
	}
	endCk, err := loadCheckpoint(dir, train.CheckpointFile, role+" final weights")
	if err != nil {
		return nil, err
	}
	end, err := endCk.effective(mc, scale)
	if err != nil {
		return nil, err
	}
	rs := &RunSpectra{Format: RunFormat, Role: role, WarmStep: warmStep, Delta: deltaDefinition[role],
		WarmCheckpointStep: warmCk.Step, EndCheckpointStep: endCk.Step, LoRAScale: scale}
	for _, e := range []struct {
		w     weights
		step  int
		stage string
	}{{warm, warmCk.Step, "warm_start"}, {end, endCk.Step, "end"}} {
		path := filepath.Join(dir, ExportFile(e.step))
		meta := map[string]string{"method": role, "step": strconv.Itoa(e.step), "stage": e.stage,
			"format": "effective weight W + (alpha/r)·B·A of each projection, [out, in]"}
		if err := export(path, e.w, meta); err != nil {
			return nil, fmt.Errorf("spectra: exporting %s: %w", path, err)
		}
	}

	var delta weights
	switch role {
	case experiments.RowLoRAWS:
		// The paper's notebook: LoRA's update is the adapter alone.
		if delta, err = endCk.lowRankUpdates(mc, scale); err != nil {
			return nil, err
		}
		frozen, err := endCk.stored(mc)
		if err != nil {
			return nil, err
		}
		drift := maxAbsDiff(frozen, warm)
		rs.LoRAFrozenDrift = &drift
	default:
		delta = sub(end, warm)
	}
	if rs.Sigma, err = singularValues(delta, mc, role); err != nil {
		return nil, err
	}
	if role != experiments.RowReLoRA {
		return rs, nil
	}
	for _, step := range cfg.ReLoRA.MergeSteps(cfg.Steps) {
		file := train.KeptCheckpoint(step + 1)
		ck, err := loadCheckpoint(dir, file, fmt.Sprintf("ReLoRA weights after the merge at step %d", step))
		if errors.Is(err, errMissing) {
			rs.Merges, rs.MissingMerge = nil, file
			return rs, nil
		}
		if err != nil {
			return nil, err
		}
		w, err := ck.effective(mc, scale)
		if err != nil {
			return nil, err
		}
		sigma, err := singularValues(sub(w, warm), mc, fmt.Sprintf("%s after the merge at step %d", role, step))
		if err != nil {
			return nil, err
		}
		rs.Merges = append(rs.Merges, MergeSpectra{MergeStep: step, Step: ck.Step, Sigma: sigma})
	}
	return rs, nil
}

// singularValues returns the singular values of every projection and layer
// of w, in RunSpectra.Sigma's layout; what names w in errors.
func singularValues(w weights, mc model.Config, what string) (map[string][][]float64, error) {
	out := map[string][][]float64{}
	for _, p := range model.ProjNames {
		for l := range mc.Layers {
			sigma, err := SingularValues(w[tensorName(l, p)])
			if err != nil {
				return nil, fmt.Errorf("%w (%s, %s)", err, what, tensorName(l, p))
			}
			out[p] = append(out[p], sigma)
		}
	}
	return out, nil
}

// readRunFor reads the RunFile Build needs from a run folder and checks
// that it was made for this run, role and warm step, with a singular-value
// list of the model's shape for every projection and layer.
func readRunFor(dir string, cfg train.Config, role string, warmStep int) (*RunSpectra, error) {
	rs, err := ReadRun(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("spectra: the %s run (%s) has no %s, the singular values Fig. 5 is built from: "+
			"analyse the run from its checkpoints first (`relora spectra` does, or spectra.AnalyzeRun)", role, dir, RunFile)
	}
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, RunFile)
	if why := rs.madeFor(runner.Hash(cfg), role, warmStep); why != "" {
		return nil, fmt.Errorf("spectra: %s is %s: analyse the %s run again from its checkpoints (`relora spectra`)", path, why, role)
	}
	bad := func(what string) error { return fmt.Errorf("spectra: %s: %s", path, what) }
	if err := checkShape(rs.Sigma, cfg.Model); err != nil {
		return nil, bad(err.Error())
	}
	for _, m := range rs.Merges {
		if err := checkShape(m.Sigma, cfg.Model); err != nil {
			return nil, bad(fmt.Sprintf("merge at step %d: %v", m.MergeStep, err))
		}
	}
	if role == experiments.RowLoRAWS && rs.LoRAFrozenDrift == nil {
		return nil, bad("no lora_frozen_drift for the LoRA+WS run")
	}
	if role == experiments.RowReLoRA && rs.MissingMerge == "" {
		merges := cfg.ReLoRA.MergeSteps(cfg.Steps)
		if len(rs.Merges) != len(merges) {
			return nil, bad(fmt.Sprintf("%d merges measured, the run merged after steps %v", len(rs.Merges), merges))
		}
		for i, m := range rs.Merges {
			if m.MergeStep != merges[i] {
				return nil, bad(fmt.Sprintf("merge %d measured at step %d, the run merged after step %d", i, m.MergeStep, merges[i]))
			}
		}
	}
	return rs, nil
}

// checkShape checks singular values against the model: every projection,
// every layer, min(out, in) values each.
func checkShape(sigma map[string][][]float64, mc model.Config) error {
	for _, p := range model.ProjNames {
		if len(sigma[p]) != mc.Layers {
			return fmt.Errorf("projection %s has singular values for %d layers, the model has %d", p, len(sigma[p]), mc.Layers)
		}
		out, in := shapeOf(mc, p)
		for l, s := range sigma[p] {
			if len(s) != min(out, in) {
				return fmt.Errorf("%s has %d singular values, a %d×%d matrix has %d", tensorName(l, p), len(s), out, in, min(out, in))
			}
		}
	}
	return nil
}
