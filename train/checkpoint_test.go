package train

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"

	"github.com/relorago/harness/model"
)

// fullCheckpoint has every field set, with values that a careless format
// would lose: NaN and infinite weights, an infinite perplexity, negative
// zero, a config with quotes and newlines.
func fullCheckpoint() *Checkpoint {
	return &Checkpoint{
		Step: 40,
		Params: map[string][]float32{
			"embed":                    {1, -2, float32(math.Inf(1)), float32(math.NaN()), float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32},
			"layers.0.q.weight":        {0.5, 0.25, -0.125, 3},
			"layers.0.q.lora_a":        {1e-30, 1e30},
			"layers.0.attn_norm":       {1},
			"a parameter with no data": nil,
		},
		Adam: map[string]*AdamState{
			"embed":             {M: []float32{1, 2, 3, 4, 5, 6}, V: []float32{6, 5, 4, 3, 2, 1}, Step: 7},
			"layers.0.q.lora_a": {M: []float32{0, 0}, V: []float32{1, float32(math.NaN())}, Step: 0},
		},
		Extra:        map[string]float64{"merges": 2, "other": -0.5},
		Evals:        []Eval{{Step: 0, Loss: 5.5, Perplexity: 244.69, BitsPerByte: 7.93}, {Step: 40, Loss: 800, Perplexity: Number(math.Inf(1)), BitsPerByte: 1154.2}},
		Resets:       []Reset{{Step: 20, ZeroedM: 0.9, ZeroedV: 0.9}, {Step: 40, ZeroedM: 1, ZeroedV: 0}},
		Config:       []byte("{\"model\": {\"dim\": 32},\n \"data\": \"a \\\"quoted\\\" path\"}\n"),
		RecentLoss:   []float64{2.5, 2.25, 1e-300, 3},
		TrainSeconds: 12.375,
		WallSeconds:  1e5 / 3,
	}
}

// sameCheckpoint compares two checkpoints field by field, the float32
// tensors bit for bit (so NaN equals NaN).
func sameCheckpoint(t *testing.T, got, want *Checkpoint) {
	t.Helper()
	bits := func(v []float32) []uint32 {
		var b []uint32
		for _, x := range v {
			b = append(b, math.Float32bits(x))
		}
		return b
	}
	if len(got.Params) != len(want.Params) {
		t.Errorf("%d parameters, want %d", len(got.Params), len(want.Params))
	}
	for name, v := range want.Params {
		g, ok := got.Params[name]
		if !ok || !reflect.DeepEqual(bits(g), bits(v)) {
			t.Errorf("parameter %q: got %v (present %v), want %v", name, g, ok, v)
		}
	}
	if len(got.Adam) != len(want.Adam) {
		t.Errorf("%d AdamW states, want %d", len(got.Adam), len(want.Adam))
	}
	for name, s := range want.Adam {
		g := got.Adam[name]
		if g == nil || g.Step != s.Step || !reflect.DeepEqual(bits(g.M), bits(s.M)) || !reflect.DeepEqual(bits(g.V), bits(s.V)) {
			t.Errorf("AdamW state %q: got %+v, want %+v", name, g, s)
		}
	}
	g, w := *got, *want
	g.Params, g.Adam, w.Params, w.Adam = nil, nil, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("fields differ:\n got %+v\nwant %+v", g, w)
	}
}

func TestCheckpointRoundTripKeepsEveryField(t *testing.T) {
	want := fullCheckpoint()
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, got, want)

	// Equal checkpoints give identical files.
	again := filepath.Join(t.TempDir(), "again.safetensors")
	if err := got.Save(again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, path), readFile(t, again)) {
		t.Error("saving the loaded checkpoint gave different bytes")
	}

	// A checkpoint with nothing but a step.
	empty := &Checkpoint{Params: map[string][]float32{}, Adam: map[string]*AdamState{}}
	if err := empty.Save(path); err != nil {
		t.Fatal(err)
	}
	if got, err = LoadCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, got, empty)
}

func TestCheckpointRestoresAModel(t *testing.T) {
	mc, _ := model.Preset("nano")
	m, err := model.New(mc, 1)
	if err != nil {
		t.Fatal(err)
	}
	opt := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	for i, p := range m.Params() {
		opt.States[p.Name] = &AdamState{M: make([]float32, len(p.Raw())), V: make([]float32, len(p.Raw())), Step: i}
		opt.States[p.Name].M[0] = float32(i)
	}
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := Snapshot(3, m, opt, map[string]float64{"merges": 0}, []Eval{{Step: 0, Loss: 5}}).Save(path); err != nil {
		t.Fatal(err)
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := model.New(mc, 2)
	opt2 := NewAdamW(opt.Config)
	if err := ck.Restore(fresh, opt2); err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		if !equal(p.Raw(), fresh.Params()[i].Raw()) {
			t.Errorf("parameter %s differs after restore", p.Name)
		}
	}
	if !reflect.DeepEqual(opt.States, opt2.States) {
		t.Error("optimizer state differs after restore")
	}
}

