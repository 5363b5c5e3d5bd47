package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

func presetConfig(t *testing.T, name string, method string) train.Config {
	t.Helper()
	p, err := experiments.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.Base
	if method != relora.MethodLoRA {
		cfg.ReLoRA = relora.Config{Method: method}
	} else {
		cfg.ReLoRA.Method = method
	}
	return cfg
}

// The limits follow the run's size: the quick preset's 1-second runs get
// the floors, the default preset's ~7-minute runs (measured: 28 min for 8
// runs, 2 at a time) 37 minutes and 576 MiB, and a larger model or more
// steps more.
func TestSlurmLimitsFollowTheRunsSize(t *testing.T) {
	for _, c := range []struct {
		preset, method string
		time           time.Duration
		mem            string
	}{
		{"quick", relora.MethodLoRA, 10 * time.Minute, "512M"},
		{"quick", relora.MethodFull, 10 * time.Minute, "512M"},
		{"default", relora.MethodLoRA, 37 * time.Minute, "576M"},
		{"default", relora.MethodFull, 37 * time.Minute, "576M"},
	} {
		tl, mem := SlurmLimits(presetConfig(t, c.preset, c.method), 1)
		if tl != c.time || SlurmMem(mem) != c.mem {
			t.Errorf("%s %s: --time=%s --mem=%s, want %s, %s", c.preset, c.method, SlurmTime(tl), SlurmMem(mem), SlurmTime(c.time), c.mem)
		}
	}

	base := presetConfig(t, "default", relora.MethodLoRA)
	t0, m0 := SlurmLimits(base, 1)
	long := base
	long.Steps *= 4
	if t1, _ := SlurmLimits(long, 1); t1 <= 2*t0 {
		t.Errorf("4× the steps: %s, not over twice %s", t1, t0)
	}
	if t2, _ := SlurmLimits(base, 3); t2 <= 2*t0 {
		t.Errorf("-time-scale 3: %s, not over twice %s", t2, t0)
	}
	wide := base
	wide.Model.Dim, wide.Model.Heads, wide.Model.FFN = 256, 8, 704
	tw, mw := SlurmLimits(wide, 1)
	if tw <= t0 || mw <= m0 {
		t.Errorf("d 256: %s, %s; not above d 64's %s, %s", SlurmTime(tw), SlurmMem(mw), SlurmTime(t0), SlurmMem(m0))
	}

	// The measured arena of a default-preset ReLoRA step (r 8) is 121.7 MB
	// and of a full-rank one 118.1 MB; the fit must not fall below them.
	if a := EstimateCost(base).ArenaSize; a < 121_700_000 || a > 135_000_000 {
		t.Errorf("ReLoRA arena estimate %d B, measured 121.7 MB", a)
	}
	if p := EstimateCost(base).Params; p != 273472 {
		t.Errorf("ReLoRA r 8 parameters %d, the model counts 273472", p)
	}
}

