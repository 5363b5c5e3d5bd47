package main

// Crash tests: the relora binary is killed (SIGKILL) at chosen points of a
// small ReLoRA run and started again on the same folder; the finished folder
// must hold what an uninterrupted run writes (metrics.jsonl byte for byte,
// result.json but for timing and machine fields, the same weights).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relorago/harness/train"
)

// crashSteps is the run's length; with --warm-start 40 and --reset-every 40
// the switch is logged at step 41 and merge+reset at steps 81 and 121 (the
// restart steps 80 and 120, 0-based). Periodic checkpoints every 10 steps.
const crashSteps = 160

var crashArgs = []string{"train", "-preset", "quick", "-mode", "relora",
	"--warm-start", "40", "--reset-every", "40", "--steps", fmt.Sprint(crashSteps),
	"--rank", "4", "--alpha", "4", "--eval-every", "20", "--checkpoint-every", "10",
	"--threads", "1", "--quiet", "--batch", "8", "--val-windows", "32"}

// machineFields are result.json's fields that depend on the clock or the
// machine, not on the config.
var machineFields = []string{"tokens_per_sec", "examples_per_sec", "train_seconds", "wall_seconds", "threads", "cpu", "finished_at"}

// crashRun is a run the crash tests kill and resume: the relora command
// line (without --out) and its length in steps.
type crashRun struct {
	args  []string
	steps int
}

var pretrainCrash = crashRun{args: crashArgs, steps: crashSteps}

// killPoint asks for a SIGKILL once step lo is logged; the kill counts if the
// last step logged when the process is dead is at most hi (else the attempt
// is repeated on a fresh folder).
type killPoint struct{ lo, hi int }

func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the relora binary")
	}
	began := time.Now()
	tmp := t.TempDir()
	bin := buildRelora(t, tmp)

	ref := filepath.Join(tmp, "A")
	runToEnd(t, bin, pretrainCrash, ref)
	checkEvents(t, ref, crashSteps, map[int]string{41: "switch", 81: "merge+reset", 121: "merge+reset"})
	t.Logf("reference run: %v (build included)", time.Since(began).Round(time.Millisecond))

	cases := []killCase{
		{"before-first-checkpoint", []killPoint{{2, 9}}}, // resumes from scratch over a non-empty log
		{"before-switch", []killPoint{{15, 35}}},         // resumes full-rank, the resumed process switches
		{"after-merge", []killPoint{{81, 89}}},           // resumes from step 80: merge+reset done again
		{"near-end", []killPoint{{155, crashSteps}}},     // resumes after both merges
		// Twice in one run: just after the switch (resumes from the checkpoint
		// taken at the switch step, still full-rank), then after the second merge.
		{"twice", []killPoint{{41, 49}, {121, 129}}},
	}
	killAndResume(t, bin, tmp, pretrainCrash, ref, cases)

	t.Run("rerun-finished", func(t *testing.T) {
		dir := copyDir(t, ref, filepath.Join(tmp, "C"))
		before := readAll(t, dir)
		out := runToEnd(t, bin, pretrainCrash, dir)
		if strings.TrimSpace(out) == "" {
			t.Errorf("rerunning a finished run printed nothing")
		}
		after := readAll(t, dir)
		for _, name := range sortedKeys(before, after) {
			if b, ok := after[name]; !ok {
				t.Errorf("rerunning a finished run deleted %s", name)
			} else if a, ok := before[name]; !ok {
				t.Errorf("rerunning a finished run created %s", name)
			} else if !bytes.Equal(a, b) {
				t.Errorf("rerunning a finished run changed %s:\n%s", name, firstDiff(a, b))
			}
		}
	})

	// A kill after the last step's line but before result.json is written
	// is too short a window to hit: take the result away instead.
	for _, damage := range []struct {
		name string
		do   func(path string) error
	}{
		{"lost-result", os.Remove},
		{"unreadable-result", func(path string) error { return os.WriteFile(path, []byte(`{"status": "ok", "ste`), 0o644) }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			dir := copyDir(t, ref, filepath.Join(tmp, damage.name))
			timing := readFile(t, filepath.Join(dir, train.TimingFile))
			if err := damage.do(filepath.Join(dir, train.ResultFile)); err != nil {
				t.Fatal(err)
			}
			out := runToEnd(t, bin, pretrainCrash, dir)
			if strings.TrimSpace(out) == "" {
				t.Errorf("finishing the run again printed nothing")
			}
			compareRuns(t, crashSteps, ref, dir)
			if got := readFile(t, filepath.Join(dir, train.TimingFile)); !bytes.Equal(got, timing) {
				t.Errorf("finishing the run again changed %s:\n%s", train.TimingFile, firstDiff(timing, got))
			}
		})
	}
	t.Logf("total %v", time.Since(began).Round(time.Millisecond))
}

// buildRelora builds the relora binary into dir.
func buildRelora(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "relora")
	build := exec.Command("go", "build", "-o", bin, "github.com/relorago/harness/cmd/relora")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// killCase is one way of killing a run: at each point in turn, each time
