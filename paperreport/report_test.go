package paperreport

import (
	"fmt"

	"github.com/relorago/harness/claims"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

func fixture(t *testing.T) *Report {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "runs", "abc123")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runDir, "result.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := &train.Result{Status: train.StatusOK, FinalVal: train.Eval{Loss: 1.2345}, TrainSeconds: 7200, WallSeconds: 7300,
		GemmBackend: "go", Corpus: train.Corpus{GoVersion: "go1.26.8"}}
	outs := []runner.Outcome{{Dir: runDir, Result: res}, {Dir: runDir, Result: res}, {Dir: "runs/broken", Err: os.ErrNotExist}}
	runs := []experiments.Run{{Row: "ReLoRA", Seed: 1}, {Row: "ReLoRA", Seed: 1}, {Row: "LoRA", Size: "0.1M", Seed: 2}}
	sections := []Section{
		{Name: "Table 1", File: "ablation.md", Markdown: "### Table 1\n", Runs: runs, Outcomes: outs, Source: "Table 1"},
		{Name: "Table 4", File: "throughput.md", Markdown: "### Table 4\n", Note: "Measured elsewhere.", Source: "Table 4"},
	}
	p, _ := experiments.Get("quick")
	r := &Report{Preset: "quick", PresetAbout: "nano", Sections: sections, Claims: claims.Judge(&claims.Input{Preset: p})}
	r.Env = ReadEnvironment(sections)
	return r
}

func TestMarkdownCountsClaimsAndIndexesRuns(t *testing.T) {
	md := fixture(t).Markdown()
	for _, want := range []string{
		fmt.Sprintf("of %d, 0 reproduced, 0 not reproduced, %d inconclusive", len(claims.Family), len(claims.Family)), "❔ inconclusive",
		"| T1-ReLoRA-vs-LoRAWS ", "not measured: Table 1 not built", "Holm",
		"### Table 1", "### Table 4", "Measured elsewhere.", "[ablation.md](ablation.md)",
		"abc123", "1.2345", "failed: ", // the run index, with the failed run named
		"0.1M", "go1.26.8", "2.0 h training", // compute is counted once per distinct run
		"-print-commands",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestWriteIsReproducible(t *testing.T) {
	r := fixture(t)
	dir := t.TempDir()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	r.Env = ReadEnvironment(r.Sections)
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(dir, FileName))
	if string(first) != string(second) {
		t.Fatal("rendering the same report twice gave different files")
	}
}
