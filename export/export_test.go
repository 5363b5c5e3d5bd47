package export

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"

	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// nanoShape is the nano preset with a larger init, so that attention is far
// from uniform and a wrong position encoding shows in the logits.
func nanoShape(t *testing.T) model.Config {
	t.Helper()
	shape, err := model.Preset("nano")
	if err != nil {
		t.Fatal(err)
	}
	shape.InitStd = 0.1
	return shape
}

func newModel(t *testing.T, shape model.Config, seed uint64) *model.Model {
	t.Helper()
	m, err := model.New(shape, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// loraModel is a model wrapped in LoRA linears of rank r whose B factors are
// random, not zero, so that merging changes every projection.
func loraModel(t *testing.T, shape model.Config, seed uint64, rank int, alpha float64) *model.Model {
	t.Helper()
	m := newModel(t, shape, seed)
	relora.Wrap(m, rank, alpha, seed)
	rng := rand.New(rand.NewPCG(seed, 99))
	for _, l := range relora.LoRAs(m) {
		for i := range l.B.Raw() {
			l.B.Raw()[i] = float32(rng.NormFloat64() * 0.05)
		}
	}
	return m
}

func paramsOf(m *model.Model) map[string][]float32 {
	ps := map[string][]float32{}
	for _, p := range m.Params() {
		ps[p.Name] = slices.Clone(p.Raw())
	}
	return ps
}

// effectiveParams returns the parameters of a full-rank model that applies
// m's effective weights.
func effectiveParams(m *model.Model) map[string][]float32 {
	ps := paramsOf(m)
	for l, b := range m.Blocks {
		for p, lin := range b.Proj {
			pre := fmt.Sprintf("layers.%d.%s.", l, model.ProjNames[p])
			delete(ps, pre+"lora_a")
			delete(ps, pre+"lora_b")
			ps[pre+"weight"] = slices.Clone(lin.Effective())
		}
	}
	return ps
}

// wantNames lists the Hugging Face names and shapes of a model, in order.
func wantNames(shape model.Config) ([]string, [][]int) {
	d, f, v := shape.Dim, shape.FFN, shape.Vocab
	names, shapes := []string{"model.embed_tokens.weight"}, [][]int{{v, d}}
	for l := 0; l < shape.Layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		names = append(names, p+"input_layernorm.weight", p+"post_attention_layernorm.weight",
			p+"self_attn.q_proj.weight", p+"self_attn.k_proj.weight", p+"self_attn.v_proj.weight", p+"self_attn.o_proj.weight",
			p+"mlp.gate_proj.weight", p+"mlp.up_proj.weight", p+"mlp.down_proj.weight")
		shapes = append(shapes, []int{d}, []int{d}, []int{d, d}, []int{d, d}, []int{d, d}, []int{d, d}, []int{f, d}, []int{f, d}, []int{d, f})
	}
	return append(names, "model.norm.weight", "lm_head.weight"), append(shapes, []int{d}, []int{v, d})
}

func TestNamesAndShapes(t *testing.T) {
	shape, err := model.Preset("nano")
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(t, shape, 1)
	tensors, info, err := Tensors(shape, paramsOf(m), 32)
	if err != nil {
		t.Fatal(err)
	}
	if info.Merged != 0 {
		t.Errorf("a full-rank model merged %d projections", info.Merged)
	}
	names, shapes := wantNames(shape)
	if len(tensors) != len(names) {
		t.Fatalf("%d tensors, want %d", len(tensors), len(names))
	}
	total := 0
	for i, ten := range tensors {
		if ten.Name != names[i] || !slices.Equal(ten.Shape, shapes[i]) {
			t.Errorf("tensor %d is %s %v, want %s %v", i, ten.Name, ten.Shape, names[i], shapes[i])
		}
		total += len(ten.Data)
	}
	if total != shape.NumParams() {
		t.Errorf("%d values exported, the model has %d", total, shape.NumParams())
	}
	// The values are the parameters', unchanged ([out, in] = the harness's layout).
	byName := map[string][]float32{}
	for _, ten := range tensors {
		byName[ten.Name] = ten.Data
	}
	b := m.Blocks[1]
	for hf, want := range map[string][]float32{
		"model.embed_tokens.weight":                      m.Embed.Raw(),
		"lm_head.weight":                                 m.Head.Raw(),
		"model.norm.weight":                              m.Norm.Raw(),
		"model.layers.1.input_layernorm.weight":          b.AttnNorm.Raw(),
		"model.layers.1.post_attention_layernorm.weight": b.FFNNorm.Raw(),
		"model.layers.1.self_attn.q_proj.weight":         b.Proj[model.ProjQ].Effective(),
		"model.layers.1.self_attn.k_proj.weight":         b.Proj[model.ProjK].Effective(),
		"model.layers.1.self_attn.v_proj.weight":         b.Proj[model.ProjV].Effective(),
		"model.layers.1.self_attn.o_proj.weight":         b.Proj[model.ProjO].Effective(),
		"model.layers.1.mlp.gate_proj.weight":            b.Proj[model.ProjGate].Effective(),
		"model.layers.1.mlp.up_proj.weight":              b.Proj[model.ProjUp].Effective(),
		"model.layers.1.mlp.down_proj.weight":            b.Proj[model.ProjDown].Effective(),
	} {
		if !slices.Equal(byName[hf], want) {
			t.Errorf("%s does not hold its parameter's values", hf)
		}
	}
}

// TestLoRAMerge: a LoRA-wrapped model with non-zero B exports the weights a
// full-rank model of its Effective weights exports (up to Effective's
// float32 rounding), and each merged weight is W + (alpha/r)·B·A summed in
// float64 and rounded once.
func TestLoRAMerge(t *testing.T) {
	shape := nanoShape(t)
	const rank, alpha = 4, 8.0
	m := loraModel(t, shape, 3, rank, alpha)
	got, info, err := Tensors(shape, paramsOf(m), alpha)
	if err != nil {
		t.Fatal(err)
	}
	if info.Merged != 7*shape.Layers || !slices.Equal(info.Ranks, []int{rank}) || info.Scale != alpha/rank {
		t.Errorf("merge info %+v, want %d projections of rank %d, scale %g", info, 7*shape.Layers, rank, alpha/rank)
	}
	want, _, err := Tensors(shape, effectiveParams(m), alpha)
	if err != nil {
		t.Fatal(err)
	}
	ps := paramsOf(m)
	for i := range got {
		g, w := got[i], want[i]
		if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) {
			t.Fatalf("tensor %d: %s %v vs %s %v", i, g.Name, g.Shape, w.Name, w.Shape)
		}
		var maxDiff, maxAbs float64
		for j := range g.Data {
			maxDiff = math.Max(maxDiff, math.Abs(float64(g.Data[j]-w.Data[j])))
			maxAbs = math.Max(maxAbs, math.Abs(float64(w.Data[j])))
		}
		if maxDiff > 1e-6*maxAbs {
			t.Errorf("%s: merged export differs from the Effective weights by %g (max |w| %g)", g.Name, maxDiff, maxAbs)
		}
	}
	// Exactly: float32(W + s·Σ_k B[i,k]·A[k,j]) in float64, for one projection.
	l := m.Blocks[1].Proj[model.ProjDown].(*relora.LoRA)
	out, in := l.Shape()
	w, a, b := ps["layers.1.down.weight"], ps["layers.1.down.lora_a"], ps["layers.1.down.lora_b"]
	var merged []float32
	for _, ten := range got {
		if ten.Name == "model.layers.1.mlp.down_proj.weight" {
			merged = ten.Data
		}
	}
	changed := 0
	for i := 0; i < out; i++ {
		for j := 0; j < in; j++ {
			var s float64
			for k := 0; k < rank; k++ {
				s += float64(b[i*rank+k]) * float64(a[k*in+j])
			}
			exp := float32(float64(w[i*in+j]) + alpha/rank*s)
			if merged[i*in+j] != exp {
				t.Fatalf("down_proj[%d,%d] = %g, want %g", i, j, merged[i*in+j], exp)
			}
			if exp != w[i*in+j] {
				changed++
			}
		}
	}
	if changed < out*in/2 {
		t.Errorf("the merge changed only %d of %d weights: is B zero?", changed, out*in)
	}
}