// on the folder the kill before left.
type killCase struct {
	name   string
	points []killPoint
}

// killAndResume kills run at each case's points, resumes it to the end and
// requires the folder to hold what the uninterrupted run ref holds.
func killAndResume(t *testing.T, bin, tmp string, run crashRun, ref string, cases []killCase) {
	t.Helper()
	for _, c := range cases {
		t.Run("kill/"+c.name, func(t *testing.T) {
			const attempts = 5
			for a := 1; a <= attempts; a++ {
				dir := filepath.Join(tmp, fmt.Sprintf("B-%s-%d", c.name, a))
				kept, ok := killRun(t, bin, run, dir, c.points)
				if !ok {
					t.Logf("attempt %d missed a kill window; trying again", a)
					continue
				}
				out := runToEnd(t, bin, run, dir)
				if t.Failed() {
					return
				}
				t.Logf("resumed to the end: %s", strings.TrimSpace(out))
				compareRuns(t, run.steps, ref, dir)
				// The resumed process kept the timing lines the killed
				// ones wrote up to their checkpoint: it resumed, it did not
				// start over (which would also give equal metrics).
				timing := readFile(t, filepath.Join(dir, train.TimingFile))
				for _, k := range kept {
					if !bytes.HasPrefix(timing, k) {
						t.Errorf("%s: the killed process's timing lines up to its checkpoint were rewritten: the run started over instead of resuming\n%s",
							train.TimingFile, firstDiff(k, timing[:min(len(timing), len(k))]))
					}
				}
				return
			}
			t.Fatalf("no attempt of %d killed the run inside every window %v (machine too busy?)", attempts, c.points)
		})
	}
}

