package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withoutTiming blanks a result's wall-clock fields, which no rerun repeats.
func withoutTiming(r Result) Result {
	r.TokensPerSec, r.ExamplesPerSec, r.TrainSeconds, r.WallSeconds = 0, 0, 0, 0
	r.FinishedAt, r.Threads = "", 0
	return r
}

func sameResult(t *testing.T, what string, got, want *Result) {
	t.Helper()
	g, w := withoutTiming(*got), withoutTiming(*want)
	gb, _ := jsonBytes(g)
	wb, _ := jsonBytes(w)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("%s: result differs:\n%s\n---\n%s", what, gb, wb)
	}
}

// Running a finished run folder again returns its result and trains
// nothing: it neither rewrites result.json nor appends to metrics.jsonl.
func TestRerunOfAFinishedRunChangesNothing(t *testing.T) {
	cfg := reloraConfig(t, 30)
	dir := t.TempDir()
	first := runIn(t, cfg, dir)
	metrics, result := readFile(t, filepath.Join(dir, MetricsFile)), readFile(t, filepath.Join(dir, ResultFile))
	for i := range 2 {
		again := runIn(t, cfg, dir)
		sameResult(t, "rerun", again, first)
		if !bytes.Equal(readFile(t, filepath.Join(dir, MetricsFile)), metrics) {
			t.Fatalf("rerun %d changed metrics.jsonl", i+1)
		}
		if !bytes.Equal(readFile(t, filepath.Join(dir, ResultFile)), result) {
			t.Fatalf("rerun %d rewrote result.json", i+1)
		}
	}
	if first.Steps != 30 || !finite(float64(first.FinalTrainLoss)) {
		t.Fatalf("steps %d, final train loss %v", first.Steps, first.FinalTrainLoss)
	}
}

// A run whose result.json is lost or torn (a crash after the final
// checkpoint, a copy gone wrong) is finished again from its final
// checkpoint to the same result, without training a step more.
func TestLostOrTornResultIsFinishedAgainNotRetrained(t *testing.T) {
	cfg := reloraConfig(t, 30)
	dir := t.TempDir()
	first := runIn(t, cfg, dir)
	metrics := readFile(t, filepath.Join(dir, MetricsFile))
	for _, damage := range []func(string) error{
		os.Remove,
		func(p string) error { return os.WriteFile(p, []byte(`{"status": "ok", "ste`), 0o644) },
	} {
		if err := damage(filepath.Join(dir, ResultFile)); err != nil {
			t.Fatal(err)
		}
		again := runIn(t, cfg, dir)
		sameResult(t, "finished again", again, first)
		if !bytes.Equal(readFile(t, filepath.Join(dir, MetricsFile)), metrics) {
			t.Fatal("finishing again changed metrics.jsonl")
		}
	}
}

// A folder holding another config's run is refused with the differing
// fields named; Fresh starts it over.
func TestFolderOfAnotherConfigIsRefusedUnlessFresh(t *testing.T) {
	cfg := reloraConfig(t, 30)
	cfg.CheckpointEvery = 10
	dir := t.TempDir()
	cut := cfg
	cut.stopAfter = 15
	runIn(t, cut, dir)

	other := cfg
	other.LR, other.ReLoRA.LR = 1e-3, 9e-3
	other.OutDir = dir
	_, err := Run(other)
	if err == nil || !strings.Contains(err.Error(), "lr: 0.003 → 0.001") || !strings.Contains(err.Error(), "relora.lr: 0.006 → 0.009") {
		t.Fatalf("resume under other learning rates: %v", err)
	}
	shorter := cfg
	shorter.Steps = 12
	shorter.OutDir = dir
	if _, err := Run(shorter); err == nil || !strings.Contains(err.Error(), "steps: 30 → 12") {
		t.Fatalf("resume with fewer steps than the checkpoint: %v", err)
	}

	other.Fresh = true
	res, err := Run(other)
	if err != nil {
		t.Fatal(err)
	}
	want := runIn(t, func() Config { c := other; c.Fresh = false; return c }(), t.TempDir())
	sameResult(t, "fresh start", res, want)
}

