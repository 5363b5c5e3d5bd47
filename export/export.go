// Package export writes a trained run's weights in the layout of the Hugging
// Face LLaMA (transformers' LlamaForCausalLM): model.safetensors with its
// tensor names, a config.json it reads, and a README.md on the byte-level
// tokenizer. Nothing else of the harness is needed to use the files.
//
// Parameter names (model.Model.Params) map one to one, i = block index:
//
//	embed                    model.embed_tokens.weight               [vocab, dim]
//	layers.i.attn_norm       model.layers.i.input_layernorm.weight   [dim]
//	layers.i.ffn_norm        model.layers.i.post_attention_layernorm.weight [dim]
//	layers.i.{q,k,v,o}.*     model.layers.i.self_attn.{q,k,v,o}_proj.weight [out, in]
//	layers.i.{gate,up,down}.* model.layers.i.mlp.{gate,up,down}_proj.weight [out, in]
//	norm                     model.norm.weight                       [dim]
//	head                     lm_head.weight                          [vocab, dim]
//
// The harness stores a projection's W row-major as [out × in] and applies
// y = x·Wᵀ, which is torch.nn.Linear's weight layout, so weights are copied
// as they are. A projection with LoRA factors ("weight", "lora_a" [r × in],
// "lora_b" [out × r]) is exported merged: W + (alpha/r)·B·A, summed in
// float64 and rounded once to float32, with alpha from the run's config and
// r read off the factors' shapes.
//
// Rotary embeddings need no permutation. The harness's Rotary kernel (and
// the float64 reference/) pairs dimension i of a head with i + hd/2 and
// rotates it by pos·base^(−2i/hd): out_i = x_i·cos − x_{i+hd/2}·sin,
// out_{i+hd/2} = x_i·sin + x_{i+hd/2}·cos. That is exactly transformers'
// rotate_half convention applied to the output of q_proj and k_proj, so the
// rows of q_proj and k_proj stay in the harness's order (the interleaved
// (2i, 2i+1) layout of Meta's original checkpoints, which
// convert_llama_weights_to_hf.py permutes, does not occur here). The torch
// test (torch_test.go) checks this against a PyTorch forward with
// rotate_half, and that the interleaved pairing would not match.
package export

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"github.com/relorago/harness/atomicfile"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// The files an export writes into its folder.
const (
	WeightsFile = "model.safetensors"
	ConfigFile  = "config.json"
	ReadmeFile  = "README.md"
)

// Tensor is one exported tensor: row-major float32 values of the given shape.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Summary describes an export.
type Summary struct {
	Run        string       // the run folder
	Checkpoint string       // the checkpoint file read
	Step       int          // its optimizer step
	Shape      model.Config // the model's shape
	Merged     int          // projections whose LoRA factors were merged into W
	Ranks      []int        // the distinct ranks of those factors, ascending
	Scale      float64      // alpha/r of the merge (the last projection's, if ranks differ)
	NonFinite  int          // NaN or ±Inf values among the exported weights
	Diverged   string       // the run's diverged_reason, if result.json says so
	Files      []string     // the files written, in order
}