func TestSlurmTimeAndMemFormats(t *testing.T) {
	for d, want := range map[time.Duration]string{10 * time.Minute: "00:10:00", 106 * time.Minute: "01:46:00", 26*time.Hour + 5*time.Second: "1-02:00:05"} {
		if got := SlurmTime(d); got != want {
			t.Errorf("SlurmTime(%s) = %s, want %s", d, got, want)
		}
	}
	if got := SlurmMem(576 << 20); got != "576M" {
		t.Errorf("SlurmMem = %s", got)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"/a/b-c_d.json": "/a/b-c_d.json", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "$HOME": "'$HOME'"} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// Unfinished skips finished runs and duplicates and writes each config.
func TestUnfinishedSkipsFinishedRuns(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	configs := experiments.Configs(experiments.Ablation(p))
	dir := t.TempDir()
	done := Dir(dir, configs[1])
	if err := os.MkdirAll(done, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(done, train.ResultFile), wholeResult(t), 0o644); err != nil {
		t.Fatal(err)
	}
	pending, err := Unfinished(append(configs, configs[0]), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != len(configs)-1 {
		t.Fatalf("%d pending of %d configs with one finished and one repeated", len(pending), len(configs))
	}
	for _, r := range pending {
		if r.Dir == done {
			t.Errorf("finished run %s listed", done)
		}
		b, err := os.ReadFile(r.ConfigPath)
		if err != nil {
			t.Fatal(err)
		}
		if cfg, err := train.DecodeConfig(b); err != nil || Dir(dir, cfg) != r.Dir {
			t.Errorf("config of %s: %v", r.Dir, err)
		}
	}
	if got, want := pending[0].Command("/x/relora"), "/x/relora train --config "+pending[0].ConfigPath+" --out "+pending[0].Dir+" --threads 1 --quiet"; got != want {
		t.Errorf("command %q, want %q", got, want)
	}
}

func TestWriteSlurmScripts(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pending, err := Unfinished(experiments.Configs(experiments.Ablation(p)), filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	a := SlurmArray{Name: "ablation", Dir: filepath.Join(dir, "runs", "slurm"), Binary: "/opt/relora", Runs: pending,
		Throttle: 0, Render: []string{"/opt/relora", "ablation", "-preset", "quick"}, RenderTime: 30 * time.Minute, RenderMem: 2 << 30, RenderCPUs: 1}
	f, err := WriteSlurm(a)
	if err != nil {
		t.Fatal(err)
	}
	array := readSlurmFile(t, f.Array)
	for _, want := range []string{"#SBATCH --array=0-7\n", "#SBATCH --cpus-per-task=1\n", "#SBATCH --requeue\n",
		"#SBATCH --time=00:10:00\n", "#SBATCH --mem=512M\n", "#SBATCH --output=" + filepath.Join(a.Dir, "logs", "%A_%a.out") + "\n",
		"7) " + pending[7].Command("/opt/relora") + " ;;\n"} {
		if !strings.Contains(array, want) {
			t.Errorf("array script lacks %q:\n%s", want, array)
		}
	}
	for _, opt := range []string{"--partition", "--account", "--qos"} {
		if strings.Contains(array, opt) || strings.Contains(readSlurmFile(t, f.Render), opt) {
			t.Errorf("empty %s written", opt)
		}
	}
	if st, err := os.Stat(filepath.Join(a.Dir, "logs")); err != nil || !st.IsDir() {
		t.Errorf("no logs folder: %v", err)
	}
	if lines := strings.Split(strings.TrimSuffix(readSlurmFile(t, f.Tasks), "\n"), "\n"); len(lines) != 8 || lines[3] != pending[3].Command("/opt/relora") {
		t.Errorf("task list: %q", lines)
	}
	render := readSlurmFile(t, f.Render)
	for _, want := range []string{"/opt/relora ablation -preset quick\n", "#SBATCH --time=00:30:00\n", "#SBATCH --mem=2048M\n", pending[5].Dir + "\n"} {
		if !strings.Contains(render, want) {
			t.Errorf("render script lacks %q:\n%s", want, render)
		}
	}
	sub := readSlurmFile(t, f.Submit)
	if !strings.Contains(sub, "sbatch --parsable --dependency=afterany:$jid") || !strings.Contains(sub, "sbatch --parsable \"$@\" "+f.Array) {
		t.Errorf("submit script:\n%s", sub)
	}

	a.Throttle, a.Partition, a.Account, a.QOS = 3, "cpu", "proj1", "long"
	a.Binary = "relative/relora"
	if _, err := WriteSlurm(a); err == nil {
		t.Error("a relative binary path accepted")
	}
	a.Binary = "/opt/relora"
	dir0 := a.Dir
	a.Dir = filepath.Join(dir, "my runs")
	if _, err := WriteSlurm(a); err == nil {
		t.Error("a folder with a blank accepted in #SBATCH --output")
	}
	a.Dir = dir0
	if f, err = WriteSlurm(a); err != nil {
		t.Fatal(err)
	}
	array = readSlurmFile(t, f.Array)
	for _, want := range []string{"#SBATCH --array=0-7%3\n", "#SBATCH --partition=cpu\n", "#SBATCH --account=proj1\n", "#SBATCH --qos=long\n"} {
		if !strings.Contains(array, want) || (want != "#SBATCH --array=0-7%3\n" && !strings.Contains(readSlurmFile(t, f.Render), want)) {
			t.Errorf("scripts lack %q", want)
		}
	}
}

func readSlurmFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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

// A % in the runs folder is a literal % in sbatch's --output pattern (%%),
// while the job's own placeholders stay placeholders.
func TestSlurmOutputEscapesPercent(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "100%runs")
	pending, err := Unfinished(experiments.Configs(experiments.Ablation(p))[:1], filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	a := SlurmArray{Name: "ablation", Dir: filepath.Join(dir, "slurm"), Binary: "/opt/relora", Runs: pending,
		Render: []string{"/opt/relora", "ablation"}, RenderTime: time.Minute, RenderMem: 1 << 30, RenderCPUs: 1}
	f, err := WriteSlurm(a)
	if err != nil {
		t.Fatal(err)
	}
	logs := strings.ReplaceAll(filepath.Join(a.Dir, "logs"), "%", "%%")
	for file, want := range map[string]string{f.Array: logs + "/%A_%a.out\n", f.Render: logs + "/%j-render.out\n"} {
		if s := readSlurmFile(t, file); !strings.Contains(s, "#SBATCH --output="+want) {
			t.Errorf("%s: --output is not %q:\n%s", file, want, s)
		}
	}
}

// A fine-tuning run's array task names the pre-trained checkpoint it
// starts from, which config.json does not hold.
func TestPendingCommandNamesTheCheckpoint(t *testing.T) {
	p := Pending{Config: train.Config{WarmStartFrom: "/shared/runs/abc/checkpoint.safetensors"}, ConfigPath: "/r/x/config.json", Dir: "/r/x"}
	if c := p.Command("/bin/relora"); !strings.Contains(c, "--warm-start-from /shared/runs/abc/checkpoint.safetensors") {
		t.Fatalf("command %q lacks the checkpoint", c)
	}
	if c := (Pending{ConfigPath: "c", Dir: "d"}).Command("b"); strings.Contains(c, "warm-start") {
		t.Fatalf("a run without a checkpoint: %q", c)
	}
}
