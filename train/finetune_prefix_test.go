package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

// A prefix-tuning run trains the prefixes and the head (their count is the
// run's trainable parameters), checkpoints the prefixes and their AdamW
// moments, and a run killed after its first checkpoint and started again
// logs, ends and saves exactly as an uninterrupted one.
func TestFinetunePrefixResume(t *testing.T) {
	pre, ckpt := pretrained(t)
	cfg := ftConfig(t, pre, ckpt, "books", FinetunePrefix, 10)
	whole := t.TempDir()
	first := runIn(t, cfg, whole)
	if first.Status != StatusOK {
		t.Fatalf("status %s", first.Status)
	}
	m := cfg.Model
	head := m.Dim*cfg.Finetune.Outputs + cfg.Finetune.Outputs
	if want := m.Layers*2*cfg.Finetune.PrefixLen*m.Dim + head; first.TrainableParams != want {
		t.Errorf("%d trainable parameters, want %d (the prefixes and the head)", first.TrainableParams, want)
	}

	split := t.TempDir()
	cut := cfg
	cut.stopAfter = 6 // the checkpoint holds step 4
	runIn(t, cut, split)
	mid, err := LoadCheckpoint(filepath.Join(split, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	for l := range m.Layers {
		for _, part := range []string{"key", "value"} {
			name := fmt.Sprintf("layers.%d.prefix.%s", l, part)
			if len(mid.Params[name]) != cfg.Finetune.PrefixLen*m.Dim || mid.Adam[name] == nil || mid.Adam[name].Step != 4 {
				t.Fatalf("step-%d checkpoint: %s has %d values, AdamW state %+v", mid.Step, name, len(mid.Params[name]), mid.Adam[name])
			}
		}
	}
	again := cfg
	again.WarmStartFrom = "" // a resume needs only the folder's own checkpoint
	second := runIn(t, again, split)
	if a, b := readFile(t, filepath.Join(whole, MetricsFile)), readFile(t, filepath.Join(split, MetricsFile)); !bytes.Equal(a, b) {
		t.Fatalf("resumed metrics differ:\n%s\n---\n%s", a, b)
	}
	sameResult(t, "resumed", second, first)
	a, errA := LoadCheckpoint(filepath.Join(whole, CheckpointFile))
	b, errB := LoadCheckpoint(filepath.Join(split, CheckpointFile))
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	for name, v := range a.Params {
		if !slices.Equal(v, b.Params[name]) {
			t.Fatalf("resumed run's final %s differs", name)
		}
	}
}

// The prefix's initial keys and values are the pre-trained model's own at a
// training example drawn by the seed: the same seed, the same prefix;
// other seeds draw other examples.
func TestFinetunePrefixInitFollowsTheSeed(t *testing.T) {
	pre, ckpt := pretrained(t)
	init := func(seed uint64) []float32 {
		cfg := ftConfig(t, pre, ckpt, "books", FinetunePrefix, 1)
		cfg.Seed = seed
		r := &run{cfg: cfg, c: kernels.NewCtx(1)}
		if err := r.setFinetuning(); err != nil {
			t.Fatal(err)
		}
		var all []float32
		for _, p := range r.m.Params() {
			if strings.Contains(p.Name, ".prefix.") {
				all = append(all, p.Raw()...)
			}
		}
		if len(all) == 0 || slices.ContainsFunc(all, func(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }) {
			t.Fatalf("seed %d: prefix %v", seed, all)
		}
		return all
	}
	if a, b := init(1), init(1); !slices.Equal(a, b) {
		t.Fatal("the same seed gave two prefixes")
	}
	// Two examples may share their first prefix_len bytes (many of the
	// books task's sentences start "The "), so some seeds may share a prefix.
	first, differs := init(1), false
	for seed := uint64(2); seed <= 5 && !differs; seed++ {
		differs = !slices.Equal(init(seed), first)
	}
	if !differs {
		t.Fatal("seeds 1 to 5 all gave the same prefix")
	}
}

// prefix_len is method prefix's, in [1, seq_len], and absent from every
// other method's config, whose JSON (and so run hash) does not mention it.
func TestFinetunePrefixLenIsChecked(t *testing.T) {
	pre, ckpt := pretrained(t)
	for _, tc := range []struct {
		method string
		len    int
		ok     bool
	}{{FinetunePrefix, 0, false}, {FinetunePrefix, -1, false}, {FinetunePrefix, 1, true}, {FinetunePrefix, pre.Model.SeqLen, true},
		{FinetunePrefix, pre.Model.SeqLen + 1, false}, {FinetuneLoRA, 4, false}, {FinetuneProbe, 1, false}} {
		cfg := ftConfig(t, pre, ckpt, "books", tc.method, 4)
		f := *cfg.Finetune
		f.PrefixLen = tc.len
		cfg.Finetune = &f
		err := cfg.Validate()
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "prefix_len")) {
			t.Errorf("method %s, prefix_len %d: %v", tc.method, tc.len, err)
		}
	}
	for _, method := range FinetuneMethods {
		b, err := json.Marshal(ftConfig(t, pre, ckpt, "books", method, 4))
		if err != nil {
			t.Fatal(err)
		}
		if has := bytes.Contains(b, []byte(`"prefix_len"`)); has != (method == FinetunePrefix) {
			t.Errorf("%s: config JSON mentions prefix_len: %v", method, has)
		}
	}
}

// At Table 5's shape (small64: d 64, 4 layers) a prefix of 4 slots is
// 2,048 parameters, LoRA rank 1's on the four attention projections
// (4 layers × 4 × (64 + 64)).
func TestFinetunePrefixBudgetAtTable5Shape(t *testing.T) {
	cfg, err := model.Preset("small64")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		p.SetRequiresGrad(false)
	}
	if err := m.AddPrefixes(4, make([]int32, cfg.SeqLen)); err != nil {
		t.Fatal(err)
	}
	if _, trainable := m.Count(); trainable != 2048 || trainable != cfg.Layers*4*(cfg.Dim+cfg.Dim) {
		t.Fatalf("%d trainable parameters, want 2048", trainable)
	}
}
