package spectra

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
	"gonum.org/v1/gonum/mat"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
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
	mc                 model.Config
	runs               []experiments.Run
	outs               []runner.Outcome
	scale              float64
	rank               int
	want               map[string]map[string][]float64 // method → tensor name → expected ΔW
	wantEndEff         map[string][]float64            // ReLoRA's expected effective end weights
	wantGrowth         map[string][]float64            // ReLoRA after the merge − W_warm
	mergeCkpt, warmDir string
}

func randVec(rng *rand.Rand, n int, std float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * std)
	}
	return v
}

// newFake writes checkpoints for the three methods of a 2-layer model with
// d 4, ffn 6, r 2, alpha 4 (s = 2), warm start 4, 10 steps and one merge
// after step 7 (checkpoint ckpt-8).
func newFake(t *testing.T) *fake {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	mc := model.Config{Vocab: 8, Dim: 4, Layers: 2, Heads: 2, FFN: 6, SeqLen: 4, NormEps: 1e-6, InitStd: 0.02, RopeBase: 10000}
	base := train.Config{Preset: "fake", Model: mc, Steps: 10}
	full, lora, re := base, base, base
	full.ReLoRA = relora.Config{Method: relora.MethodFull}
	full.SaveAt = []int{4}
	lora.ReLoRA = relora.Config{Method: relora.MethodLoRA, Rank: 2, Alpha: 4, WarmStartSteps: 4, ResetEvery: 3, RestartWarmup: 1}
	re.ReLoRA = lora.ReLoRA
	re.ReLoRA.Restarts, re.ReLoRA.OptimizerReset, re.ReLoRA.Jagged = true, true, true
	if got := re.ReLoRA.MergeSteps(re.Steps); len(got) != 1 || got[0] != 7 {
		t.Fatalf("merge steps %v, want [7]", got)
	}
	f := &fake{mc: mc, scale: 2, rank: 2, want: map[string]map[string][]float64{},
		wantEndEff: map[string][]float64{}, wantGrowth: map[string][]float64{}}
	for _, r := range []experiments.Run{{Row: experiments.RowFull, Config: full}, {Row: experiments.RowLoRAWS, Config: lora}, {Row: experiments.RowReLoRA, Config: re}} {
		d := filepath.Join(dir, r.Row)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		f.runs = append(f.runs, r)
		f.outs = append(f.outs, runner.Outcome{Config: r.Config, Dir: d})
		f.want[r.Row] = map[string][]float64{}
		if r.Row == experiments.RowFull {
			f.warmDir = d
		}
		warm, merged, end := map[string][]float32{}, map[string][]float32{}, map[string][]float32{}
		for l := range mc.Layers {
			for _, p := range model.ProjNames {
				name := tensorName(l, p)
				out, in := shapeOf(mc, p)
				ww := randVec(rng, out*in, 0.5)
				warm[name+".weight"] = ww
				// Matrices in float64 from the float32 values the
				// checkpoints hold, so the expectations are exact.
				W := dense(out, in, ww)
				switch r.Row {
				case experiments.RowFull:
					we := randVec(rng, out*in, 0.5)
					end[name+".weight"] = we
					var d mat.Dense
					d.Sub(dense(out, in, we), W)
					f.want[r.Row][name] = d.RawMatrix().Data
				case experiments.RowLoRAWS:
					a, b := randVec(rng, 2*in, 0.5), randVec(rng, out*2, 0.5)
					end[name+".weight"], end[name+".lora_a"], end[name+".lora_b"] = ww, a, b
					var d mat.Dense
					d.Mul(dense(out, 2, b), dense(2, in, a))
					d.Scale(2, &d)
					f.want[r.Row][name] = d.RawMatrix().Data
				case experiments.RowReLoRA:
					wm, am, bm := randVec(rng, out*in, 0.5), randVec(rng, 2*in, 0.5), randVec(rng, out*2, 0.5)
					merged[name+".weight"], merged[name+".lora_a"], merged[name+".lora_b"] = wm, am, bm
					we, a, b := randVec(rng, out*in, 0.5), randVec(rng, 2*in, 0.5), randVec(rng, out*2, 0.5)
					end[name+".weight"], end[name+".lora_a"], end[name+".lora_b"] = we, a, b
					eff := func(w, a, b []float32) *mat.Dense {
						var d mat.Dense
						d.Mul(dense(out, 2, b), dense(2, in, a))
						d.Scale(2, &d)
						d.Add(&d, dense(out, in, w))
						return &d
					}
					e := eff(we, a, b)
					f.wantEndEff[name] = append([]float64(nil), e.RawMatrix().Data...)
					var d, g mat.Dense
					d.Sub(e, W)
					f.want[r.Row][name] = d.RawMatrix().Data
					g.Sub(eff(wm, am, bm), W)
					f.wantGrowth[name] = g.RawMatrix().Data
				}
			}
		}
		save := func(step int, file string, params map[string][]float32) {
			if err := (&train.Checkpoint{Step: step, Params: params}).Save(filepath.Join(d, file)); err != nil {
				t.Fatal(err)
			}
		}
		save(4, train.KeptCheckpoint(4), warm)
		save(10, train.CheckpointFile, end)
		if r.Row == experiments.RowReLoRA {
			f.mergeCkpt = filepath.Join(d, train.KeptCheckpoint(8))
			save(8, train.KeptCheckpoint(8), merged)
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

func TestDeltaAssembly(t *testing.T) {
	f := newFake(t)
	tab, ms, err := collect(f.runs, f.outs)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Methods {
		for name, want := range f.want[m] {
			got := ms[m].delta[name]
			var raw []float64
			r, c := got.Dims()
			for i := range r {
				for j := range c {
					raw = append(raw, got.At(i, j))
				}
			}
			if !near(raw, want, 1e-12) {
				t.Errorf("%s %s: ΔW = %v, want %v", m, name, raw, want)
			}
		}
	}
	if len(ms[experiments.RowReLoRA].growth) != 1 {
		t.Fatalf("ReLoRA has %d merge checkpoints measured, want 1", len(ms[experiments.RowReLoRA].growth))
	}
	for name, want := range f.wantGrowth {
		got := ms[experiments.RowReLoRA].growth[0][name]
		if !near(mat.DenseCopyOf(got).RawMatrix().Data, want, 1e-12) {
			t.Errorf("ReLoRA after merge, %s: wrong ΔW", name)
		}
	}
	if tab.LoRAFrozenDrift != 0 {
		t.Errorf("LoRA frozen drift %g, want 0 (the fake keeps W_warm frozen)", tab.LoRAFrozenDrift)
	}

	// The whole table: LoRA's ΔW has rank ≤ r everywhere.
	tab, err = Build(f.runs, f.outs)
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
	if len(tab.Growth.Steps) != 2 || tab.Growth.Steps[0] != 8 || tab.Growth.Steps[1] != 10 || tab.Growth.Skipped != "" {
		t.Errorf("growth checkpoints %v (skipped %q), want [8 10]", tab.Growth.Steps, tab.Growth.Skipped)
	}
	if len(tab.Claims) != 1 || !strings.Contains(tab.Claims[0].Evidence, "effective rank") {
		t.Errorf("claims: %+v", tab.Claims)
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

func TestExportRoundTrip(t *testing.T) {
	f := newFake(t)
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
	_, err := Build(f.runs, f.outs)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("error %v does not name %s", err, missing)
	}

	// A ReLoRA run without post-merge checkpoints (an older binary): the
	// table is built, the rank-growth figure is skipped and says why.
	f = newFake(t)
	if err := os.Remove(f.mergeCkpt); err != nil {
		t.Fatal(err)
	}
	tab, err := Build(f.runs, f.outs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tab.Growth.Skipped, train.KeptCheckpoint(8)) {
		t.Errorf("skipped reason %q does not name %s", tab.Growth.Skipped, train.KeptCheckpoint(8))
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