// Run exports the weights of run folder runDir into outDir (created if
// needed): the final checkpoint (train.CheckpointFile) when step is 0, else
// the kept checkpoint of that step (train.KeptCheckpoint). The model's shape
// is result.json's "model" when the run has one (a control run trains a
// smaller model than its config's), else the config's (for a control run
// without a result, the shape train sizes it to).
func Run(runDir, outDir string, step int) (*Summary, error) {
	if step < 0 {
		return nil, fmt.Errorf("export: step %d is negative", step)
	}
	cfg, err := readConfig(runDir)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Run: runDir}
	shape := cfg.Model
	res, err := train.ReadResult(runDir)
	switch {
	case err == nil:
		if res.Model.Validate() == nil {
			shape = res.Model
		}
		if res.Status == train.StatusDiverged {
			sum.Diverged = res.DivergedReason
			if sum.Diverged == "" {
				sum.Diverged = "diverged"
			}
		}
	case errors.Is(err, os.ErrNotExist):
		if cfg.ReLoRA.Method == relora.MethodControl {
			if shape, err = controlShape(cfg); err != nil {
				return nil, fmt.Errorf("export %s: control shape: %w", runDir, err)
			}
		}
	default:
		return nil, fmt.Errorf("export %s: result.json: %w", runDir, err)
	}
	if err := shape.Validate(); err != nil {
		return nil, fmt.Errorf("export %s: %w", runDir, err)
	}

	name := train.CheckpointFile
	if step > 0 {
		name = train.KeptCheckpoint(step)
	}
	sum.Checkpoint = filepath.Join(runDir, name)
	ck, err := train.LoadCheckpoint(sum.Checkpoint)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("export %s: no checkpoint %s%s", runDir, name, keptHint(runDir))
		}
		return nil, fmt.Errorf("export: %w", err)
	}
	if step > 0 && ck.Step != step {
		return nil, fmt.Errorf("export: %s holds step %d, not %d", sum.Checkpoint, ck.Step, step)
	}
	sum.Step, sum.Shape = ck.Step, shape

	tensors, merge, err := Tensors(shape, ck.Params, cfg.ReLoRA.Alpha)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", sum.Checkpoint, err)
	}
	sum.Merged, sum.Ranks, sum.Scale = merge.Merged, merge.Ranks, merge.Scale
	for _, t := range tensors {
		for _, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				sum.NonFinite++
			}
		}
	}
	meta := map[string]string{
		"format":      "pt", // transformers refuses a safetensors file without it
		"source":      "relora-harness",
		"step":        strconv.Itoa(ck.Step),
		"lora_merged": strconv.Itoa(merge.Merged),
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	files, err := WriteDir(outDir, shape, tensors, meta)
	sum.Files = files
	return sum, err
}

// readConfig reads a run folder's config.json.
func readConfig(runDir string) (train.Config, error) {
	b, err := os.ReadFile(filepath.Join(runDir, train.ConfigFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return train.Config{}, fmt.Errorf("export: %s is not a run folder (no %s)", runDir, train.ConfigFile)
		}
		return train.Config{}, fmt.Errorf("export: %w", err)
	}
	var cfg train.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return train.Config{}, fmt.Errorf("export: %s: %w", filepath.Join(runDir, train.ConfigFile), err)
	}
	return cfg, nil
}

// controlShape is the control model's shape as train sizes it (train's
// unexported controlShape): total parameters ≈ the LoRA run's trainable
// ones. Only used when a control run has no result.json yet; the tensors'
// sizes are checked against it in any case.
func controlShape(cfg train.Config) (model.Config, error) {
	target := cfg.ReLoRA.ControlTarget
	if target == 0 {
		target = relora.TrainableParams(cfg.Model, cfg.ReLoRA.Rank)
	}
	return relora.ControlConfig(cfg.Model, target)
}

// keptHint lists the steps of the kept checkpoints of a run folder, for an
// error message.
func keptHint(runDir string) string {
	matches, _ := filepath.Glob(filepath.Join(runDir, "ckpt-*.safetensors"))
	var steps []int
	for _, m := range matches {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "ckpt-"), ".safetensors")
		if n, err := strconv.Atoi(s); err == nil && train.KeptCheckpoint(n) == filepath.Base(m) {
			steps = append(steps, n)
		}
	}
	if len(steps) == 0 {
		return ""
	}
	slices.Sort(steps)
	return fmt.Sprintf(" (kept checkpoints: --step %s; without --step, the final one)", strings.Trim(fmt.Sprint(steps), "[]"))
}

