package train

import (
	"github.com/relorago/harness/model"

	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/relora"
)

// FuzzReadResult: any result.json gives an error or a Result, never a
// panic, within allocBudget; a Result read writes as JSON that reads back
// to the same Result.
func FuzzReadResult(f *testing.F) {
	res := Result{
		Status: StatusDiverged, DivergedReason: "training loss NaN at step 3", Steps: 3,
		InitialVal:     Eval{Step: 0, Loss: 5.5, Perplexity: 244.7, BitsPerByte: 7.9},
		FinalVal:       Eval{Step: 3, Loss: 900, Perplexity: Number(math.Inf(1)), BitsPerByte: 1300},
		Evals:          []Eval{{Step: 0, Loss: 5.5}, {Step: 3, Loss: 900, Perplexity: Number(math.Inf(1))}},
		FinalTrainLoss: Number(math.NaN()), TotalParams: 10, Merges: 1,
		Resets: []Reset{{Step: 2, ZeroedM: 0.9, ZeroedV: 0.9}},
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	for _, s := range []string{"", "{}", "null", "[]", `{"evals":[{},{},{}]}`, `{"final_train_loss":"-Inf"}`, `{"final_train_loss":"nan"}`,
		`{"final_train_loss":"1e400"}`, `{"steps":1e30}`, `{"evals":null,"resets":[{"step":-1}]}`, `{"status":"ok"} trailing`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ResultFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		var r *Result
		if n := allocated(func() { r, err = ReadResult(dir) }); n > allocBudget(len(b)) {
			t.Fatalf("reading %d bytes allocated %d (error %v)", len(b), n, err)
		}
		if err != nil {
			return
		}
		sameJSONTwice(t, r, new(Result))
	})
}

// FuzzReadMetrics: the same for metrics.jsonl.
func FuzzReadMetrics(f *testing.F) {
	v := 2.5
	var buf bytes.Buffer
	for i, m := range []StepMetrics{{Step: 1, Loss: 5, LR: 1e-4, GradNorm: 3}, {Step: 2, Loss: 4, LR: 2e-4, GradNorm: 2, ValLoss: &v, Event: "merge+reset"}} {
		b, err := json.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		buf.Write(b)
		if i == 0 {
			buf.WriteByte('\n')
		}
	}
	f.Add(buf.Bytes())
	f.Add(append(buf.Bytes(), '\n'))
	f.Add(buf.Bytes()[:buf.Len()-7]) // a torn last line
	for _, s := range []string{"", "\n", "\n\n{}\n", "null\n", `{"step":-1}`, `{"val_loss":null}`, `{"loss":"NaN"}`, "{}\r\n{}", strings.Repeat("{}\n", 100)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), MetricsFile)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var ms []StepMetrics
		var err error
		if n := allocated(func() { ms, err = ReadMetrics(path) }); n > allocBudget(len(b)) {
			t.Fatalf("reading %d bytes allocated %d (error %v)", len(b), n, err)
		}
		if err != nil {
			return
		}
		if len(ms) > bytes.Count(b, []byte("\n"))+1 {
			t.Fatalf("%d lines gave %d steps", bytes.Count(b, []byte("\n"))+1, len(ms))
		}
		for _, m := range ms {
			sameJSONTwice(t, &m, new(StepMetrics))
		}
	})
}

// sameJSONTwice checks that v writes as JSON, that the JSON reads into
// fresh, and that fresh writes the same JSON.
func sameJSONTwice[T any](t *testing.T, v, fresh *T) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("what was read does not write: %v", err)
	}
	if err := json.Unmarshal(b, fresh); err != nil {
		t.Fatalf("what was written does not read: %v\n%s", err, b)
	}
	b2, err := json.Marshal(fresh)
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("read, written and read again it changed (%v):\n%s\n%s", err, b, b2)
	}
}

