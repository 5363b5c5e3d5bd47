package spectra

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
	"gonum.org/v1/gonum/mat"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// orthonormal returns a random n×n orthogonal matrix: the Q of a Gaussian
// matrix's QR decomposition.
func orthonormal(rng *rand.Rand, n int) *mat.Dense {
	g := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

func TestSpectrumOfKnownMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const rows, cols = 7, 5
	want := []float64{4, 2, 0.3, 0.05, 0} // rank 4; 0.1·σmax = 0.4
	u, v := orthonormal(rng, rows), orthonormal(rng, cols)
	sig := mat.NewDense(rows, cols, nil)
	for i, s := range want {
		sig.Set(i, i, s)
	}
	var m, tmp mat.Dense
	tmp.Mul(u, sig)
	m.Mul(&tmp, v.T())

	got, err := SingularValues(&m)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d singular values, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("σ[%d] = %.12g, want %g", i, got[i], want[i])
		}
	}

	sum, sq := 0.0, 0.0
	for _, s := range want {
		sum += s
		sq += s * s
	}
	h := 0.0
	for _, s := range want {
		if s > 0 {
			h -= s / sum * math.Log(s/sum)
		}
	}
	s := Analyze(got)
	if math.Abs(s.EffRank-math.Exp(h)) > 1e-9 {
		t.Errorf("effective rank %g, want %g", s.EffRank, math.Exp(h))
	}
	if math.Abs(s.StableRank-sq/16) > 1e-9 {
		t.Errorf("stable rank %g, want %g", s.StableRank, sq/16)
	}
	if s.BelowAbs != 2 || s.BelowRel != 3 || s.NumRank != 4 {
		t.Errorf("below 0.1 = %d (want 2), below 0.1·σmax = %d (want 3), numerical rank %d (want 4)", s.BelowAbs, s.BelowRel, s.NumRank)
	}
	// Limits: equal singular values give the full rank, one gives 1.
	if e := EffectiveRank([]float64{3, 3, 3}); math.Abs(e-3) > 1e-12 {
		t.Errorf("effective rank of equal σ = %g, want 3", e)
	}
	if e := EffectiveRank([]float64{3, 0, 0}); e != 1 {
		t.Errorf("effective rank of rank one = %g, want 1", e)
	}
	if e, sr := EffectiveRank([]float64{0, 0}), StableRank([]float64{0, 0}); e != 0 || sr != 0 {
		t.Errorf("zero matrix: effective rank %g, stable rank %g, want 0, 0", e, sr)
	}
}

// fake is a set of fake runs with known weights.
type fake struct {
	root       string // the folder holding the run folders
	mc         model.Config
	runs       []experiments.Run
	outs       []runner.Outcome
	scale      float64
	rank       int
	want       map[string]map[string][]float64 // method → tensor name → expected ΔW
	wantEndEff map[string][]float64            // ReLoRA's expected effective end weights
	wantGrowth []map[string][]float64          // per merge: ReLoRA after the merge − W_warm
	mergeCkpts []string                        // ReLoRA's checkpoints kept after merges
	warmDir    string                          // the full-rank run's folder
}

func randVec(rng *rand.Rand, n int, std float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * std)
	}
	return v
}

// smallRuns are Fig. 5's three runs of a 2-layer model with d 4, ffn 6,
// r 2, alpha 4 (s = 2), warm start 4 and 10 steps; with resetEvery 3 ReLoRA
// merges once, after step 7 (checkpoint ckpt-8).
func smallRuns(resetEvery int) []experiments.Run {
	mc := model.Config{Vocab: 8, Dim: 4, Layers: 2, Heads: 2, FFN: 6, SeqLen: 4, NormEps: 1e-6, InitStd: 0.02, RopeBase: 10000}
	base := train.Config{Preset: "fake", Model: mc, Steps: 10}
	full, lora, re := base, base, base
	full.ReLoRA = relora.Config{Method: relora.MethodFull}
	full.SaveAt = []int{4}
	lora.ReLoRA = relora.Config{Method: relora.MethodLoRA, Rank: 2, Alpha: 4, WarmStartSteps: 4, ResetEvery: resetEvery, RestartWarmup: 1}
	re.ReLoRA = lora.ReLoRA
	re.ReLoRA.Restarts, re.ReLoRA.OptimizerReset, re.ReLoRA.Jagged = true, true, true
	return []experiments.Run{{Row: experiments.RowFull, Config: full}, {Row: experiments.RowLoRAWS, Config: lora}, {Row: experiments.RowReLoRA, Config: re}}
}

