package main

// The fault suite: each case of a careless or unlucky user, replayed
// against the commands, asserting the error text and that nothing that was
// there before (the committed records above all) changed. Lower-level cases
// live beside their code: runner/records_faults_test.go (edited, partial or
// concurrently written records), train/faults_test.go (refused starts,
// warm-start provenance, debris), train/checkpoint_checksum_test.go,
// data/gunzip_test.go, runner/slurm_test.go, cmd/relora/flags_test.go.

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// committedRecords copies the committed run records into a temporary
// results folder, so a test can damage them without touching the real ones.
func committedRecords(t *testing.T) (results string) {
	t.Helper()
	results = t.TempDir()
	src := filepath.Join("..", "..", "results", "runs")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			copyDir(t, filepath.Join(src, e.Name()), filepath.Join(results, "runs", e.Name()))
		}
	}
	return results
}

// A damaged record of Table 1 stops `relora ablation` with an error naming
// the file and what differs: nothing is rendered from it, nothing trained
// in its place, the damaged record is left for the user to see.
func TestDamagedRecordStopsTheTable(t *testing.T) {
	p, err := experiments.Get("default")
	if err != nil {
		t.Fatal(err)
	}
	cfg := experiments.Ablation(p)[0].Config
	hash := runner.Hash(cfg)
	if err := runner.VerifyRecord(filepath.Join("..", "..", "results", "runs", hash)); err != nil {
		t.Fatalf("the committed record does not verify: %v", err)
	}
	for _, c := range []struct {
		name, file, content string
		edit                func([]byte) []byte
		want                []string
	}{
		{name: "val loss edited", file: train.ResultFile, edit: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"loss": 1.`), []byte(`"loss": 0.`), 1)
		}, want: []string{hash + "/result.json: sha256", "changed after the run recorded it"}},
		{name: "a metrics line edited", file: train.MetricsFile, edit: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`{"step":7,"loss":`), []byte(`{"step":7,"loss":1`), 1)
		}, want: []string{hash + "/metrics.jsonl: sha256"}},
		{name: "result is {}", file: train.ResultFile, content: "{}", want: []string{hash + "/result.json"}},
		{name: "result is status ok alone", file: train.ResultFile, content: `{"status":"ok"}`, want: []string{hash + "/result.json"}},
		{name: "result unreadable", file: train.ResultFile, content: `{"status": "ok", "steps": `, want: []string{hash + "/result.json"}},
		{name: "config edited", file: train.ConfigFile, edit: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"seed": 1`), []byte(`"seed": 9`), 1)
		}, want: []string{hash + "/config.json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			results := committedRecords(t)
			path := filepath.Join(results, "runs", hash, c.file)
			b := []byte(c.content)
			if c.edit != nil {
				old := readFile(t, path)
				if b = c.edit(old); bytes.Equal(b, old) {
					t.Fatal("the edit did not apply")
				}
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			runs := filepath.Join(t.TempDir(), "runs")
			err := command("ablation")([]string{"-runs", runs, "-results", results, "-j", "1"})
			if err == nil {
				t.Fatal("the table rendered from a damaged record")
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if _, err := os.Stat(filepath.Join(results, "ablation.md")); !errors.Is(err, os.ErrNotExist) {
				t.Error("the table was written")
			}
			if _, err := os.Stat(runs); !errors.Is(err, os.ErrNotExist) {
				t.Error("the damaged record made the command train")
			}
			if got := readFile(t, path); !bytes.Equal(got, b) {
				t.Error("the damaged record was changed behind the user's back")
			}
		})
	}
}

// A start refused for a bad flag or a failing warm start leaves no folder.
func TestRefusedTrainLeavesNothing(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"-init-std NaN", "-init-std NaN: not a finite number"},
		{"-threads 0", "-threads 0: out of range"},
		{"-mode relora -warm-start-from /no/such/ckpt.safetensors", "warm_start_from"},
	} {
		out := filepath.Join(t.TempDir(), "run")
		err := trainCmd(append(strings.Fields("-preset quick -model nano -quiet "+c.args), "-out", out))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.args, err, c.want)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the refused start created %s", c.args, out)
		}
	}
}

