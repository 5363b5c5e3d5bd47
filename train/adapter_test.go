package train

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
)

// The adapter method trains the adapters and the head, nothing else: its
// trainable count is theirs, the frozen model has no optimizer state, and
// since U starts at zero its first step's loss is the probe's to the bit
// (the same head, batch and, through the adapters, the same hidden states).
func TestFinetuneAdapterTrainsAdaptersAndHead(t *testing.T) {
	pre, ckpt := pretrained(t)
	cfg := ftConfig(t, pre, ckpt, "books", FinetuneAdapter, 2)
	if cfg.ReLoRA != (relora.Config{Method: relora.MethodFull}) {
		t.Fatalf("the adapter method's relora block is %+v", cfg.ReLoRA)
	}
	dir := t.TempDir()
	res := runIn(t, cfg, dir)
	head := model.NewHead(cfg.Model.Dim, cfg.Finetune.Outputs, false, cfg.Model.InitStd, cfg.Seed^0x636c73)
	heads := 0
	for _, p := range head.Params() {
		heads += len(p.Raw())
	}
	if want := model.AdapterParams(cfg.Model, 4) + heads; res.TrainableParams != want {
		t.Errorf("%d trainable parameters, want %d (adapters and head)", res.TrainableParams, want)
	}
	if res.TotalParams != cfg.Model.NumParams()+model.AdapterParams(cfg.Model, 4)+heads {
		t.Errorf("%d parameters in all", res.TotalParams)
	}
	ck, err := LoadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	for name := range ck.Adam {
		if !strings.Contains(name, ".adapter.") && !strings.HasPrefix(name, "cls.") {
			t.Errorf("%s has optimizer state but is frozen", name)
		}
	}

	probeDir := t.TempDir()
	runIn(t, ftConfig(t, pre, ckpt, "books", FinetuneProbe, 2), probeDir)
	a, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadMetrics(filepath.Join(probeDir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Loss != p[0].Loss || a[1].Loss == p[1].Loss {
		t.Errorf("losses: adapter %g, %g; probe %g, %g: want the first equal (U = 0), the second not", a[0].Loss, a[1].Loss, p[0].Loss, p[1].Loss)
	}
}

// An adapter run killed after a checkpoint resumes exactly: the adapters,
// which the pre-trained checkpoint does not have, come back from the run's.
func TestFinetuneAdapterResume(t *testing.T) {
	pre, ckpt := pretrained(t)
	resumeMatches(t, ftConfig(t, pre, ckpt, "books", FinetuneAdapter, 10), 6)
}

// adapter_dim is the adapter method's and must be a bottleneck of at least
// one unit, at most the model's width; another method must leave it out.
// Each error names the field.
func TestFinetuneAdapterDimIsChecked(t *testing.T) {
	pre, ckpt := pretrained(t)
	for _, tc := range []struct {
		method string
		dim    int
	}{{FinetuneAdapter, 0}, {FinetuneAdapter, -4}, {FinetuneAdapter, pre.Model.Dim + 1}, {FinetuneLoRA, 4}, {FinetuneProbe, 4}} {
		cfg := ftConfig(t, pre, ckpt, "books", tc.method, 4)
		f := *cfg.Finetune
		f.AdapterDim = tc.dim
		cfg.Finetune = &f
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "adapter_dim") {
			t.Errorf("%s with adapter_dim %d: %v", tc.method, tc.dim, err)
		}
		cfg.OutDir = t.TempDir()
		if _, err := Run(cfg); err == nil {
			t.Errorf("%s with adapter_dim %d trained", tc.method, tc.dim)
		}
	}
}