// MergeInfo describes the LoRA merges of an export.
type MergeInfo struct {
	Merged int     // projections with LoRA factors
	Ranks  []int   // their distinct ranks, ascending
	Scale  float64 // alpha/r (of the last merged projection)
}

// hfProj names a block projection in the Hugging Face LLaMA.
var hfProj = [model.NumProj]string{
	model.ProjQ: "self_attn.q_proj", model.ProjK: "self_attn.k_proj",
	model.ProjV: "self_attn.v_proj", model.ProjO: "self_attn.o_proj",
	model.ProjGate: "mlp.gate_proj", model.ProjUp: "mlp.up_proj", model.ProjDown: "mlp.down_proj",
}

// Tensors maps a checkpoint's parameters (by model.Param name) of a model of
// the given shape to the Hugging Face LLaMA tensors, in the order of
// model.Params, merging LoRA factors with scale alpha/r. Every parameter
// must be used and have the size the shape gives it.
func Tensors(shape model.Config, params map[string][]float32, alpha float64) ([]Tensor, MergeInfo, error) {
	if err := shape.Validate(); err != nil {
		return nil, MergeInfo{}, err
	}
	m := &tensorMapper{shape: shape, params: params, alpha: alpha, used: map[string]bool{}}
	if err := m.mapAll(); err != nil {
		return nil, m.info, err
	}
	return m.out, m.info, nil
}

// tensorMapper is one Tensors call: it appends the Hugging Face tensors in
// order and marks each checkpoint parameter it takes, so a parameter left
// over (a shape with too few layers) is an error, not silently dropped.
type tensorMapper struct {
	shape  model.Config
	params map[string][]float32
	alpha  float64
	used   map[string]bool
	out    []Tensor
	info   MergeInfo
}

func (m *tensorMapper) mapAll() error {
	d, vocab := m.shape.Dim, m.shape.Vocab
	if err := m.add("model.embed_tokens.weight", "embed", vocab, d); err != nil {
		return err
	}
	for l := 0; l < m.shape.Layers; l++ {
		if err := m.addBlock(l); err != nil {
			return err
		}
	}
	if err := m.add("model.norm.weight", "norm", d); err != nil {
		return err
	}
	if err := m.add("lm_head.weight", "head", vocab, d); err != nil {
		return err
	}
	return m.checkAllUsed()
}

// take returns the parameter name, which must have n values.
func (m *tensorMapper) take(name string, n int) ([]float32, error) {
	v, ok := m.params[name]
	if !ok {
		return nil, fmt.Errorf("no parameter %q", name)
	}
	if len(v) != n {
		return nil, fmt.Errorf("parameter %q has %d values, a model of dim %d, ffn %d, vocab %d wants %d",
			name, len(v), m.shape.Dim, m.shape.FFN, m.shape.Vocab, n)
	}
	m.used[name] = true
	return v, nil
}

// add appends parameter name as tensor hf of the given dims, copied so the
// export never aliases the checkpoint.
func (m *tensorMapper) add(hf, name string, dims ...int) error {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v, err := m.take(name, n)
	if err != nil {
		return err
	}
	m.out = append(m.out, Tensor{Name: hf, Shape: dims, Data: slices.Clone(v)})
	return nil
}

func (m *tensorMapper) addBlock(l int) error {
	pre, hf := fmt.Sprintf("layers.%d.", l), fmt.Sprintf("model.layers.%d.", l)
	d := m.shape.Dim
	if err := m.add(hf+"input_layernorm.weight", pre+"attn_norm", d); err != nil {
		return err
	}
	if err := m.add(hf+"post_attention_layernorm.weight", pre+"ffn_norm", d); err != nil {
		return err
	}
	for p := range model.NumProj {
		if err := m.addProjection(pre, hf, p); err != nil {
			return err
		}
	}
	return nil
}