// configSeeds are config files: every preset's default with each method
// and, unless onlyGood, some that Validate must refuse or should.
func configSeeds(f *testing.F, onlyGood bool) [][]byte {
	var out [][]byte
	for _, preset := range []string{"tiny", "small64", "nano"} {
		cfg, err := Default(preset)
		if err != nil {
			f.Fatal(err)
		}
		for _, mode := range []func(*relora.Config){
			func(r *relora.Config) {},
			func(r *relora.Config) { r.Method = relora.MethodFull },
			func(r *relora.Config) { r.Method, r.ControlTarget = relora.MethodControl, 20000 },
			func(r *relora.Config) {
				r.Method, r.Restarts, r.OptimizerReset, r.WarmStartSteps = relora.MethodLoRA, true, true, 500
			},
		} {
			c := cfg
			mode(&c.ReLoRA)
			b, err := json.Marshal(c)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if onlyGood {
		return out
	}
	for _, s := range []string{"", "{}", " {} ", "null", "[]", `{"steps":10}`, `{"x":1}`, `{} {}`, `{"steps":1e30}`,
		`{"model":{"dim":1000000000}}`, `{"model":{"dim":1000000000,"heads":1}}`, `{"relora":{"rank":100000}}`,
		`{"relora":{"method":"lora","rank":100000}}`, `{"batch":-1}`, `{"lr":"NaN"}`, `{"save_at":[0]}`} {
		out = append(out, []byte(s))
	}
	return out
}

// FuzzDecodeConfig: any bytes give an error or a config that Validate
// accepts, never a panic; an accepted config writes as JSON that decodes to
// the same config.
func FuzzDecodeConfig(f *testing.F) {
	for _, b := range configSeeds(f, false) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var cfg Config
		var err error
		if n := allocated(func() { cfg, err = DecodeConfig(b) }); n > allocBudget(len(b)) {
			t.Fatalf("decoding %d bytes allocated %d (error %v)", len(b), n, err)
		}
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("DecodeConfig returned a config that Validate refuses: %v", err)
		}
		again, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg2, err := DecodeConfig(again)
		if err != nil {
			t.Fatalf("a decoded config, written again, does not decode: %v\n%s", err, again)
		}
		if third, _ := json.Marshal(cfg2); !bytes.Equal(third, again) {
			t.Fatalf("decoded twice the config changed:\n%s\n%s", again, third)
		}
	})
}

// modelBudget is what a config file that Validate accepts may at most make
// model.New (and relora.Wrap) allocate: model.MaxParams float32 weights,
// plus LoRA factors, which a rank below d/2 keeps under the weights' size.
// A config asks for a model; it may ask for a large one, never for an
// absurd or overflowing one.
const modelBudget = 2 * 4 * model.MaxParams

// modelBytes is what model.New allocates for cfg's weights (4 bytes per
// parameter) plus the LoRA factors relora.Wrap adds, in float64 so that
// absurd shapes do not overflow.
func modelBytes(cfg Config) float64 {
	m := cfg.Model
	d, f, v, l := float64(m.Dim), float64(m.FFN), float64(m.Vocab), float64(m.Layers)
	params := 2*v*d + l*(4*d*d+3*d*f+2*d) + d
	if cfg.ReLoRA.LowRank() {
		params += l * float64(cfg.ReLoRA.Rank) * (4*(d+d) + 2*(d+f) + (f + d))
	}
	return 4 * params
}

// FuzzDecodeConfigSize: a config file under 1 KB that DecodeConfig accepts
// must not make model.New allocate more than modelBudget (a 28-byte
// `{"model":{"dim":1000000000}}` once passed Validate and asked for 6.4e19
// bytes). Its seeds are real configs, which pass.
func FuzzDecodeConfigSize(f *testing.F) {
	for _, b := range configSeeds(f, true) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 1024 {
			return
		}
		cfg, err := DecodeConfig(b)
		if err != nil {
			return
		}
		if n := modelBytes(cfg); n > modelBudget {
			m := cfg.Model
			t.Fatalf("a %d-byte config passes Validate, and model.New would allocate %.3g bytes: %s", len(b), n,
				fmt.Sprintf("vocab %d, dim %d, layers %d, ffn %d, method %s, rank %d", m.Vocab, m.Dim, m.Layers, m.FFN, cfg.ReLoRA.Method, cfg.ReLoRA.Rank))
		}
	})
}

func TestDecodeConfig(t *testing.T) {
	tiny, _ := Default("tiny")
	nano, _ := Default("nano")
	nano.Steps, nano.SaveAt = 300, []int{100}
	b, _ := json.Marshal(nano)
	got, err := DecodeConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := json.Marshal(got); !bytes.Equal(a, b) {
		t.Errorf("round trip:\n%s\n%s", b, a)
	}
	if got, err = DecodeConfig([]byte(`{"steps": 500}`)); err != nil || got.Steps != 500 || got.Model != tiny.Model || got.Threads != 1 {
		t.Errorf("fields left out should keep tiny's defaults: %+v, %v", got, err)
	}
	for in, want := range map[string]string{
		``:                          "not a JSON object",
		`null`:                      "not a JSON object",
		`{"stepz": 5}`:              `unknown field "stepz"`,
		`{"steps": 5} {"steps": 6}`: "data after the JSON object",
		`{"steps": 5`:               "unexpected EOF",
		`{"steps": -5}`:             "steps must be ≥ 1",
		`{"model": {"heads": 3}}`:   "not divisible by heads",
		`{"steps": "5"}`:            "cannot unmarshal string",
		`{"relora": {"method": "lora", "rank": 1000}}`: "rank 1000",
	} {
		if _, err := DecodeConfig([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error containing %q", in, err, want)
		}
	}
}