func TestTensorsRefusesMismatches(t *testing.T) {
	shape := nanoShape(t)
	m := loraModel(t, shape, 4, 4, 8)
	cases := map[string]func(ps map[string][]float32){
		"no parameter \"layers.1.ffn_norm\"":   func(ps map[string][]float32) { delete(ps, "layers.1.ffn_norm") },
		"one LoRA factor without the other":    func(ps map[string][]float32) { delete(ps, "layers.0.q.lora_b") },
		"do not fit":                           func(ps map[string][]float32) { ps["layers.0.up.lora_b"] = ps["layers.0.up.lora_b"][:10] },
		"has 31 values":                        func(ps map[string][]float32) { ps["norm"] = ps["norm"][:31] },
		"do not belong to a model of 2 layers": func(ps map[string][]float32) { ps["layers.2.attn_norm"] = ps["norm"] },
	}
	for want, edit := range cases {
		ps := paramsOf(m)
		edit(ps)
		if _, _, err := Tensors(shape, ps, 8); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got error %v, want one containing %q", err, want)
		}
	}
	if _, _, err := Tensors(shape, paramsOf(m), 0); err == nil || !strings.Contains(err.Error(), "alpha") {
		t.Errorf("LoRA factors with alpha 0: got %v", err)
	}
}