// addProjection appends a block's projection p, its LoRA factors (if the
// checkpoint has them) merged in: the Hugging Face LLaMA has no place for
// them.
func (m *tensorMapper) addProjection(pre, hf string, p model.Proj) error {
	rows, cols := projectionShape(m.shape, p)
	name := pre + model.ProjNames[p]
	w, err := m.take(name+".weight", rows*cols)
	if err != nil {
		return err
	}
	w = slices.Clone(w)
	if err := m.mergeLoRA(name, w, rows, cols); err != nil {
		return err
	}
	m.out = append(m.out, Tensor{Name: hf + hfProj[p] + ".weight", Shape: []int{rows, cols}, Data: w})
	return nil
}

// projectionShape is projection p's weight as [rows, cols] (out × in).
func projectionShape(shape model.Config, p model.Proj) (rows, cols int) {
	d, f := shape.Dim, shape.FFN
	switch p {
	case model.ProjGate, model.ProjUp:
		return f, d
	case model.ProjDown:
		return d, f
	}
	return d, d
}

// mergeLoRA adds projection name's LoRA factors, if it has both, into its
// weight w (a copy) with scale alpha/r, and notes the merge in m.info.
func (m *tensorMapper) mergeLoRA(name string, w []float32, rows, cols int) error {
	a, hasA := m.params[name+".lora_a"]
	b, hasB := m.params[name+".lora_b"]
	switch {
	case hasA != hasB:
		return fmt.Errorf("%s has one LoRA factor without the other", name)
	case !hasA:
		return nil
	}
	r, err := loraRank(name, a, b, rows, cols)
	if err != nil {
		return err
	}
	if !(m.alpha > 0) || math.IsInf(m.alpha, 0) {
		return fmt.Errorf("%s has LoRA factors but the config's relora alpha is %g", name, m.alpha)
	}
	m.info.Scale = m.alpha / float64(r)
	Merge(w, a, b, rows, r, cols, m.info.Scale)
	m.used[name+".lora_a"], m.used[name+".lora_b"] = true, true
	m.info.Merged++
	if !slices.Contains(m.info.Ranks, r) {
		m.info.Ranks = append(m.info.Ranks, r)
		slices.Sort(m.info.Ranks)
	}
	return nil
}