// newFake writes the checkpoints of smallRuns(3).
func newFake(t *testing.T) *fake {
	t.Helper()
	f := fabricate(t, smallRuns(3), 0.5, 0)
	if len(f.mergeCkpts) != 1 || filepath.Base(f.mergeCkpts[0]) != train.KeptCheckpoint(8) {
		t.Fatalf("merge checkpoints %v, want one %s", f.mergeCkpts, train.KeptCheckpoint(8))
	}
	return f
}

// fabricate writes random checkpoints (and a result.json) for runs, one
// folder each, as training would keep them: W_warm at the ReLoRA run's
// warm start, the final weights, and ReLoRA's weights after every merge.
// Weights have standard deviation std; the LoRA+WS run's frozen weight
// drifts from W_warm by up to drift.
func fabricate(t *testing.T, runs []experiments.Run, std, drift float64) *fake {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	root := t.TempDir()
	var re train.Config
	for _, r := range runs {
		if r.Row == experiments.RowReLoRA {
			re = r.Config
		}
	}
	mc, ws, merges := re.Model, re.ReLoRA.WarmStartSteps, re.ReLoRA.MergeSteps(re.Steps)
	f := &fake{root: root, mc: mc, rank: re.ReLoRA.Rank, scale: loraScale(re.ReLoRA.Alpha, re.ReLoRA.Rank),
		want: map[string]map[string][]float64{}, wantEndEff: map[string][]float64{}}
	for range merges {
		f.wantGrowth = append(f.wantGrowth, map[string][]float64{})
	}
	rank, s := f.rank, f.scale
	for _, r := range runs {
		d := filepath.Join(root, r.Row)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, train.ResultFile), []byte(`{"status":"ok"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		f.runs = append(f.runs, r)
		f.outs = append(f.outs, runner.Outcome{Config: r.Config, Dir: d})
		f.want[r.Row] = map[string][]float64{}
		if r.Row == experiments.RowFull {
			f.warmDir = d
		}
		warm, end := map[string][]float32{}, map[string][]float32{}
		merged := make([]map[string][]float32, len(merges))
		for k := range merged {
			merged[k] = map[string][]float32{}
		}
		for l := range mc.Layers {
			for _, p := range model.ProjNames {
				name := tensorName(l, p)
				out, in := shapeOf(mc, p)
				ww := randVec(rng, out*in, std)
				warm[name+".weight"] = ww
				// Matrices in float64 from the float32 values the
				// checkpoints hold, so the expectations are exact.
				W := dense(out, in, ww)
				eff := func(w, a, b []float32) *mat.Dense {
					var d mat.Dense
					d.Mul(dense(out, rank, b), dense(rank, in, a))
					d.Scale(s, &d)
					d.Add(&d, dense(out, in, w))
					return &d
				}
				switch r.Row {
				case experiments.RowFull:
					we := randVec(rng, out*in, std)
					end[name+".weight"] = we
					var d mat.Dense
					d.Sub(dense(out, in, we), W)
					f.want[r.Row][name] = d.RawMatrix().Data
				case experiments.RowLoRAWS:
					a, b := randVec(rng, rank*in, std), randVec(rng, out*rank, std)
					frozen := ww
					if drift != 0 {
						frozen = append([]float32(nil), ww...)
						frozen[0] += float32(drift)
					}
					end[name+".weight"], end[name+".lora_a"], end[name+".lora_b"] = frozen, a, b
					var d mat.Dense
					d.Mul(dense(out, rank, b), dense(rank, in, a))
					d.Scale(s, &d)
					f.want[r.Row][name] = d.RawMatrix().Data
				case experiments.RowReLoRA:
					for k := range merges {
						wm, am, bm := randVec(rng, out*in, std), randVec(rng, rank*in, std), randVec(rng, out*rank, std)
						merged[k][name+".weight"], merged[k][name+".lora_a"], merged[k][name+".lora_b"] = wm, am, bm
						var g mat.Dense
						g.Sub(eff(wm, am, bm), W)
						f.wantGrowth[k][name] = g.RawMatrix().Data
					}
					we, a, b := randVec(rng, out*in, std), randVec(rng, rank*in, std), randVec(rng, out*rank, std)
					end[name+".weight"], end[name+".lora_a"], end[name+".lora_b"] = we, a, b
					e := eff(we, a, b)
					f.wantEndEff[name] = append([]float64(nil), e.RawMatrix().Data...)
					var d mat.Dense
					d.Sub(e, W)
					f.want[r.Row][name] = d.RawMatrix().Data
				}
			}
		}
		save := func(step int, file string, params map[string][]float32) {
			if err := (&train.Checkpoint{Step: step, Params: params}).Save(filepath.Join(d, file)); err != nil {
				t.Fatal(err)
			}
		}
		save(ws, train.KeptCheckpoint(ws), warm)
		save(r.Config.Steps, train.CheckpointFile, end)
		if r.Row == experiments.RowReLoRA {
			for k, m := range merges {
				f.mergeCkpts = append(f.mergeCkpts, filepath.Join(d, train.KeptCheckpoint(m+1)))
				save(m+1, train.KeptCheckpoint(m+1), merged[k])
			}
		}
	}
	return f
}

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// analyzed returns the small fake after stage 1.
func analyzed(t *testing.T) *fake {
	t.Helper()
	f := newFake(t)
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
	return f
}

// runFile reads a run's RunFile.
func (f *fake) runFile(t *testing.T, method string) *RunSpectra {
	t.Helper()
	rs, err := ReadRun(f.dir(method))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// dir is a method's run folder.
func (f *fake) dir(method string) string { return filepath.Join(f.root, method) }

// sigmaOf returns the singular values of a row-major out×in matrix.
func sigmaOf(t *testing.T, out, in int, data []float64) []float64 {
	t.Helper()
	s, err := SingularValues(mat.NewDense(out, in, append([]float64(nil), data...)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkSigma compares stored singular values with those of the expected
// matrices (by tensor name).
func (f *fake) checkSigma(t *testing.T, what string, got map[string][][]float64, want map[string][]float64) {
	t.Helper()
	for l := range f.mc.Layers {
		for _, p := range model.ProjNames {
			out, in := shapeOf(f.mc, p)
			w := sigmaOf(t, out, in, want[tensorName(l, p)])
			if len(got[p]) != f.mc.Layers || !near(got[p][l], w, 1e-12*max(1, w[0])) {
				t.Errorf("%s %s: σ = %v, want %v", what, tensorName(l, p), got[p], w)
			}
		}
	}
}

// tableBytes is everything Build's table holds: its JSON, its Markdown and
// Fig. 5's singular values.
func tableBytes(t *testing.T, tab *Table) []byte {
	t.Helper()
	b, err := json.Marshal(struct {
		Table    *Table
		Markdown string
		Sigma    map[string]map[string][]float64
	}{tab, tab.Markdown(), tab.sigma})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshot lists every file under root with its mode, time and content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[path] = fmt.Sprintf("%v %v %x", info.Mode(), info.ModTime().UnixNano(), sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// changes lists the files added, removed or changed between two snapshots.
func changes(before, after map[string]string) []string {
	var out []string
	for path, b := range before {
		if a, ok := after[path]; !ok {
			out = append(out, "removed "+path)
		} else if a != b {
			out = append(out, "changed "+path)
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			out = append(out, "added "+path)
		}
	}
	slices.Sort(out)
	return out
}

// record copies a run folder's small files (no weights) into dst, as the
// committed run records hold them.
func record(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{train.ResultFile, RunFile} {
		b, err := os.ReadFile(filepath.Join(src, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnalyzeRun(t *testing.T) {
	f := analyzed(t)
	for _, m := range Methods {
		rs := f.runFile(t, m)
		if rs.Format != RunFormat || rs.Role != m || rs.ConfigHash != runner.Hash(f.runs[slices.IndexFunc(f.runs, func(r experiments.Run) bool { return r.Row == m })].Config) ||
			rs.WarmStep != 4 || rs.WarmCheckpointStep != 4 || rs.EndCheckpointStep != 10 || rs.Delta == "" {
			t.Errorf("%s: header %+v", m, rs)
		}
		f.checkSigma(t, m, rs.Sigma, f.want[m])
		if (rs.LoRAFrozenDrift != nil) != (m == experiments.RowLoRAWS) {
			t.Errorf("%s: frozen drift %v", m, rs.LoRAFrozenDrift)
		}
		if m != experiments.RowReLoRA && (rs.Merges != nil || rs.MissingMerge != "") {
			t.Errorf("%s: merges %v, missing %q", m, rs.Merges, rs.MissingMerge)
		}
	}
	if d := f.runFile(t, experiments.RowLoRAWS).LoRAFrozenDrift; *d != 0 {
		t.Errorf("LoRA frozen drift %g, want 0 (the fake keeps W_warm frozen)", *d)
	}
	re := f.runFile(t, experiments.RowReLoRA)
	if len(re.Merges) != 1 || re.Merges[0].MergeStep != 7 || re.Merges[0].Step != 8 || re.MissingMerge != "" {
		t.Fatalf("ReLoRA merges %+v (missing %q), want one after step 7, checkpoint 8", re.Merges, re.MissingMerge)
	}
	f.checkSigma(t, "ReLoRA after the merge", re.Merges[0].Sigma, f.wantGrowth[0])

	// The same checkpoints give the same bytes.
	path := filepath.Join(f.dir(experiments.RowReLoRA), RunFile)
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
	if again, err := os.ReadFile(path); err != nil || !bytes.Equal(first, again) {
		t.Errorf("a second analysis of the same checkpoints wrote other bytes (%v)", err)
	}
	if entries, _ := os.ReadDir(f.dir(experiments.RowReLoRA)); slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return strings.Contains(e.Name(), ".tmp") }) {
		t.Errorf("temporary files left: %v", entries)
	}

	// The whole table: LoRA's ΔW has rank ≤ r everywhere.
	tab, err := Build(f.runs, f.outs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows {
		if r.Method == experiments.RowLoRAWS && r.NumRank.Max > float64(f.rank) {
			t.Errorf("LoRA %s: numerical rank %g > r = %d", r.Proj, r.NumRank.Max, f.rank)
		}
		if r.Method == experiments.RowFull && r.NumRank.Min != float64(r.Size) {
			t.Errorf("full-rank %s: numerical rank %g, want %d for a random ΔW", r.Proj, r.NumRank.Min, r.Size)
		}
	}
	// Fig. 5 leaves out exactly the singular values the numerical rank
	// does not count, and draws each method in its fixed style.
	for _, r := range tab.Rows {
		if !slices.Contains(Fig5Projections, r.Proj) {
			continue
		}
		shown, hidden := tab.nonZeroSigma(r.Proj, r.Method)
		if want := r.NumRank.Mean * float64(len(r.Layers)); float64(len(shown)) != want || len(shown)+hidden != r.Size*len(r.Layers) {
			t.Errorf("%s %s: %d drawn, %d left out; numerical rank %g per layer over %d layers of %d", r.Proj, r.Method, len(shown), hidden, r.NumRank.Mean, len(r.Layers), r.Size)
		}
		if _, ok := report.MethodStyle(shortName(r.Method)); !ok {
			t.Errorf("%s has no method style", r.Method)
		}
	}
	if len(tab.Growth.Steps) != 2 || tab.Growth.Steps[0] != 8 || tab.Growth.Steps[1] != 10 || tab.Growth.Skipped != "" {
		t.Errorf("growth checkpoints %v (skipped %q), want [8 10]", tab.Growth.Steps, tab.Growth.Skipped)
	}
	if len(tab.Seeds) != 1 || tab.Seeds[0].ReLoRAEff <= 0 {
		t.Errorf("the claims' per-seed ranks: %+v", tab.Seeds)
	}

	res := t.TempDir()
	if err := Write(res, tab); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{MarkdownFile, JSONFile, Fig5Figure + ".png", Fig5Figure + ".svg", GrowthFigure + ".png", GrowthFigure + ".svg"} {
		if _, err := os.Stat(filepath.Join(res, file)); err != nil {
			t.Error(err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(res, MarkdownFile))
	if !strings.Contains(string(md), "]("+Fig5Figure+".png)") || !strings.Contains(string(md), "]("+GrowthFigure+".png)") {
		t.Errorf("spectra.md lacks relative figure links:\n%s", md)
	}
}

// TestBuildFromRecords builds the table from the run folders right after the
// analysis, then from the same folders without their weights, then from
// copies of the small files elsewhere: the tables must be the same bytes,
// and neither Build nor a repeated analysis may write anything.
func TestBuildFromRecords(t *testing.T) {
	f := analyzed(t)
	before := snapshot(t, f.root)
	tab, err := Build(f.runs, f.outs)
	if err != nil {
		t.Fatal(err)
	}
	want := tableBytes(t, tab)
	if d := changes(before, snapshot(t, f.root)); d != nil {
		t.Fatalf("Build changed the run folders: %v", d)
	}

	// Records elsewhere: same table but for the folder names.
	recRoot := t.TempDir()
	recOuts := slices.Clone(f.outs)
	for i := range recOuts {
		recOuts[i].Dir = filepath.Join(recRoot, f.runs[i].Row)
		record(t, f.outs[i].Dir, recOuts[i].Dir)
	}
	recBefore := snapshot(t, recRoot)
	if err := AnalyzeRuns(f.runs, recOuts); err != nil {
		t.Fatalf("analysing records without checkpoints: %v", err)
	}
	tab, err = Build(f.runs, recOuts)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.ReplaceAll(tableBytes(t, tab), []byte(recRoot), []byte(f.root)); !bytes.Equal(got, want) {
		t.Errorf("table from copied records differs:\n%s\nwant\n%s", got, want)
	}
	if d := changes(recBefore, snapshot(t, recRoot)); d != nil {
		t.Errorf("AnalyzeRuns or Build changed the records: %v", d)
	}

	// The run folders themselves without their weights: byte-identical.
	for _, o := range f.outs {
		entries, err := os.ReadDir(o.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != RunFile && e.Name() != train.ResultFile {
				if err := os.Remove(filepath.Join(o.Dir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
	tab, err = Build(f.runs, f.outs)
	if err != nil {
		t.Fatal(err)
	}
	if got := tableBytes(t, tab); !bytes.Equal(got, want) {
		t.Errorf("table without checkpoints differs:\n%s\nwant\n%s", got, want)
	}
}

func TestBuildNeedsRunFiles(t *testing.T) {
	// Not analysed at all: the first method's run is named.
	f := newFake(t)
	_, err := Build(f.runs, f.outs)
	if err == nil || !strings.Contains(err.Error(), f.dir(experiments.RowFull)) || !strings.Contains(err.Error(), RunFile) ||
		!strings.Contains(err.Error(), "relora spectra") {
		t.Errorf("Build without analysis: %v", err)
	}

	f = analyzed(t)
	lora := f.dir(experiments.RowLoRAWS)
	if err := os.Remove(filepath.Join(lora, RunFile)); err != nil {
		t.Fatal(err)
	}
	_, err = Build(f.runs, f.outs)
	if err == nil || !strings.Contains(err.Error(), "the "+experiments.RowLoRAWS+" run ("+lora+") has no "+RunFile) ||
		!strings.Contains(err.Error(), "analyse the run") {
		t.Errorf("Build with LoRA's %s missing: %v", RunFile, err)
	}

	// A file made for another run, or by an older analysis, is refused.
	f = analyzed(t)
	path := filepath.Join(f.dir(experiments.RowReLoRA), RunFile)
	for _, c := range []struct{ from, to, want string }{
		{`"config_hash":"`, `"config_hash":"x`, "config hash x"},
		{fmt.Sprintf(`"format":%d`, RunFormat), `"format":0`, "of format 0"},
		{`"warm_step":4`, `"warm_step":5`, "W_warm at step 5"},
	} {
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(orig, []byte(c.from)) {
			t.Fatalf("%s has no %s", path, c.from)
		}
		if err := os.WriteFile(path, bytes.Replace(orig, []byte(c.from), []byte(c.to), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = Build(f.runs, f.outs)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("stale %s (%s): %v", RunFile, c.to, err)
		}
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Build(f.runs, f.outs); err != nil {
		t.Errorf("restored files: %v", err)
	}
}

func TestAnalyzeRunReuse(t *testing.T) {
	f := analyzed(t)
	re := f.dir(experiments.RowReLoRA)
	// A current file is not recomputed: a broken checkpoint goes unread.
	if err := os.WriteFile(filepath.Join(re, train.CheckpointFile), []byte("broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatalf("analysis of analysed runs: %v", err)
	}
	// ... unless its exports are missing and the checkpoints are there.
	if err := os.Remove(filepath.Join(re, ExportFile(10))); err != nil {
		t.Fatal(err)
	}
	if err := AnalyzeRuns(f.runs, f.outs); err == nil || !strings.Contains(err.Error(), filepath.Join(re, train.CheckpointFile)) {
		t.Errorf("re-analysis with a broken checkpoint: %v", err)
	}

	// A stale file and no checkpoints to redo it: the error says both.
	f = analyzed(t)
	lora := f.dir(experiments.RowLoRAWS)
	for _, file := range []string{train.CheckpointFile, train.KeptCheckpoint(4)} {
		if err := os.Remove(filepath.Join(lora, file)); err != nil {
			t.Fatal(err)
		}
	}
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatalf("a current %s without checkpoints: %v", RunFile, err)
	}
	path := filepath.Join(lora, RunFile)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.Replace(b, []byte(fmt.Sprintf(`"format":%d`, RunFormat)), []byte(`"format":0`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	err := AnalyzeRuns(f.runs, f.outs)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(lora, train.KeptCheckpoint(4))) || !strings.Contains(err.Error(), "its "+RunFile+" is of format 0") {
		t.Errorf("stale %s without checkpoints: %v", RunFile, err)
	}

	// Neither a file nor checkpoints (a run record without its RunFile).
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	err = AnalyzeRuns(f.runs, f.outs)
	if err == nil || !strings.Contains(err.Error(), "the "+experiments.RowLoRAWS+" run in "+lora+" has neither its "+RunFile) {
		t.Errorf("neither %s nor checkpoints: %v", RunFile, err)
	}

	// Unfinished runs and unknown roles are refused.
	f = newFake(t)
	if err := os.Remove(filepath.Join(f.dir(experiments.RowFull), train.ResultFile)); err != nil {
		t.Fatal(err)
	}
	if err := AnalyzeRun(f.dir(experiments.RowFull), f.runs[0].Config, experiments.RowFull, 4); err == nil || !strings.Contains(err.Error(), "not finished") {
		t.Errorf("unfinished run: %v", err)
	}
	if err := AnalyzeRun(f.dir(experiments.RowLoRAWS), f.runs[1].Config, "LoRA", 4); err == nil || !strings.Contains(err.Error(), "unknown role") {
		t.Errorf("unknown role: %v", err)
	}
}

func TestExportRoundTrip(t *testing.T) {
	f := analyzed(t)
	tab, err := Build(f.runs, f.outs)
	if err != nil {
		t.Fatal(err)
	}
	re := tab.Runs[2]
	if re.Method != experiments.RowReLoRA || re.EndExport != filepath.Join(f.outs[2].Dir, "effective-10.safetensors") {
		t.Fatalf("ReLoRA files %+v", re)
	}
	buf, err := os.ReadFile(re.EndExport)
	if err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		t.Fatal(err)
	}
	if st.Len() != f.mc.Layers*len(model.ProjNames) {
		t.Errorf("%d tensors, want %d", st.Len(), f.mc.Layers*len(model.ProjNames))
	}
	for name, want := range f.wantEndEff {
		tv, ok := st.Tensor(name)
		if !ok {
			t.Fatalf("no tensor %s in %s", name, re.EndExport)
		}
		out, in := shapeOf(f.mc, name[strings.LastIndex(name, ".")+1:])
		if tv.DType() != safetensors.F32 || len(tv.Shape()) != 2 || tv.Shape()[0] != uint64(out) || tv.Shape()[1] != uint64(in) {
			t.Errorf("%s: dtype %v shape %v, want F32 [%d %d]", name, tv.DType(), tv.Shape(), out, in)
		}
		for i, w := range want {
			got := math.Float32frombits(uint32(tv.Data()[4*i]) | uint32(tv.Data()[4*i+1])<<8 | uint32(tv.Data()[4*i+2])<<16 | uint32(tv.Data()[4*i+3])<<24)
			if got != float32(w) {
				t.Fatalf("%s[%d] = %g, want %g", name, i, got, float32(w))
			}
		}
	}
	_, md, err := safetensors.ReadMetadata(buf)
	if err != nil {
		t.Fatal(err)
	}
	if meta := md.Metadata(); meta["method"] != experiments.RowReLoRA || meta["step"] != "10" {
		t.Errorf("metadata %v", meta)
	}
	// Built from records, the table points at the exports in the cache.
	tab.ExportsIn(func(method string) string { return filepath.Join("cache", method) })
	if r := tab.Runs[1]; r.WarmExport != filepath.Join("cache", experiments.RowLoRAWS, ExportFile(4)) ||
		r.EndExport != filepath.Join("cache", experiments.RowLoRAWS, ExportFile(10)) || r.Dir != f.outs[1].Dir {
		t.Errorf("exports in the cache: %+v", r)
	}
	tab.ExportsIn(func(method string) string { return filepath.Join(f.root, method) })

	// The warm-start export of the full-rank run holds W_warm as saved.
	buf, err = os.ReadFile(tab.Runs[0].WarmExport)
	if err != nil {
		t.Fatal(err)
	}
	if _, md, err = safetensors.ReadMetadata(buf); err != nil || md.Metadata()["step"] != "4" {
		t.Errorf("full-rank warm export: %v %v", md.Metadata(), err)
	}
}

func TestMissingCheckpoints(t *testing.T) {
	f := newFake(t)
	missing := filepath.Join(f.warmDir, train.KeptCheckpoint(4))
	if err := os.Remove(missing); err != nil {
		t.Fatal(err)
	}
	if err := AnalyzeRuns(f.runs, f.outs); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("error %v does not name %s", err, missing)
	}

	// A ReLoRA run without post-merge checkpoints (an older binary): the
	// table is built, the rank-growth figure is skipped and says why.
	f = newFake(t)
	if err := os.Remove(f.mergeCkpts[0]); err != nil {
		t.Fatal(err)
	}
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
	if rs := f.runFile(t, experiments.RowReLoRA); rs.MissingMerge != train.KeptCheckpoint(8) || rs.Merges != nil {
		t.Errorf("ReLoRA run file: missing %q, merges %v", rs.MissingMerge, rs.Merges)
	}
	tab, err := Build(f.runs, f.outs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tab.Growth.Skipped, train.KeptCheckpoint(8)) || tab.Growth.Steps != nil {
		t.Errorf("skipped reason %q does not name %s (steps %v)", tab.Growth.Skipped, train.KeptCheckpoint(8), tab.Growth.Steps)
	}
	res := t.TempDir()
	if err := Write(res, tab); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(res, GrowthFigure+".png")); err == nil {
		t.Error("rank-growth figure written although the checkpoints are missing")
	}
	md, _ := os.ReadFile(filepath.Join(res, MarkdownFile))
	if !strings.Contains(string(md), "not shown") {
		t.Errorf("spectra.md does not say the rank growth is skipped:\n%s", md)
	}
}

func TestLoRAFrozenDrift(t *testing.T) {
	f := fabricate(t, smallRuns(3), 0.5, 1e-3)
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
	tab, err := Build(f.runs, f.outs)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(tab.LoRAFrozenDrift-1e-3) > 1e-6 {
		t.Errorf("LoRA frozen drift %g, want ≈ 1e-3", tab.LoRAFrozenDrift)
	}
	if notes := strings.Join(tab.Report().Notes, "\n"); !strings.Contains(notes, "Warning: the LoRA+WS run's frozen weights differ") {
		t.Errorf("no drift warning in the notes:\n%s", notes)
	}
}

func TestRankGrowth(t *testing.T) {
	// Two merges, after steps 5 and 7 (checkpoints 6 and 8).
	f := fabricate(t, smallRuns(2), 0.5, 0)
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
	tab, err := Build(f.runs, f.outs)
	if err != nil {
		t.Fatal(err)
	}
	g := tab.Growth
	if !slices.Equal(g.MergeSteps, []int{6, 8}) || !slices.Equal(g.Steps, []int{7, 9, 10}) || g.Skipped != "" {
		t.Fatalf("growth merges %v, checkpoints %v (skipped %q), want [6 8], [7 9 10]", g.MergeSteps, g.Steps, g.Skipped)
	}
	for _, p := range Fig5Projections {
		out, in := shapeOf(f.mc, p)
		for k, want := range f.wantGrowth {
			e := 0.0
			for l := range f.mc.Layers {
				e += EffectiveRank(sigmaOf(t, out, in, want[tensorName(l, p)]))
			}
			if e /= float64(f.mc.Layers); math.Abs(g.EffRank[p][k]-e) > 1e-9 {
				t.Errorf("%s after merge %d: effective rank %g, want %g", p, k, g.EffRank[p][k], e)
			}
		}
		if len(g.EffRank[p]) != 3 || g.EffRank[p][2] != tab.row(p, experiments.RowReLoRA).EffRank.Mean {
			t.Errorf("%s: growth %v does not end at the row's effective rank", p, g.EffRank[p])
		}
	}

	// No merge before the last step: nothing to show, and it says so.
	f = fabricate(t, smallRuns(6), 0.5, 0)
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
	if tab, err = Build(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tab.Growth.Skipped, "never merged") {
		t.Errorf("growth without merges: %+v", tab.Growth)
	}
}

// TestRunFileSize analyses runs of the default preset's shape (small64: d
// 64, 4 layers, ffn 176; r 8, two merges) and reports the RunFiles' sizes.
func TestRunFileSize(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~15 MB of checkpoints")
	}
	p, err := experiments.Get("default")
	if err != nil {
		t.Fatal(err)
	}
	f := fabricate(t, experiments.Spectra(p), 0.05, 0)
	if f.mc.Dim != 64 || f.mc.Layers != 4 || f.mc.FFN != 176 || len(f.mergeCkpts) != 2 {
		t.Fatalf("default preset: model %+v, %d merges", f.mc, len(f.mergeCkpts))
	}
	if err := AnalyzeRuns(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, m := range Methods {
		st, err := os.Stat(filepath.Join(f.dir(m), RunFile))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s is %d bytes", m, RunFile, st.Size())
		total += st.Size()
		if st.Size() > 200<<10 {
			t.Errorf("%s: %s is %d bytes, more than 200 KiB", m, RunFile, st.Size())
		}
	}
	t.Logf("all three: %d bytes", total)
	if _, err := Build(f.runs, f.outs); err != nil {
		t.Fatal(err)
	}
}
