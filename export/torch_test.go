package export

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

const (
	python = "/usr/bin/python3"
	// tolTorch bounds |Go logit − PyTorch logit|. Both run in float32 with
	// different summation orders and rotary tables (float64 angles rounded
	// vs float32 angles); logits here are O(1).
	tolTorch = 1e-4
)

// pythonEnv is the environment without the OpenBLAS tuning variables
// (they can make Debian's OpenBLAS pick a kernel this CPU lacks).
func pythonEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") || strings.HasPrefix(kv, "OPENBLAS_L2_SIZE=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func needTorch(t *testing.T) {
	t.Helper()
	cmd := exec.Command(python, "-c", "import torch")
	cmd.Env = pythonEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		why := err.Error()
		if l := lastLine(out); len(l) > 0 {
			why = string(l)
		}
		t.Skipf("skipping the PyTorch check: %s -c 'import torch' failed (%s); on Debian: apt-get install python3-torch", python, why)
	}
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// TestTorchForwardMatches exports a full-rank model and a LoRA-wrapped one
// (non-zero B) from run folders and runs testdata/llama_forward.py, a
// PyTorch LLaMA forward with transformers' names, weight layout and
// rotate_half rotary, on the exported files: its logits must equal the Go
// model's within tolTorch. The same forward with the interleaved rotary
// pairing must not, so the check does see the rotary convention.
func TestTorchForwardMatches(t *testing.T) {
	needTorch(t)
	shape := nanoShape(t)
	const rank, alpha = 4, 8.0
	full := newModel(t, shape, 11)
	lora := loraModel(t, shape, 12, rank, alpha)

	tmp := t.TempDir()
	var dirs []string
	for _, c := range []struct {
		name   string
		m      *model.Model
		method string
	}{{"full", full, relora.MethodFull}, {"lora", lora, relora.MethodLoRA}} {
		run, out := filepath.Join(tmp, c.name+"-run"), filepath.Join(tmp, c.name+"-hf")
		writeRun(t, run, runConfig(t, shape, c.method, rank, alpha), c.m, 10, train.CheckpointFile)
		if _, err := Run(run, out, 0); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, out)
	}

	// Two sequences of random bytes, a full context each.
	rng := rand.New(rand.NewPCG(2024, 1))
	const seqs = 2
	ids := make([]int32, seqs*shape.SeqLen)
	tokens := make([][]int, seqs)
	for i := range ids {
		ids[i] = int32(rng.IntN(shape.Vocab))
		tokens[i/shape.SeqLen] = append(tokens[i/shape.SeqLen], int(ids[i]))
	}
	in, _ := json.Marshal(map[string]any{"tokens": tokens})

	cmd := exec.Command(python, append([]string{filepath.Join("testdata", "llama_forward.py"), "--rotary", "half,interleaved"}, dirs...)...)
	cmd.Env = pythonEnv()
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("llama_forward.py: %v\n%s", err, stderr.String())
	}
	var got struct {
		Logits map[string][][][][]float64 `json:"logits"` // rotary → model → seq → position → vocab
		Torch  string                     `json:"torch"`
	}
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("llama_forward.py output: %v", err)
	}

	for i, m := range []*model.Model{full, lora} {
		c := kernels.NewCtx(1)
		out, err := m.Forward(c, ids)
		if err != nil {
			t.Fatal(err)
		}
		goLogits := kernels.Data(out.Value())
		diff := func(rotary string) (maxDiff, maxAbs float64) {
			py := got.Logits[rotary]
			if len(py) != 2 || len(py[i]) != seqs {
				t.Fatalf("%s: got %d models", rotary, len(py))
			}
			for s := range seqs {
				for p := 0; p < shape.SeqLen; p++ {
					row := py[i][s][p]
					if len(row) != shape.Vocab {
						t.Fatalf("%d logits per position, want %d", len(row), shape.Vocab)
					}
					for v, x := range row {
						g := float64(goLogits[(s*shape.SeqLen+p)*shape.Vocab+v])
						maxDiff = math.Max(maxDiff, math.Abs(g-x))
						maxAbs = math.Max(maxAbs, math.Abs(x))
					}
				}
			}
			return maxDiff, maxAbs
		}
		name := []string{"full-rank", "LoRA (merged on export)"}[i]
		d, scale := diff("half")
		t.Logf("%s: max |Go − PyTorch %s| = %.3g over logits up to %.3g", name, got.Torch, d, scale)
		if d > tolTorch {
			t.Errorf("%s: PyTorch logits differ from Go's by %g > %g", name, d, tolTorch)
		}
		wrong, _ := diff("interleaved")
		t.Logf("%s: with the interleaved rotary pairing instead: max diff %.3g", name, wrong)
		if wrong < 100*tolTorch {
			t.Errorf("%s: the interleaved rotary pairing also matches (diff %g): the check cannot see the rotary convention", name, wrong)
		}
	}
}