// The file is plain safetensors: another reader (nlpodyssey/safetensors,
// which checks what the Rust and Python readers check) opens it, and a file
// that reader writes loads here.
func TestCheckpointIsSafetensors(t *testing.T) {
	ck := fullCheckpoint()
	b, err := ck.encode()
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(b); (8+n)%8 != 0 {
		t.Errorf("header length %d leaves the data unaligned", n)
	}
	st, err := safetensors.Deserialize(b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{}
	for name, v := range ck.Params {
		want[name] = v
	}
	for name, s := range ck.Adam {
		want["adam.m."+name], want["adam.v."+name] = s.M, s.V
	}
	if st.Len() != len(want) {
		t.Errorf("%d tensors, want %d", st.Len(), len(want))
	}
	views := map[string]f32Tensor{}
	for name, v := range want {
		tv, ok := st.Tensor(name)
		if !ok {
			t.Fatalf("no tensor %q in %v", name, st.Names())
		}
		if tv.DType() != safetensors.F32 || !reflect.DeepEqual(tv.Shape(), []uint64{uint64(len(v))}) {
			t.Errorf("tensor %q: %v %v", name, tv.DType(), tv.Shape())
		}
		if !bytes.Equal(tv.Data(), f32bytes(v)) {
			t.Errorf("tensor %q: bytes differ", name)
		}
		views[name] = f32Tensor(v)
	}
	_, header, err := safetensors.ReadMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	meta := header.Metadata()
	if meta["checkpoint_format"] != checkpointFormat || meta["step"] != "40" || meta["config"] != string(ck.Config) {
		t.Errorf("metadata %v", meta)
	}

	// The other way round: tensors laid out by the other writer.
	other, err := safetensors.Serialize(views, meta)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeCheckpoint(other)
	if err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, got, ck)
}

// f32Tensor is a flat float32 tensor as a safetensors.View.
type f32Tensor []float32

func (v f32Tensor) DType() safetensors.DType { return safetensors.F32 }
func (v f32Tensor) Shape() []uint64          { return []uint64{uint64(len(v))} }
func (v f32Tensor) DataLen() uint64          { return 4 * uint64(len(v)) }
func (v f32Tensor) Data() []byte             { return f32bytes(v) }