// checkAllUsed refuses parameters no tensor took: the shape does not match
// the checkpoint.
func (m *tensorMapper) checkAllUsed() error {
	var extra []string
	for name := range m.params {
		if !m.used[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return fmt.Errorf("parameters %q do not belong to a model of %d layers (is the shape right?)", extra, m.shape.Layers)
	}
	return nil
}

// loraRank reads r off the factors A [r × in] and B [out × r].
func loraRank(name string, a, b []float32, rows, cols int) (int, error) {
	r := len(a) / cols
	if r < 1 || len(a) != r*cols || len(b) != rows*r {
		return 0, fmt.Errorf("%s: LoRA factors of %d and %d values do not fit a [%d × %d] weight", name, len(a), len(b), rows, cols)
	}
	return r, nil
}

// Merge sets w [out × in] to W + s·B·A for B [out × r], A [r × in]: each
// element's sum is taken in float64 and rounded to float32 once.
func Merge(w, a, b []float32, out, r, in int, s float64) {
	acc := make([]float64, in)
	for i := 0; i < out; i++ {
		clear(acc)
		for k := 0; k < r; k++ {
			bik := float64(b[i*r+k])
			if bik == 0 {
				continue
			}
			for j, v := range a[k*in : (k+1)*in] {
				acc[j] += bik * float64(v)
			}
		}
		row := w[i*in : (i+1)*in]
		for j := range row {
			row[j] = float32(float64(row[j]) + s*acc[j])
		}
	}
}

// HFConfig is the config.json of transformers' LlamaConfig.
type HFConfig struct {
	Architectures         []string  `json:"architectures"`
	ModelType             string    `json:"model_type"`
	VocabSize             int       `json:"vocab_size"`
	HiddenSize            int       `json:"hidden_size"`
	IntermediateSize      int       `json:"intermediate_size"`
	NumHiddenLayers       int       `json:"num_hidden_layers"`
	NumAttentionHeads     int       `json:"num_attention_heads"`
	NumKeyValueHeads      int       `json:"num_key_value_heads"`
	HeadDim               int       `json:"head_dim"`
	HiddenAct             string    `json:"hidden_act"`
	MaxPositionEmbeddings int       `json:"max_position_embeddings"`
	RMSNormEps            float64   `json:"rms_norm_eps"`
	RopeTheta             float64   `json:"rope_theta"`
	RopeScaling           *struct{} `json:"rope_scaling"`
	AttentionBias         bool      `json:"attention_bias"`
	AttentionDropout      float64   `json:"attention_dropout"`
	MLPBias               bool      `json:"mlp_bias"`
	TieWordEmbeddings     bool      `json:"tie_word_embeddings"`
	InitializerRange      float64   `json:"initializer_range"`
	PretrainingTP         int       `json:"pretraining_tp"`
	UseCache              bool      `json:"use_cache"`
	// No special tokens: LlamaConfig would otherwise default BOS/EOS to
	// ids 1 and 2, which are bytes here.
	BOSTokenID *int   `json:"bos_token_id"`
	EOSTokenID *int   `json:"eos_token_id"`
	PadTokenID *int   `json:"pad_token_id"`
	TorchDtype string `json:"torch_dtype"`
}

// NewHFConfig returns the LlamaConfig of a model shape.
func NewHFConfig(shape model.Config) HFConfig {
	return HFConfig{
		Architectures:         []string{"LlamaForCausalLM"},
		ModelType:             "llama",
		VocabSize:             shape.Vocab,
		HiddenSize:            shape.Dim,
		IntermediateSize:      shape.FFN,
		NumHiddenLayers:       shape.Layers,
		NumAttentionHeads:     shape.Heads,
		NumKeyValueHeads:      shape.Heads,
		HeadDim:               shape.Dim / shape.Heads,
		HiddenAct:             "silu",
		MaxPositionEmbeddings: shape.SeqLen,
		RMSNormEps:            shape.NormEps,
		RopeTheta:             shape.RopeBase,
		InitializerRange:      shape.InitStd,
		PretrainingTP:         1,
		UseCache:              true,
		TorchDtype:            "float32",
	}
}

// WriteDir writes model.safetensors (F32 tensors and the metadata),
// config.json and README.md into dir, each atomically, and returns their
// paths.
func WriteDir(dir string, shape model.Config, tensors []Tensor, meta map[string]string) ([]string, error) {
	var files []string
	path := filepath.Join(dir, WeightsFile)
	if err := writeSafetensors(path, tensors, meta); err != nil {
		return files, fmt.Errorf("export: write %s: %w", path, err)
	}
	files = append(files, path)
	b, err := json.MarshalIndent(NewHFConfig(shape), "", "  ")
	if err != nil {
		return files, err
	}
	path = filepath.Join(dir, ConfigFile)
	if err := atomicfile.Write(path, append(b, '\n')); err != nil {
		return files, fmt.Errorf("export: %w", err)
	}
	files = append(files, path)
	path = filepath.Join(dir, ReadmeFile)
	if err := atomicfile.Write(path, []byte(readme(shape, meta))); err != nil {
		return files, fmt.Errorf("export: %w", err)
	}
	return append(files, path), nil
}

// view is a float32 tensor as a safetensors.View; its bytes are made when
// the writer asks for them.
type view struct{ t Tensor }

func (v view) DType() safetensors.DType { return safetensors.F32 }

func (v view) Shape() []uint64 {
	s := make([]uint64, len(v.t.Shape))
	for i, d := range v.t.Shape {
		s[i] = uint64(d)
	}
	return s
}

func (v view) DataLen() uint64 { return 4 * uint64(len(v.t.Data)) }

// Data is little-endian IEEE 754, as the format requires.
func (v view) Data() []byte {
	b := make([]byte, 0, 4*len(v.t.Data))
	for _, x := range v.t.Data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// writeSafetensors streams the tensors to a temporary file beside path and
// renames it into place, so an interrupted export leaves no truncated file.
func writeSafetensors(path string, tensors []Tensor, meta map[string]string) error {
	views := make(map[string]view, len(tensors))
	for _, t := range tensors {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("tensor %s: %d values for shape %v", t.Name, len(t.Data), t.Shape)
		}
		if _, dup := views[t.Name]; dup {
			return fmt.Errorf("tensor %s twice", t.Name)
		}
		views[t.Name] = view{t}
	}
	return atomicfile.WriteStream(path, func(w io.Writer) error { return safetensors.SerializeToWriter(views, meta, w) })
}

// readme describes the export and its tokenizer.
func readme(shape model.Config, meta map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Byte-level LLaMA exported from the ReLoRA harness

A LLaMA-architecture decoder (%d layers, hidden size %d, %d heads of %d, SwiGLU
intermediate size %d, %s parameters) trained by the relorago harness%s.

| file | what |
|---|---|
| `+"`model.safetensors`"+` | F32 weights under transformers' LlamaForCausalLM names, [out, in] as torch.nn.Linear; LoRA factors merged (W + alpha/r·B·A) |
| `+"`config.json`"+` | the LlamaConfig: rms_norm_eps %g, rope_theta %g, max_position_embeddings %d (the training context), untied lm_head, no biases |
| `+"`README.md`"+` | this file |

## Tokenizer: bytes

There is no tokenizer file because there is no vocabulary to learn: the
model reads UTF-8 (or any) bytes, and token id = byte value, 0..255
(vocab_size %d). There are no special tokens: no BOS, no EOS, no padding
token (config.json sets bos_token_id, eos_token_id and pad_token_id to null),
so generation stops only at max_new_tokens.

`+"```python"+`
ids = list("some text".encode("utf-8"))          # encode
text = bytes(ids).decode("utf-8", errors="replace")  # decode
`+"```"+`

The model was trained on windows of %d bytes with positions 0..%d; longer
inputs run (rotary positions extrapolate) but were never trained on.

## Loading with transformers

`+"```python"+`
import torch
from transformers import LlamaForCausalLM

model = LlamaForCausalLM.from_pretrained("path/to/this/folder").eval()
ids = torch.tensor([list("func main() {".encode())])
with torch.no_grad():
    logits = model(ids).logits                     # [1, len, %d]
# stay within the trained context: max_position_embeddings is its length
out = model.generate(ids, max_new_tokens=model.config.max_position_embeddings - ids.shape[1], do_sample=False)
print(bytes(out[0].tolist()).decode("utf-8", errors="replace"))
`+"```"+`

(Written for transformers' LlamaForCausalLM; the harness checks the files
against its own PyTorch forward of the same arithmetic, not transformers
itself.) Rotary embeddings follow transformers' rotate_half convention (dimension i of
a head pairs with i + head_dim/2), the layout the harness trains with, so the
q_proj and k_proj rows need no permutation. Without transformers, the
safetensors file opens with `+"`safetensors.torch.load_file`"+` (or any
safetensors reader); its metadata has format "pt".
`, shape.Layers, shape.Dim, shape.Heads, shape.Dim/shape.Heads, shape.FFN, humanCount(shape.NumParams()),
		stepNote(meta), shape.NormEps, shape.RopeBase, shape.SeqLen, shape.Vocab, shape.SeqLen, shape.SeqLen-1, shape.Vocab)
	return b.String()
}

func stepNote(meta map[string]string) string {
	if s := meta["step"]; s != "" {
		return ", exported at optimizer step " + s
	}
	return ""
}

func humanCount(n int) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return strconv.Itoa(n)
}
