package runner

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/train"
)

func nano(t *testing.T, seed uint64, lr float64) train.Config {
	t.Helper()
	cfg, err := train.Default("nano")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Steps, cfg.Warmup, cfg.Batch, cfg.EvalEvery, cfg.ValWindows = 12, 2, 2, 6, 16
	cfg.Seed, cfg.LR = seed, lr
	return cfg
}

func TestHashIgnoresThreadsAndPathsButNotSettings(t *testing.T) {
	a := nano(t, 1, 1e-3)
	b := a
	b.Threads, b.OutDir, b.Quiet = 7, "/elsewhere", true
	if Hash(a) != Hash(b) {
		t.Error("threads/out/quiet changed the hash")
	}
	b.Seed = 2
	if Hash(a) == Hash(b) {
		t.Error("a different seed has the same hash")
	}
}

func TestMatrixCachesResumesAndSurvivesDivergence(t *testing.T) {
	dir := t.TempDir()
	diverging := nano(t, 1, 50)
	diverging.GradClip, diverging.Warmup = 0, 0
	configs := []train.Config{nano(t, 1, 3e-3), nano(t, 2, 3e-3), diverging, nano(t, 1, 3e-3)}
	var log bytes.Buffer
	out, err := Execute(configs, Options{RunsDir: dir, Jobs: 2, Log: &log, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Result == nil || o.Cached {
			t.Fatalf("run %d: result %v, cached %v", i, o.Result, o.Cached)
		}
	}
	if out[2].Result.Status != train.StatusDiverged || out[0].Result.Status != train.StatusOK {
		t.Fatalf("statuses %s, %s", out[0].Result.Status, out[2].Result.Status)
	}
	if out[0].Dir != out[3].Dir {
		t.Fatal("identical configs got different folders")
	}

	// Lose one result (as if killed before it was written): only that run trains again.
	if err := os.Remove(filepath.Join(out[1].Dir, train.ResultFile)); err != nil {
		t.Fatal(err)
	}
	again, err := Execute(configs, Options{RunsDir: dir, Jobs: 2, Log: &log, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range again {
		if want := i != 1; o.Cached != want {
			t.Errorf("run %d: cached %v, want %v", i, o.Cached, want)
		}
		if o.Result.FinalVal.Loss != out[i].Result.FinalVal.Loss {
			t.Errorf("run %d: val loss %v then %v", i, out[i].Result.FinalVal.Loss, o.Result.FinalVal.Loss)
		}
	}
}

func TestBadRunIsReportedNotFatal(t *testing.T) {
	bad := nano(t, 1, 1e-3)
	bad.Data = filepath.Join(t.TempDir(), "missing.txt")
	out, err := Execute([]train.Config{bad, nano(t, 3, 1e-3)}, Options{RunsDir: t.TempDir(), Log: &bytes.Buffer{}, Quiet: true})
	if err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Fatalf("want an error naming the missing corpus, got %v", err)
	}
	if out[1].Result == nil || out[1].Result.Status != train.StatusOK {
		t.Fatal("the good run did not finish")
	}
}

func TestWriteCommandsListsUnfinishedRunsAndWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs")
	configs := []train.Config{nano(t, 1, 1e-3), nano(t, 2, 1e-3), nano(t, 1, 1e-3)}
	var buf bytes.Buffer
	if err := WriteCommands(configs, dir, "relora", &buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 commands (one per distinct run), got %q", lines)
	}
	for _, l := range lines {
		if !strings.Contains(l, `"steps":12`) || !strings.Contains(l, "train -config - -out") {
			t.Errorf("command %q does not pipe its config to relora train", l)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Error("printing the commands created the runs folder")
	}
}

// A runs folder and a binary with a space and a quote in their names stay
// one word when the shell runs the command, and the config arrives whole
// on the command's standard input.
func TestWriteCommandsQuotesPaths(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "my runs", "bob's")
	bin := filepath.Join(tmp, "re lora")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\"\ncat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := nano(t, 1, 1e-3)
	var buf bytes.Buffer
	if err := WriteCommands([]train.Config{cfg}, dir, bin, &buf); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", strings.TrimSpace(buf.String())).Output()
	if err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"train", "-config", "-", "-out", Dir(dir, cfg), "-threads", "1", "-quiet"}
	if len(lines) != len(want)+1 || strings.Join(lines[:len(want)], "|") != strings.Join(want, "|") {
		t.Fatalf("the shell runs %q from %q", lines, buf.String())
	}
	back, err := train.DecodeConfig([]byte(lines[len(want)]))
	if err != nil || Hash(back) != Hash(cfg) {
		t.Errorf("the config piped in is not the run's (%v): %s", err, lines[len(want)])
	}
}

// Runs start seed by seed, in the given order within a seed, so a matrix
// stopped part-way leaves whole seeds finished. With one worker, the log
// lists them in the order they started.
func TestRunsStartSeedBySeed(t *testing.T) {
	configs := []train.Config{nano(t, 2, 1e-3), nano(t, 1, 1e-3), nano(t, 2, 3e-3), nano(t, 1, 3e-3)}
	var log bytes.Buffer
	if _, err := Execute(configs, Options{RunsDir: t.TempDir(), Jobs: 1, Log: &log, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, line := range strings.Split(log.String(), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "✓" {
			dirs = append(dirs, f[1])
		}
	}
	want := []int{1, 3, 0, 2}
	if len(dirs) != len(want) {
		t.Fatalf("log lists %d finished runs, want %d:\n%s", len(dirs), len(want), log.String())
	}
	for k, i := range want {
		if d := Dir("", configs[i]); filepath.Base(dirs[k]) != filepath.Base(d) {
			t.Errorf("run %d to finish is %s, want config %d (seed %d)", k+1, dirs[k], i, configs[i].Seed)
		}
	}
}