// craft lays out a safetensors file from a header's JSON and data bytes.
func craft(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

const okMeta = `"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5"}`

// oldGobCheckpoint is a checkpoint as the harness wrote it before
// safetensors: encoding/gob of the same struct.
func oldGobCheckpoint(t testing.TB) []byte {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(fullCheckpoint()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadCheckpointNamesTheFileAndTheFault(t *testing.T) {
	good, err := fullCheckpoint().encode()
	if err != nil {
		t.Fatal(err)
	}
	headerEnd := 8 + int(binary.LittleEndian.Uint64(good))
	four := make([]byte, 4)
	for _, tc := range []struct {
		name, want string
		file       []byte
	}{
		{"empty file", "not a safetensors checkpoint (written by an older version?): the file is only 0 bytes", nil},
		{"old gob checkpoint", "not a safetensors checkpoint (written by an older version?)", oldGobCheckpoint(t)},
		{"text file", "not a safetensors checkpoint", []byte("step: 5\nweights: none\n")},
		{"header length beyond the file", "header length 4611686018427387904 exceeds the file's 12 bytes", append(binary.LittleEndian.AppendUint64(nil, 1<<62), "abcd"...)},
		{"header length beyond the file, JSON", "truncated: the header alone is 4611686018427387904 bytes", append(binary.LittleEndian.AppendUint64(nil, 1<<62), "{}  "...)},
		{"truncated in the header", "truncated: the header alone is", good[:headerEnd-10]},
		{"truncated in the data", "(truncated file?)", good[:len(good)-6]},
		{"truncated at a tensor's end", "(truncated file?)", good[:len(good)-4]},
		{"trailing bytes", "truncated or padded file?", append(append([]byte(nil), good...), 0, 0, 0, 0)},
		{"header not JSON", "header: not a JSON object: invalid character", craft("{{", nil)},
		{"header with trailing data", "header: data after the JSON object", craft("{"+okMeta+"} x", nil)},
		{"no metadata", "without __metadata__", craft(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four)},
		{"another format", `format "relora-harness-checkpoint/9"`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/9","step":"5"}}`, nil)},
		{"negative step", "step -3 is negative", craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"-3"}}`, nil)},
		{"step not a number", `step "5.5" is not an integer`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5.5"}}`, nil)},
		{"huge shape", "needs more than the 4 bytes of data", craft(`{`+okMeta+`,"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}`, four)},
		{"shape and range disagree", "shape [2] is 8 bytes of F32, data_offsets [0, 4] hold 4", craft(`{`+okMeta+`,"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 8))},
		{"range beyond the data", "data_offsets [0, 8] are not a range inside the 4 bytes", craft(`{`+okMeta+`,"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, four)},
		{"not F32", `dtype "F16", checkpoints hold F32 only`, craft(`{`+okMeta+`,"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, four)},
		{"overlapping tensors", `tensors "a" and "b" overlap`, craft(`{`+okMeta+`,"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four)},
		{"gap between tensors", `4 bytes of data before tensor "b" belong to no tensor`, craft(`{`+okMeta+`,"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12))},
		{"duplicate tensor", `tensor "a" appears twice`, craft(`{`+okMeta+`,"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil)},
		{"unknown tensor field", `unknown field "offsets"`, craft(`{`+okMeta+`,"a":{"dtype":"F32","shape":[0],"offsets":[0,0]}}`, nil)},
		{"moment without its pair", `tensor adam.v.w is missing (adam.m.w is there)`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5","adam_steps":"{\"w\":1}"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"adam.m.w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8))},
		{"moments of the wrong length", `AdamW state of "w" has 1 first and 1 second moments for 2 values`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5","adam_steps":"{\"w\":1}"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"adam.m.w":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"adam.v.w":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}`, make([]byte, 16))},
		{"negative AdamW step", `AdamW step of "w" is -1, negative`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5","adam_steps":"{\"w\":-1}"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"adam.m.w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"adam.v.w":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12))},
		{"AdamW state of no parameter", `AdamW state for "w", which is not a parameter`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5","adam_steps":"{\"w\":1}"},"adam.m.w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"adam.v.w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil)},
		{"step counter of no state", `metadata adam_steps has a step counter for "w"`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5","adam_steps":"{\"w\":1}"}}`, nil)},
		{"bad evals", `metadata evals: json: unknown field "los"`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5","evals":"[{\"los\":1}]"}}`, nil)},
		{"eval after the step", `an evaluation at step 6, outside [0, step 5]`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5","evals":"[{\"step\":6}]"}}`, nil)},
		{"negative time", `train_seconds -1 and wall_seconds 0 must be finite and ≥ 0`, craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"5","train_seconds":"-1"}}`, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ckpt-5.safetensors")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadCheckpoint(path)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.HasPrefix(err.Error(), "checkpoint "+path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want \"checkpoint %s: ...%s...\"", err, path, tc.want)
			}
		})
	}
}

func TestLoadCheckpointMissingFileIsNotExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoint.safetensors")
	_, err := LoadCheckpoint(path)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want a not-exist error naming %s", err, path)
	}
	if _, err := LoadCheckpoint(filepath.Dir(path)); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a folder: got %v", err)
	}
}

// Save writes nothing that LoadCheckpoint would refuse.
func TestSaveRefusesABadCheckpoint(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(*Checkpoint)
	}{
		{"negative step", "step -1 is negative", func(ck *Checkpoint) { ck.Step = -1 }},
		{"negative AdamW step", `AdamW step of "embed" is -2`, func(ck *Checkpoint) { ck.Adam["embed"].Step = -2 }},
		{"short moment", `AdamW state of "embed" has 5 first`, func(ck *Checkpoint) { ck.Adam["embed"].M = ck.Adam["embed"].M[:5] }},
		{"reserved name", `parameter name "adam.m.x" is reserved`, func(ck *Checkpoint) { ck.Params["adam.m.x"] = nil }},
		{"NaN counter", `counter "merges" is NaN`, func(ck *Checkpoint) { ck.Extra["merges"] = math.NaN() }},
		{"config not text", "config is not UTF-8", func(ck *Checkpoint) { ck.Config = []byte{0xff} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck := fullCheckpoint()
			tc.edit(ck)
			path := filepath.Join(t.TempDir(), "ck.safetensors")
			err := ck.Save(path)
			if err == nil || !strings.HasPrefix(err.Error(), "checkpoint "+path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s and %q", err, path, tc.want)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Error("a file was written")
			}
		})
	}
}

// tinyCheckpoint is a full checkpoint of the tiny preset: every parameter
// with AdamW state, as a full-rank run's resume point holds.
func tinyCheckpoint(tb testing.TB) *Checkpoint {
	tb.Helper()
	mc, err := model.Preset("tiny")
	if err != nil {
		tb.Fatal(err)
	}
	m, err := model.New(mc, 1)
	if err != nil {
		tb.Fatal(err)
	}
	opt := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range m.Params() {
		st := &AdamState{M: make([]float32, len(p.Raw())), V: make([]float32, len(p.Raw())), Step: 100}
		for i := range st.M {
			st.M[i], st.V[i] = float32(rng.NormFloat64()), float32(rng.Float64())
		}
		opt.States[p.Name] = st
	}
	return Snapshot(100, m, opt, map[string]float64{"merges": 1}, []Eval{{Step: 0, Loss: 5.5, Perplexity: 245, BitsPerByte: 7.9}, {Step: 100, Loss: 2.5, Perplexity: 12.2, BitsPerByte: 3.6}})
}

func BenchmarkCheckpointSave(b *testing.B) {
	ck := tinyCheckpoint(b)
	path := filepath.Join(b.TempDir(), "ck")
	for b.Loop() {
		if err := ck.Save(path); err != nil {
			b.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Size()), "file-bytes")
}

func BenchmarkCheckpointLoad(b *testing.B) {
	ck := tinyCheckpoint(b)
	path := filepath.Join(b.TempDir(), "ck")
	if err := ck.Save(path); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := LoadCheckpoint(path); err != nil {
			b.Fatal(err)
		}
	}
}