// killRun starts the command on a fresh dir once per kill point, kills it
// when the point's step is logged and waits for it. It returns, per kill,
// the timing lines up to the checkpoint the next process resumes from, and
// false if a kill missed its window.
func killRun(t *testing.T, bin string, run crashRun, dir string, points []killPoint) (kept [][]byte, ok bool) {
	t.Helper()
	for _, p := range points {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, append(slices.Clone(run.args), "--out", dir)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.After(60 * time.Second)
		var err error
	watch:
		for {
			select {
			case err = <-done:
				if err != nil {
					t.Fatalf("run exited before the kill at step %d: %v\nstdout: %s\nstderr: %s", p.lo, err, stdout.Bytes(), stderr.Bytes())
				}
				t.Logf("run finished before step %d was seen", p.lo)
				return nil, false
			case <-deadline:
				cmd.Process.Kill()
				<-done
				t.Fatalf("step %d not logged within 60 s\nstderr: %s", p.lo, stderr.Bytes())
			case <-time.After(time.Millisecond):
				if _, last := loggedSteps(t, dir); last >= p.lo {
					if err := cmd.Process.Kill(); err != nil {
						t.Fatal(err)
					}
					err = <-done
					break watch
				}
			}
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() {
			t.Logf("kill at step %d came too late: the process exited with %v", p.lo, err)
			return nil, false
		}
		lines, last := loggedSteps(t, dir)
		_, resErr := os.Stat(filepath.Join(dir, train.ResultFile))
		if last > p.hi || resErr == nil {
			t.Logf("killed at step %d, outside [%d, %d] (result.json present: %v)", last, p.lo, p.hi, resErr == nil)
			return nil, false
		}
		ck := 0
		if c, err := train.LoadCheckpoint(filepath.Join(dir, train.CheckpointFile)); err == nil {
			ck = c.Step
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("after the kill at step %d: %v", last, err)
		}
		timing := readFile(t, filepath.Join(dir, train.TimingFile))
		n := 0
		for range ck {
			i := bytes.IndexByte(timing[n:], '\n')
			if i < 0 {
				t.Fatalf("killed at step %d: %s has fewer lines than the checkpoint's %d steps", last, train.TimingFile, ck)
			}
			n += i + 1
		}
		kept = append(kept, timing[:n])
		t.Logf("killed after step %d (%d whole lines in metrics.jsonl, wanted [%d, %d]); checkpoint at step %d", last, lines, p.lo, p.hi, ck)
	}
	return kept, true
}

// loggedSteps reads dir's metrics.jsonl: its number of whole lines and the
// step of the last one (0 if none).
func loggedSteps(t *testing.T, dir string) (lines, last int) {
	b, err := os.ReadFile(filepath.Join(dir, train.MetricsFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		return 0, 0
	}
	b = b[:end]
	lines = bytes.Count(b, []byte("\n")) + 1
	var m struct{ Step int }
	if err := json.Unmarshal(b[bytes.LastIndexByte(b, '\n')+1:], &m); err != nil {
		t.Fatalf("metrics.jsonl line %d: %v", lines, err)
	}
	return lines, m.Step
}

// runToEnd runs the command on dir and requires it to exit 0; it returns stdout.
func runToEnd(t *testing.T, bin string, run crashRun, dir string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append(slices.Clone(run.args), "--out", dir)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("relora %s --out %s: %v\nstdout: %s\nstderr: %s", strings.Join(run.args, " "), dir, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String()
}

// checkEvents makes sure the reference run has its steps and the events
// (by step) the kill points are placed around.
func checkEvents(t *testing.T, dir string, steps int, want map[int]string) {
	t.Helper()
	ms, err := train.ReadMetrics(filepath.Join(dir, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	events := map[int]string{}
	for i, m := range ms {
		if m.Step != i+1 {
			t.Fatalf("reference metrics.jsonl line %d is step %d", i+1, m.Step)
		}
		if m.Event != "" {
			events[m.Step] = m.Event
		}
	}
	if len(ms) != steps || !reflect.DeepEqual(events, want) {
		t.Fatalf("reference run: %d steps, events %v; the kill points assume %d steps, events %v", len(ms), events, steps, want)
	}
}

// compareRuns requires dir to hold what the uninterrupted run ref, of
// steps steps, holds.
func compareRuns(t *testing.T, steps int, ref, dir string) {
	t.Helper()
	for _, name := range []string{train.MetricsFile, train.ConfigFile} {
		want, got := readFile(t, filepath.Join(ref, name)), readFile(t, filepath.Join(dir, name))
		if !bytes.Equal(want, got) {
			t.Errorf("%s differs from the uninterrupted run's:\n%s", name, firstDiff(want, got))
		}
	}
	for _, name := range []string{train.MetricsFile, train.TimingFile} {
		lines := bytes.Split(bytes.TrimSuffix(readFile(t, filepath.Join(dir, name)), []byte("\n")), []byte("\n"))
		if len(lines) != steps {
			t.Errorf("%s has %d lines, want one per step (%d)", name, len(lines), steps)
		}
		for i, l := range lines {
			var m struct{ Step int }
			if err := json.Unmarshal(l, &m); err != nil || m.Step != i+1 {
				t.Errorf("%s line %d is %q, want step %d", name, i+1, l, i+1)
				break
			}
		}
	}

	want, got := resultFields(t, ref), resultFields(t, dir)
	if ts, _ := got["train_seconds"].(float64); !(ts > 0) {
		t.Errorf("result.json train_seconds is %v, want > 0", got["train_seconds"])
	}
	for _, k := range machineFields {
		delete(want, k)
		delete(got, k)
	}
	if !reflect.DeepEqual(want, got) {
		w, _ := json.MarshalIndent(want, "", "  ")
		g, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("result.json differs from the uninterrupted run's (timing and machine fields aside):\n%s", firstDiff(w, g))
	}

	// The weights and optimizer state: the final checkpoint and the kept ones.
	keptNames := func(d string) []string {
		m, err := filepath.Glob(filepath.Join(d, "ckpt-*"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		return m
	}
	if w, g := keptNames(ref), keptNames(dir); !slices.Equal(w, g) {
		t.Errorf("kept checkpoints %v, want %v", g, w)
	}
	for _, name := range append([]string{train.CheckpointFile}, keptNames(ref)...) {
		compareCheckpoints(t, filepath.Join(ref, name), filepath.Join(dir, name))
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*")); len(tmps) > 0 {
		t.Logf("temp files left by a kill during a write: %v", tmps)
	}
}

func compareCheckpoints(t *testing.T, refPath, path string) {
	t.Helper()
	want, err := train.LoadCheckpoint(refPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := train.LoadCheckpoint(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	name := filepath.Base(path)
	if got.Step != want.Step {
		t.Errorf("%s: step %d, want %d", name, got.Step, want.Step)
	}
	for _, p := range sortedKeys(want.Params, got.Params) {
		if !slices.Equal(want.Params[p], got.Params[p]) {
			t.Errorf("%s: parameter %s differs from the uninterrupted run's", name, p)
			return
		}
	}
	for _, p := range sortedKeys(want.Adam, got.Adam) {
		if !reflect.DeepEqual(want.Adam[p], got.Adam[p]) {
			t.Errorf("%s: AdamW state of %s differs from the uninterrupted run's", name, p)
			return
		}
	}
	if !reflect.DeepEqual(want.Evals, got.Evals) || !reflect.DeepEqual(want.Resets, got.Resets) ||
		!reflect.DeepEqual(want.Extra, got.Extra) || !reflect.DeepEqual(want.RecentLoss, got.RecentLoss) {
		t.Errorf("%s: evals, resets, counters or loss window differ from the uninterrupted run's", name)
	}
}

func resultFields(t *testing.T, dir string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, train.ResultFile)), &m); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return m
}

// firstDiff shows the first line in which two files differ.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		} else {
			wl = "(end of file)"
		}
		if i < len(g) {
			gl = g[i]
		} else {
			gl = "(end of file)"
		}
		if wl != gl {
			return fmt.Sprintf("first difference at line %d (of %d vs %d):\nwant: %s\n got: %s", i+1, len(w), len(g), wl, gl)
		}
	}
	return "(no line differs)"
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll reads every file of dir by name.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range es {
		out[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
	}
	return out
}

func copyDir(t *testing.T, src, dst string) string {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range readAll(t, src) {
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// sortedKeys is the sorted union of the maps' keys.
func sortedKeys[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
