package train

import (
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relorago/harness/relora"
)

// folderState is every file a folder holds, name → bytes.
func folderState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out[e.Name()] = string(readFile(t, filepath.Join(dir, e.Name())))
	}
	return out
}

// warmStartCheckpoint trains a full-rank nano run that keeps its
// checkpoint at step 10 and returns the checkpoint's path.
func warmStartCheckpoint(t *testing.T, edit func(*Config)) string {
	t.Helper()
	cfg := nanoConfig(t, 20)
	cfg.SaveAt = []int{10}
	edit(&cfg)
	dir := t.TempDir()
	runIn(t, cfg, dir)
	return filepath.Join(dir, KeptCheckpoint(10))
}

// A start refused for a bad value or a warm start that cannot start the run
// leaves the folder as it was: no .lock, no config.json, nothing changed.
func TestRefusedStartLeavesTheFolderAsItWas(t *testing.T) {
	sameShape := warmStartCheckpoint(t, func(*Config) {})
	otherShape := warmStartCheckpoint(t, func(c *Config) { c.Model.FFN += 8 })
	otherData := warmStartCheckpoint(t, func(c *Config) { c.ValFrac = 0.1 })
	for _, c := range []struct {
		name, want string
		edit       func(*Config)
	}{
		{"init std NaN", "init_std (NaN)", func(c *Config) { c.Model.InitStd = math.NaN() }},
		{"warm start from a missing file", "warm_start_from", func(c *Config) { c.WarmStartFrom = filepath.Join(t.TempDir(), "none.safetensors") }},
		{"warm start at another step", "is at step 10, the run switches at step 5", func(c *Config) {
			c.WarmStartFrom, c.ReLoRA.WarmStartSteps, c.ReLoRA.ResetEvery = sameShape, 5, 5
		}},
		{"warm start of another shape", "model.ffn: 96 → 88", func(c *Config) { c.WarmStartFrom = otherShape }},
		{"warm start of other data", "val_frac: 0.1 → 0.05", func(c *Config) { c.WarmStartFrom = otherData }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := reloraConfig(t, 20)
			c.edit(&cfg)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
				t.Fatal(err)
			}
			before := folderState(t, dir)
			_, err := Run(withOut(cfg, dir))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if after := folderState(t, dir); len(after) != len(before) || after["notes.txt"] != "mine" {
				t.Errorf("the refused start changed the folder: %v", slices.Sorted(maps.Keys(after)))
			}
		})
	}
}

// A warm start of the same shape and data but another seed or learning
// rate is allowed, and the differences are told.
func TestWarmStartDifferencesAreTold(t *testing.T) {
	ck := warmStartCheckpoint(t, func(c *Config) { c.Seed, c.LR = 7, 2e-3 })
	cfg := reloraConfig(t, 20)
	cfg.WarmStartFrom = ck
	notes, err := WarmStartNotes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(notes, "; ")
	for _, want := range []string{"seed: 7 → 1", "lr: 0.002 → 0.003"} {
		if !strings.Contains(got, want) {
			t.Errorf("notes %q do not say %q", got, want)
		}
	}
	if strings.Contains(got, "relora.") || strings.Contains(got, "save_at") {
		t.Errorf("notes %q list the method or the kept steps, which a warm start changes by design", got)
	}
	if cfg.ReLoRA.Method != relora.MethodLoRA {
		t.Fatal("test config is not a LoRA run")
	}
	// The run's result keeps them: config.json cannot (its hash).
	res := runIn(t, cfg, t.TempDir())
	if d := strings.Join(res.WarmStartDifferences, "; "); !strings.Contains(d, "seed: 7 → 1") {
		t.Errorf("result.json's warm_start_differences %q lack the seed", d)
	}
}

// Temporary files a killed run left are swept when the folder is next
// opened; the run's own files are kept.
func TestDebrisIsSweptAtTheNextStart(t *testing.T) {
	cfg := nanoConfig(t, 10)
	dir := t.TempDir()
	runIn(t, cfg, dir)
	debris := []string{".checkpoint.safetensors.tmp123", ".result.json.tmp9", ".metrics.jsonl.tmp4"}
	for _, name := range debris {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runIn(t, cfg, dir)
	for _, name := range debris {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s was not swept", name)
		}
	}
	for _, name := range []string{ConfigFile, ResultFile, MetricsFile, CheckpointFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("sweeping removed the run's %s", name)
		}
	}
}