// writeRun makes a run folder as train leaves it: config.json and a
// checkpoint of m at step, named file.
func writeRun(t *testing.T, dir string, cfg train.Config, m *model.Model, step int, file string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := train.WriteConfig(filepath.Join(dir, train.ConfigFile), cfg); err != nil {
		t.Fatal(err)
	}
	ck := train.Snapshot(step, m, train.NewAdamW(cfg.Adam), map[string]float64{"merges": 0}, nil)
	if err := ck.Save(filepath.Join(dir, file)); err != nil {
		t.Fatal(err)
	}
}

func runConfig(t *testing.T, shape model.Config, method string, rank int, alpha float64) train.Config {
	t.Helper()
	cfg, err := train.Default("nano")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Model = shape
	cfg.ReLoRA.Method, cfg.ReLoRA.Rank, cfg.ReLoRA.Alpha = method, rank, alpha
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRunWritesReadableFiles exports a LoRA run folder and reads
// model.safetensors back with the safetensors library: names, F32, shapes,
// bytes and the metadata transformers requires; config.json and README.md.
func TestRunWritesReadableFiles(t *testing.T) {
	shape := nanoShape(t)
	const rank, alpha = 4, 8.0
	m := loraModel(t, shape, 5, rank, alpha)
	run, out := filepath.Join(t.TempDir(), "run"), filepath.Join(t.TempDir(), "out")
	writeRun(t, run, runConfig(t, shape, relora.MethodLoRA, rank, alpha), m, 40, train.CheckpointFile)
	sum, err := Run(run, out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Step != 40 || sum.Merged != 7*shape.Layers || sum.Shape != shape || sum.NonFinite != 0 || len(sum.Files) != 3 {
		t.Errorf("summary %+v", sum)
	}

	b, err := os.ReadFile(filepath.Join(out, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.Deserialize(b)
	if err != nil {
		t.Fatal(err)
	}
	_, header, err := safetensors.ReadMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	if meta := header.Metadata(); meta["format"] != "pt" || meta["step"] != "40" {
		t.Errorf("metadata %v: want format pt, step 40", meta)
	}
	want, _, err := Tensors(shape, paramsOf(m), alpha)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := wantNames(shape)
	gotNames := st.Names()
	slices.Sort(gotNames)
	slices.Sort(names)
	if !slices.Equal(gotNames, names) {
		t.Fatalf("file holds %v, want %v", gotNames, names)
	}
	for _, w := range want {
		v, ok := st.Tensor(w.Name)
		if !ok {
			t.Fatalf("no %s", w.Name)
		}
		if v.DType() != safetensors.F32 {
			t.Errorf("%s: dtype %v", w.Name, v.DType())
		}
		shp := make([]int, len(v.Shape()))
		for i, d := range v.Shape() {
			shp[i] = int(d)
		}
		if !slices.Equal(shp, w.Shape) {
			t.Errorf("%s: shape %v, want %v", w.Name, shp, w.Shape)
		}
		if !slices.Equal(v.Data(), view{w}.Data()) {
			t.Errorf("%s: bytes differ from the merged weights", w.Name)
		}
	}

	var hf map[string]any
	cb, err := os.ReadFile(filepath.Join(out, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cb, &hf); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"architectures": []any{"LlamaForCausalLM"}, "model_type": "llama", "vocab_size": 256.0,
		"hidden_size": 32.0, "intermediate_size": 88.0, "num_hidden_layers": 2.0, "num_attention_heads": 2.0,
		"num_key_value_heads": 2.0, "head_dim": 16.0, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
		"max_position_embeddings": 32.0, "tie_word_embeddings": false, "hidden_act": "silu",
		"torch_dtype": "float32", "attention_bias": false, "mlp_bias": false,
		"bos_token_id": nil, "eos_token_id": nil, "rope_scaling": nil,
	} {
		if got, ok := hf[k]; !ok || !reflect.DeepEqual(got, v) {
			t.Errorf("config.json %s = %v, want %v", k, got, v)
		}
	}
	readme, err := os.ReadFile(filepath.Join(out, ReadmeFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"token id = byte value", "no BOS, no EOS", "LlamaForCausalLM.from_pretrained", "step 40"} {
		if !strings.Contains(string(readme), s) {
			t.Errorf("README.md does not say %q", s)
		}
	}
}

// TestRunPicksCheckpointAndShape: --step reads the kept checkpoint; a
// control run's shape comes from result.json's model (or, without one, from
// the control sizing); a checkpoint of another shape is refused.
func TestRunPicksCheckpointAndShape(t *testing.T) {
	base := nanoShape(t)
	cfg := runConfig(t, base, relora.MethodControl, 4, 8)
	small, err := relora.ControlConfig(base, relora.TrainableParams(base, 4))
	if err != nil {
		t.Fatal(err)
	}
	if small == base {
		t.Fatal("the control shape is the base shape; the test needs a smaller one")
	}
	run := filepath.Join(t.TempDir(), "control")
	final, kept := newModel(t, small, 6), newModel(t, small, 7)
	writeRun(t, run, cfg, final, 100, train.CheckpointFile)
	ck := train.Snapshot(20, kept, train.NewAdamW(cfg.Adam), nil, nil)
	if err := ck.Save(filepath.Join(run, train.KeptCheckpoint(20))); err != nil {
		t.Fatal(err)
	}

	// No result.json yet: the shape train sizes a control model to.
	sum, err := Run(run, filepath.Join(t.TempDir(), "a"), 20)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Step != 20 || sum.Shape != small {
		t.Errorf("kept checkpoint: step %d shape %+v, want 20 %+v", sum.Step, sum.Shape, small)
	}
	// result.json's model wins over the config's.
	res, _ := json.Marshal(train.Result{Status: train.StatusOK, Steps: 100, Model: small, Evals: []train.Eval{{}}})
	if err := os.WriteFile(filepath.Join(run, train.ResultFile), res, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "b")
	if sum, err = Run(run, out, 0); err != nil {
		t.Fatal(err)
	}
	if sum.Step != 100 || sum.Shape != small {
		t.Errorf("final checkpoint: step %d shape %+v, want 100 %+v", sum.Step, sum.Shape, small)
	}
	b, _ := os.ReadFile(filepath.Join(out, WeightsFile))
	st, err := safetensors.Deserialize(b)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := st.Tensor("lm_head.weight"); !slices.Equal(v.Data(), view{Tensor{Data: final.Head.Raw()}}.Data()) {
		t.Error("lm_head.weight is not the final checkpoint's head")
	}

	if _, err := Run(run, out, 30); err == nil || !strings.Contains(err.Error(), "--step 20") {
		t.Errorf("missing kept checkpoint: got %v, want the kept steps listed", err)
	}
	// A full-rank config with a checkpoint of another shape.
	other := filepath.Join(t.TempDir(), "full")
	writeRun(t, other, runConfig(t, base, relora.MethodFull, 4, 8), final, 100, train.CheckpointFile)
	if _, err := Run(other, out, 0); err == nil || !strings.Contains(err.Error(), "values") {
		t.Errorf("checkpoint of another shape: got %v", err)
	}
	if _, err := Run(t.TempDir(), out, 0); err == nil || !strings.Contains(err.Error(), "not a run folder") {
		t.Errorf("empty folder: got %v", err)
	}
}