// finishedRun trains a short nano run and returns its folder.
func finishedRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	args := strings.Fields("-preset quick -model nano -steps 12 -warmup 2 -batch 2 -eval-every 6 -val-windows 8 -quiet")
	if err := trainCmd(append(args, "-out", dir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// export refuses what would mislead (an unfinished or diverged run, an
// existing -out) unless -force, and writes its folder whole or not at all.
func TestExportTellsTheTruth(t *testing.T) {
	run := finishedRun(t)
	unfinished := filepath.Join(t.TempDir(), "unfinished")
	copyDir(t, run, unfinished)
	os.Remove(filepath.Join(unfinished, train.ResultFile))
	diverged := filepath.Join(t.TempDir(), "diverged")
	copyDir(t, run, diverged)
	var res map[string]any
	if err := json.Unmarshal(readFile(t, filepath.Join(run, train.ResultFile)), &res); err != nil {
		t.Fatal(err)
	}
	res["status"], res["diverged_reason"] = train.StatusDiverged, "loss NaN at step 9"
	b, _ := json.Marshal(res)
	if err := os.WriteFile(filepath.Join(diverged, train.ResultFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	existing := t.TempDir()
	if err := os.WriteFile(filepath.Join(existing, "mine.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, run, out string
		extra          []string
		want           string
	}{
		{"unfinished run", unfinished, "", nil, "is not finished (no result.json)"},
		{"diverged run", diverged, "", nil, "diverged (loss NaN at step 9)"},
		{"existing -out", run, existing, nil, "exists; -force replaces it"},
		{"no such kept checkpoint", run, "", []string{"-step", "7"}, "no checkpoint ckpt-7.safetensors"},
	} {
		out := c.out
		if out == "" {
			out = filepath.Join(t.TempDir(), "hf")
		}
		before, _ := os.ReadDir(filepath.Dir(out))
		err := exportCmd(append([]string{c.run, "-out", out}, c.extra...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
		if after, _ := os.ReadDir(filepath.Dir(out)); len(after) != len(before) {
			t.Errorf("%s: the failed export left %d entries beside -out (had %d)", c.name, len(after), len(before))
		}
	}
	if got := readFile(t, filepath.Join(existing, "mine.txt")); string(got) != "keep" {
		t.Error("a refused export changed the existing -out")
	}

	// -force: the diverged run is exported, and the existing -out replaced whole.
	printed := captureStdout(t, func() error { return exportCmd([]string{diverged, "-out", existing, "-force"}) })
	if !strings.Contains(printed, "wrote "+filepath.Join(existing, "model.safetensors")+"\n") {
		t.Errorf("export does not say it wrote -out's files:\n%s", printed)
	}
	entries, _ := os.ReadDir(existing)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "README.md config.json model.safetensors" {
		t.Errorf("-force left %q in -out", names)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(existing), ".*tmp*")); len(left) > 0 {
		t.Errorf("staging folders left: %v", left)
	}
}

// -print-commands prints and creates nothing on disk.
func TestPrintCommandsWritesNothing(t *testing.T) {
	for _, cmd := range []func([]string) error{command("finetune"), command("ablation")} {
		tmp := t.TempDir()
		runs, results := filepath.Join(tmp, "runs"), filepath.Join(tmp, "results")
		out := captureStdout(t, func() error {
			return cmd([]string{"-preset", "quick", "-runs", runs, "-results", results, "-print-commands"})
		})
		if !strings.Contains(out, "train -config - -out") {
			t.Errorf("no commands printed: %q", out)
		}
		if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
			t.Errorf("-print-commands created %d entries", len(entries))
		}
	}
}

// A fine-tuning run's summary line shows the task's score, not ppl/bpb.
func TestFinetuneSummaryShowsTheTaskMetric(t *testing.T) {
	res := &train.Result{Status: train.StatusOK, Steps: 50, FinalVal: train.Eval{Loss: 0.5, Perplexity: 1.6},
		Finetune: &train.FinetuneResult{Task: "sst2", Method: "lora", Score: 0.81, Metrics: map[string]float64{"accuracy": 0.81}}}
	s := summary(train.Config{}, res)
	if !strings.Contains(s, "score 0.8100 (accuracy 0.8100") || strings.Contains(s, "ppl") || strings.Contains(s, "bpb") {
		t.Errorf("summary %q", s)
	}
}