// Late in a run, a resumed run's final_train_loss (a window over the last
// steps) and its training time (summed over both processes) are whole.
func TestResumeKeepsLossWindowAndTime(t *testing.T) {
	cfg := reloraConfig(t, 30)
	cfg.CheckpointEvery = 10
	whole := runIn(t, cfg, t.TempDir())

	dir := t.TempDir()
	cut := cfg
	cut.stopAfter = 25 // the checkpoint holds step 20
	first := startRun(t, func() Config { c := cut; c.OutDir = dir; return c }(), 25)
	firstTime := first.trainTime
	first.close()
	res := runIn(t, cfg, dir)
	if res.FinalTrainLoss != whole.FinalTrainLoss {
		t.Fatalf("final train loss %v after resume, %v uninterrupted", res.FinalTrainLoss, whole.FinalTrainLoss)
	}
	ck, err := LoadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	// The second process trained steps 21–30 only; the result counts the
	// first process's 20 checkpointed steps too.
	if res.TrainSeconds <= 0 || ck.TrainSeconds != res.TrainSeconds || firstTime <= 0 {
		t.Fatalf("train seconds %v (checkpoint %v)", res.TrainSeconds, ck.TrainSeconds)
	}
	second := time.Duration(res.TrainSeconds*float64(time.Second)) - time.Duration(0)
	if second < firstTime*20/25/2 {
		t.Fatalf("train seconds %v do not include the first process's %v", res.TrainSeconds, firstTime)
	}
}

// A torn or missing line among the checkpointed steps of metrics.jsonl is
// an error naming the line, not a run that silently lost steps; a torn last
// line after the checkpoint (a killed process) is dropped.
func TestResumeRefusesDamagedMetrics(t *testing.T) {
	cfg := nanoConfig(t, 30)
	cfg.CheckpointEvery = 10
	cut := cfg
	cut.stopAfter = 20
	dir := t.TempDir()
	runIn(t, cut, dir)
	path := filepath.Join(dir, MetricsFile)
	good := readFile(t, path)
	lines := bytes.SplitAfter(good, []byte("\n"))

	torn := bytes.Join(append(append(append([][]byte{}, lines[:4]...), []byte("{\"step\":5,\"lo\n")), lines[5:]...), nil)
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(withOut(cfg, dir)); err == nil || !strings.Contains(err.Error(), "line 5 is torn") {
		t.Fatalf("torn line 5: %v", err)
	}
	// A killed process's half line after the checkpoint is fine.
	if err := os.WriteFile(path, append(append([]byte{}, good...), []byte(`{"step":21,"lo`)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(withOut(cfg, dir)); err != nil {
		t.Fatalf("half-written last line: %v", err)
	}
}

func withOut(cfg Config, dir string) Config {
	cfg.OutDir = dir
	return cfg
}

// A learning rate far too high makes the loss jump by orders of magnitude
// and then collapse to a constant output at ln 256 with no gradient, which
// ends as a plausible-looking loss: that run must be reported diverged, and
// say why.
func TestBlowUpThenCollapseIsDiverged(t *testing.T) {
	cfg := nanoConfig(t, 60)
	cfg.LR = 1e3
	res := runIn(t, cfg, t.TempDir())
	if res.Status != StatusDiverged || !(strings.Contains(res.DivergedReason, "blew up") || strings.Contains(res.DivergedReason, "collapsed")) {
		t.Fatalf("lr 1e3: status %q (%q)", res.Status, res.DivergedReason)
	}
	if res.Steps >= 60 {
		t.Fatalf("a blown-up run should stop when it blows up, ran %d steps", res.Steps)
	}
}

// One process trains a folder at a time.
func TestSecondProcessOnALockedFolderIsRefused(t *testing.T) {
	dir := t.TempDir()
	l, err := lockFolder(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := nanoConfig(t, 10)
	_, err = Run(withOut(cfg, dir))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("run on a locked folder: %v, want ErrLocked", err)
	}
	waited := make(chan error)
	go func() {
		c := withOut(cfg, dir)
		c.WaitForLock = true
		_, err := Run(c)
		waited <- err
	}()
	select {
	case err := <-waited:
		t.Fatalf("WaitForLock returned before the lock was released: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	l.Close()
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
}

// Bad configs fail before the folder is touched, naming the field.
func TestBadConfigLeavesNoFolderAndNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(*Config)
	}{
		{"rank above d/2", "rank 64", func(c *Config) { c.ReLoRA.Method, c.ReLoRA.Rank = "lora", 64 }},
		{"huge rank", "rank 100000", func(c *Config) { c.ReLoRA.Method, c.ReLoRA.Rank = "lora", 100000 }},
		{"infinite lr", "finite", func(c *Config) { c.LR = math.Inf(1) }},
		{"NaN lora lr", "finite", func(c *Config) { c.ReLoRA.LR = math.NaN() }},
		{"missing corpus", "no-such-corpus", func(c *Config) { c.Data = "no-such-corpus.txt" }},
	} {
		cfg := nanoConfig(t, 10)
		tc.edit(&cfg)
		dir := filepath.Join(t.TempDir(), "run")
		_, err := Run(withOut(cfg, dir))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the run folder was created", tc.name)
		}
	}
}

func jsonBytes(v any) ([]byte, error) { return json.MarshalIndent(v, "", " ") }
