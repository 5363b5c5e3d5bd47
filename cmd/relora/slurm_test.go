package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// slurmOutput runs `relora slurm args...` and returns what it printed.
func slurmOutput(t *testing.T, args ...string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	err = slurmCmd(args)
	w.Close()
	os.Stdout = stdout
	out := string(<-done)
	if err != nil {
		t.Fatalf("relora slurm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// finish marks a run as finished (a result.json in its folder).
func finish(t *testing.T, runsDir string, cfg train.Config) {
	t.Helper()
	dir := runner.Dir(runsDir, cfg)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, train.ResultFile), wholeResult(t), 0o644); err != nil {
		t.Fatal(err)
	}
}

func slurmFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// One array task per unfinished run (finished ones skipped), the throttle,
// one core, requeue, per-task logs, sbatch options passed through, and the
// render job submitted after the array with the table's own command.
func TestSlurmArrayOfUnfinishedRuns(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	runs, results := filepath.Join(tmp, "runs"), filepath.Join(tmp, "results")
	configs := experiments.Configs(experiments.Ablation(p))
	finish(t, runs, configs[0])
	finish(t, runs, configs[4])

	out := slurmOutput(t, "-table", "ablation", "-preset", "quick", "-runs", runs, "-results", results,
		"-throttle", "3", "-partition", "cpu", "-account", "proj1", "-qos", "long", "-binary", "/shared/bin/relora")
	dir := filepath.Join(runs, "slurm")
	submit := filepath.Join(dir, "submit-ablation.sh")
	if !strings.Contains(out, "bash "+submit+"\n") {
		t.Errorf("does not print the submit command:\n%s", out)
	}
	array := slurmFile(t, filepath.Join(dir, "ablation.sbatch"))
	for _, want := range []string{"#SBATCH --array=0-5%3\n", "#SBATCH --cpus-per-task=1\n", "#SBATCH --requeue\n",
		"#SBATCH --output=" + filepath.Join(dir, "logs", "%A_%a.out") + "\n", "#SBATCH --time=00:10:00\n", "#SBATCH --mem=512M\n",
		"#SBATCH --partition=cpu\n", "#SBATCH --account=proj1\n", "#SBATCH --qos=long\n"} {
		if !strings.Contains(array, want) {
			t.Errorf("array script lacks %q:\n%s", want, array)
		}
	}
	tasks := strings.Split(strings.TrimSuffix(slurmFile(t, filepath.Join(dir, "ablation.tasks")), "\n"), "\n")
	if len(tasks) != len(configs)-2 {
		t.Fatalf("%d tasks for %d runs of which 2 are finished:\n%s", len(tasks), len(configs), strings.Join(tasks, "\n"))
	}
	for _, finished := range []train.Config{configs[0], configs[4]} {
		if d := runner.Dir(runs, finished); strings.Contains(array, d) || strings.Contains(strings.Join(tasks, "\n"), d) {
			t.Errorf("finished run %s is a task", d)
		}
	}
	want := "/shared/bin/relora train --config " + filepath.Join(runner.Dir(runs, configs[1]), train.ConfigFile) +
		" --out " + runner.Dir(runs, configs[1]) + " --threads 1 --quiet"
	if tasks[0] != want || !strings.Contains(array, "0) "+want+" ;;\n") {
		t.Errorf("task 0 is %q, want %q", tasks[0], want)
	}
	render := slurmFile(t, filepath.Join(dir, "ablation-render.sbatch"))
	if want := "/shared/bin/relora ablation -preset quick -j 1 -runs " + runs + " -results " + results + "\n"; !strings.Contains(render, want) {
		t.Errorf("render script lacks %q:\n%s", want, render)
	}
	if !strings.Contains(render, "#SBATCH --partition=cpu\n") || !strings.Contains(render, "result.json") {
		t.Errorf("render script:\n%s", render)
	}
	sub := slurmFile(t, submit)
	for _, want := range []string{"jid=$(sbatch --parsable \"$@\" " + filepath.Join(dir, "ablation.sbatch") + ")",
		"sbatch --parsable --dependency=afterany:$jid \"$@\" " + filepath.Join(dir, "ablation-render.sbatch") + " \"$jid\")"} {
		if !strings.Contains(sub, want) {
			t.Errorf("submit script lacks %q:\n%s", want, sub)
		}
	}

	// Without the options, no empty sbatch lines.
	again := filepath.Join(tmp, "again")
	slurmOutput(t, "-table", "spectra", "-preset", "quick", "-runs", again, "-results", results, "-binary", "/shared/bin/relora")
	s := slurmFile(t, filepath.Join(again, "slurm", "spectra.sbatch"))
	if strings.Contains(s, "--partition") || strings.Contains(s, "--account") || strings.Contains(s, "--qos") {
		t.Errorf("empty options written:\n%s", s)
	}
	if n := len(experiments.Spectra(p)); !strings.Contains(s, "#SBATCH --array=0-"+strconv.Itoa(n-1)+"%32\n") {
		t.Errorf("spectra: want %d tasks with the default throttle:\n%s", n, s)
	}
}

// The default preset's runs ask for more than the quick preset's floors.
func TestSlurmResourcesFollowThePreset(t *testing.T) {
	tmp := t.TempDir()
	slurmOutput(t, "-table", "ablation", "-preset", "default", "-runs", tmp, "-results", tmp, "-binary", "/b/relora")
	s := slurmFile(t, filepath.Join(tmp, "slurm", "ablation.sbatch"))
	if !strings.Contains(s, "#SBATCH --time=00:37:00\n") || !strings.Contains(s, "#SBATCH --mem=576M\n") {
		t.Errorf("default preset limits:\n%s", s)
	}
}

// Nothing to train: nothing is written, and the render command is printed.
func TestSlurmNothingToSubmit(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(t.TempDir(), "runs")
	for _, c := range experiments.Configs(experiments.Ablation(p)) {
		finish(t, runs, c)
	}
	out := slurmOutput(t, "-table", "ablation", "-preset", "quick", "-runs", runs, "-results", "r", "-binary", "/b/relora")
	if !strings.Contains(out, "nothing to submit") || !strings.Contains(out, "/b/relora ablation -preset quick") {
		t.Errorf("message: %q", out)
	}
	if _, err := os.Stat(filepath.Join(runs, "slurm")); !os.IsNotExist(err) {
		t.Errorf("%s/slurm written (%v)", runs, err)
	}
}

func TestSlurmRejectsAnUnknownTable(t *testing.T) {
	if err := slurmCmd([]string{"-table", "nope", "-preset", "quick", "-runs", t.TempDir()}); err == nil {
		t.Error("-table nope accepted")
	}
}

// wholeResult is a result.json with every field a finished run writes (a
// partial one does not count as finished).
func wholeResult(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(train.Result{Status: train.StatusOK, Evals: []train.Eval{{}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
