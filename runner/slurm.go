package runner

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/relorago/harness/atomicfile"
	"github.com/relorago/harness/data"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// Slurm job arrays: a matrix's unfinished runs become one array task each,
// and a render job that starts after the whole array builds the table from
// the run folders. A task is one `relora train --out <run folder>`, which
// resumes from the folder's checkpoint or returns at once when the run is
// finished, so a task that Slurm requeues (node failure, preemption,
// `scontrol requeue`) simply runs again. The run folders must be on a
// filesystem every node sees.

// Pending is a run that is not finished: its folder holds its config.json
// (written by Unfinished) and maybe a checkpoint to resume from.
type Pending struct {
	Config     train.Config
	Dir        string // the run folder
	ConfigPath string // Dir/config.json
}

// Unfinished is WriteCommands' run list as data: it writes each config to
// its run folder and returns, once each and in order, the runs without a
// result.json.
func Unfinished(configs []train.Config, runsDir string) ([]Pending, error) {
	var out []Pending
	seen := map[string]bool{}
	for _, cfg := range configs {
		dir := Dir(runsDir, cfg)
		if seen[dir] {
			continue
		}
		seen[dir] = true
		if _, err := train.ReadResult(dir); err == nil {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, train.ConfigFile)
		if err := train.WriteConfig(path, cfg); err != nil {
			return nil, err
		}
		out = append(out, Pending{Config: cfg, Dir: dir, ConfigPath: path})
	}
	return out, nil
}

// Command is the shell command that trains p on one core (WriteCommands'
// line, with the paths quoted for sh).
func (p Pending) Command(binary string) string {
	return fmt.Sprintf("%s train --config %s --out %s --threads 1 --quiet", ShellQuote(binary), ShellQuote(p.ConfigPath), ShellQuote(p.Dir))
}

// ShellQuote returns s as one sh word: as it is when it holds only
// characters sh leaves alone, in single quotes otherwise.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// How a run's Slurm time limit and memory are derived (SlurmLimits; the
// measurements behind the constants are in docs/cluster.md).
//
// Time: the run's floating-point work, Steps × model.Config.FLOPsPerStep
// (the full-rank model's count, as train.Stepper reports it) plus its
// evaluations (Steps/EvalEvery + 2 of them, each a forward pass, a third of
// a step's FLOPs per sequence, over ValWindows windows), divided by
// slurmFLOPRate, a whole-run rate (evaluation, checkpoints and loading
// included) below every rate measured with this harness's AVX2 kernels on
// one core. The estimate is multiplied by slurmTimeSafety (and by the
// caller's scale, for slower nodes: the portable GEMM without AVX2 is
// several times slower), slurmStartup is added, and the limit is at least
// slurmTimeFloor, rounded up to a minute.
//
// Memory: the step's activations and gradients (the kernels' arena), a
// fit to the arena train.Stepper measures on shapes from d 32 to 128, 2 to
// 6 layers, T 32 to 256, batch 8 to 32 and LoRA rank 0 to 32 (the fit is at
// or a little above each): per token,
// layers·(26·d + 7·ffn + 1.25·heads·T + 14·r) + 4·vocab floats; plus
// slurmBytesPerParam per parameter (LoRA factors included: weights,
// gradients, two AdamW moments, the checkpoint's encoding and a copy);
// plus the corpus, held in memory whole; plus slurmMemBase for the Go
// runtime and the binary. The sum is doubled (Go's garbage collector lets
// the heap grow to twice what is live), rounded up to 64 MiB and at least
// slurmMemFloor.
const (
	slurmFLOPRate      = 10e9
	slurmTimeSafety    = 2.0
	slurmStartup       = 2 * time.Minute
	slurmTimeFloor     = 10 * time.Minute
	slurmBytesPerParam = 24
	slurmMemBase       = 64 << 20
	slurmMemSafety     = 2
	slurmMemFloor      = 512 << 20
	slurmMemRound      = 64 << 20
)

// Cost is what SlurmLimits estimates for one run on one core, before
// safety factors.
type Cost struct {
	FLOPs     float64 // training steps and evaluations
	Seconds   float64 // FLOPs at slurmFLOPRate
	Bytes     int64   // activations + parameter state + corpus + runtime
	Corpus    int64   // the corpus' estimated size in memory
	Params    int     // parameters, LoRA factors included
	ArenaSize int64   // activations and gradients of a step
}

// EstimateCost estimates a run's work and memory (see SlurmLimits).
func EstimateCost(cfg train.Config) Cost {
	m := cfg.Model
	corpus := corpusBytes(cfg.Data)
	step := m.FLOPsPerStep(cfg.Batch, 0, 0)
	windows := float64(cfg.ValWindows)
	if windows == 0 { // every validation window
		windows = math.Ceil(float64(corpus) * cfg.ValFrac / float64(max(1, m.SeqLen)))
	}
	evals := float64(cfg.Steps/max(1, cfg.EvalEvery) + 2)
	flops := float64(cfg.Steps)*step + evals*windows*m.FLOPsPerStep(1, 0, 0)/3

	rank := 0
	if cfg.ReLoRA.Method == relora.MethodLoRA {
		rank = cfg.ReLoRA.Rank
	}
	params := m.NumParams() + m.Layers*rank*(11*m.Dim+3*m.FFN)
	perToken := m.Layers*(26*m.Dim+7*m.FFN+14*rank) + 4*m.Vocab
	arena := 4 * (float64(perToken) + 1.25*float64(m.Layers*m.Heads*m.SeqLen)) * float64(cfg.Batch*m.SeqLen)
	bytes := int64(arena) + int64(params)*slurmBytesPerParam + corpus + slurmMemBase
	return Cost{FLOPs: flops, Seconds: flops / slurmFLOPRate, Bytes: bytes, Corpus: corpus, Params: params, ArenaSize: int64(arena)}
}

// SlurmLimits returns the time limit and memory to ask Slurm for one run
// on one core; timeScale (1 = this harness's measured speed) stretches
// the time for slower nodes. See the constants above for the derivation.
func SlurmLimits(cfg train.Config, timeScale float64) (time.Duration, int64) {
	c := EstimateCost(cfg)
	t := time.Duration(c.Seconds*slurmTimeSafety*timeScale*float64(time.Second)) + slurmStartup
	t = max(slurmTimeFloor, (t+time.Minute-1)/time.Minute*time.Minute)
	mem := max(int64(slurmMemFloor), (c.Bytes*slurmMemSafety+slurmMemRound-1)/slurmMemRound*slurmMemRound)
	return t, mem
}

// corpusBytes estimates a corpus' size in memory: the built-in ones are
// known (gostd is ~71 MB at Go 1.26 and grows with Go versions), a path is
// measured on this machine (gzip taken as 5× compression); a path this
// machine cannot see counts as 1 GiB.
func corpusBytes(source string) int64 {
	const gz = 5
	switch source {
	case data.SourceOpticks:
		return 600_000
	case data.SourceGoStd:
		return 80_000_000
	}
	var n int64
	err := filepath.WalkDir(source, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size := info.Size()
		if strings.HasSuffix(strings.ToLower(path), ".gz") {
			size *= gz
		}
		n += size
		return nil
	})
	if err != nil {
		return 1 << 30
	}
	return n
}

// SlurmArray describes one table's job array and its render job.
type SlurmArray struct {
	Name   string    // the table ("ablation"): job and file names
	Dir    string    // absolute: scripts, the task list and logs/ go here
	Binary string    // absolute path of the relora binary every node runs
	Runs   []Pending // one array task each, in order
	// Throttle caps the tasks running at once (0 = no cap).
	Throttle int
	// Partition, Account and QOS are passed to sbatch when not empty.
	Partition, Account, QOS string
	// TimeScale stretches every time limit (1 = this harness's speed).
	TimeScale float64
	// Render is the table command the render job runs (argv; the binary
	// first), RenderTime, RenderMem and RenderCPUs its resources.
	// Regenerate is the `relora slurm` command that wrote these files: when
	// runs failed, the render job says to run it again (it lists only the
	// unfinished runs) and then the submit script.
	Render, Regenerate []string
	RenderTime         time.Duration
	RenderMem          int64
	RenderCPUs         int
}

// SlurmFiles are what WriteSlurm wrote, and the array's limits.
type SlurmFiles struct {
	Array, Render, Tasks, Submit string // paths
	Time                         time.Duration
	Mem                          int64
}

// WriteSlurm writes the array's sbatch script (<Dir>/<Name>.sbatch, one
// task per run: the commands are inside the script, which sbatch copies at
// submission, so regenerating the files never changes a submitted array),
// the render job's (<Name>-render.sbatch), the task list (<Name>.tasks, one
// command a line, for other schedulers and for reading) and the submit
// script (submit-<Name>.sh), and creates <Dir>/logs. Every task asks for the
// largest run's limits: an array has one time limit and one memory size.
func WriteSlurm(a SlurmArray) (SlurmFiles, error) {
	if len(a.Runs) == 0 {
		return SlurmFiles{}, fmt.Errorf("slurm: no runs to submit")
	}
	for _, p := range []string{a.Dir, a.Binary} {
		if !filepath.IsAbs(p) {
			return SlurmFiles{}, fmt.Errorf("slurm: %q is not an absolute path (nodes do not share the working directory)", p)
		}
	}
	if strings.ContainsAny(a.Dir, " \t\n'\"\\") {
		return SlurmFiles{}, fmt.Errorf("slurm: %q: #SBATCH --output cannot take a path with blanks or quotes; use another runs folder", a.Dir)
	}
	if a.TimeScale <= 0 {
		a.TimeScale = 1
	}
	f := SlurmFiles{
		Array:  filepath.Join(a.Dir, a.Name+".sbatch"),
		Render: filepath.Join(a.Dir, a.Name+"-render.sbatch"),
		Tasks:  filepath.Join(a.Dir, a.Name+".tasks"),
		Submit: filepath.Join(a.Dir, "submit-"+a.Name+".sh"),
	}
	var lo, hi time.Duration
	for i, p := range a.Runs {
		t, mem := SlurmLimits(p.Config, a.TimeScale)
		f.Time, f.Mem = max(f.Time, t), max(f.Mem, mem)
		if i == 0 || t < lo {
			lo = t
		}
		hi = max(hi, t)
	}
	logs := filepath.Join(a.Dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return f, err
	}

	var tasks strings.Builder
	for _, p := range a.Runs {
		tasks.WriteString(p.Command(a.Binary) + "\n")
	}

	n := len(a.Runs)
	arr := fmt.Sprintf("0-%d", n-1)
	if a.Throttle > 0 {
		arr += fmt.Sprintf("%%%d", a.Throttle)
	}
	var s strings.Builder
	s.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&s, "#SBATCH --job-name=relora-%s\n", a.Name)
	fmt.Fprintf(&s, "#SBATCH --array=%s\n", arr)
	s.WriteString("#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n")
	fmt.Fprintf(&s, "#SBATCH --time=%s\n#SBATCH --mem=%s\n", SlurmTime(f.Time), SlurmMem(f.Mem))
	fmt.Fprintf(&s, "#SBATCH --output=%s\n", filepath.Join(escapePattern(logs), "%A_%a.out"))
	s.WriteString("#SBATCH --requeue\n#SBATCH --open-mode=append\n")
	writePassThrough(&s, a)
	fmt.Fprintf(&s, `#
# relora %[1]s: %[2]d unfinished runs, one per array task, one core each.
# Generated by `+"`relora slurm`"+`; submit with: bash %[3]s
#
# Every node must see %[4]s (the binary), the run folders below and the
# Go installation the binary was built with (the built-in corpora are read
# from its source tree) at the same paths: a shared filesystem.
#
# Limits: the largest run's (an array has one time limit and one memory
# size); per run %[5]s to %[6]s. Time = (steps × FLOPs per step +
# evaluations) at 10 GFLOP/s × 2 × time scale %[7]g + 2 min start-up, at
# least 10 min. Memory = 2 × (activations per step + 24 B per parameter +
# corpus + 64 MiB runtime), at least 512 MiB. See runner/slurm.go and
# docs/cluster.md.
#
# Requeue-safe: a requeued task runs its command again, and `+"`relora train --out`"+`
# resumes from the run's last checkpoint (every few hundred steps), or
# returns at once when the run is finished. Logs append across requeues.

export GOMAXPROCS=${SLURM_CPUS_PER_TASK:-1}
i=${SLURM_ARRAY_TASK_ID:?not a Slurm array task}
echo "relora-slurm: task $i of job ${SLURM_ARRAY_JOB_ID:-?} (restart ${SLURM_RESTART_COUNT:-0}) on $(hostname) at $(date -u +%%FT%%TZ)"
case "$i" in
`, a.Name, n, f.Submit, a.Binary, SlurmTime(lo), SlurmTime(hi), a.TimeScale)
	for i, p := range a.Runs {
		fmt.Fprintf(&s, "%d) %s ;;\n", i, p.Command(a.Binary))
	}
	s.WriteString(`*) echo "relora-slurm: no task $i in this array" >&2; exit 2 ;;
esac
rc=$?
echo "relora-slurm: task $i exit $rc"
exit $rc
`)

	var r strings.Builder
	r.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&r, "#SBATCH --job-name=relora-%s-render\n", a.Name)
	fmt.Fprintf(&r, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", max(1, a.RenderCPUs))
	fmt.Fprintf(&r, "#SBATCH --time=%s\n#SBATCH --mem=%s\n", SlurmTime(a.RenderTime), SlurmMem(a.RenderMem))
	fmt.Fprintf(&r, "#SBATCH --output=%s\n", filepath.Join(escapePattern(logs), "%j-render.out"))
	writePassThrough(&r, a)
	fmt.Fprintf(&r, `#
# Renders relora %[1]s after its array job (submit-%[1]s.sh passes the
# array's job id as $1 and submits this with --dependency=afterany:<id>).
# A run without result.json is listed with the end of its task's log and
# nothing is rendered (the render would train it here, on one core): the
# `+"`relora slurm`"+` command that wrote these files, run again, submits only
# the unfinished runs.

array=${1:-}
logs=%[2]s
runs=(
`, a.Name, ShellQuote(logs))
	for _, p := range a.Runs {
		fmt.Fprintf(&r, "  %s\n", ShellQuote(p.Dir))
	}
	fmt.Fprintf(&r, `)
echo "relora-slurm: rendering %[1]s after array job ${array:-?}: ${#runs[@]} runs"
if [ -n "$array" ]; then
  # Attempts that ended with a non-zero exit (a later requeued attempt may
  # have finished the run; the check below is what counts).
  grep -H 'relora-slurm: task [0-9]* exit [1-9]' "$logs/${array}"_*.out 2>/dev/null | sed 's/^/relora-slurm: non-zero exit: /'
fi
missing=0
for i in "${!runs[@]}"; do
  if [ ! -f "${runs[$i]}/result.json" ]; then
    missing=$((missing + 1))
    log="$logs/${array}_$i.out"
    echo "relora-slurm: FAILED run (task $i): ${runs[$i]} has no result.json; log: $log"
    [ -f "$log" ] && tail -n 5 "$log" | sed 's/^/    /'
  fi
done
if [ "$missing" -gt 0 ]; then
  echo "relora-slurm: $missing of ${#runs[@]} runs unfinished: not rendering. Resubmit them with:"
  cat <<'RELORA_EOF'
  %[2]s && bash %[3]s
RELORA_EOF
  exit 1
fi
`, a.Name, shellJoin(a.Regenerate), ShellQuote(f.Submit))
	fmt.Fprintf(&r, `%s
rc=$?
echo "relora-slurm: render exit $rc"
exit $rc
`, shellJoin(a.Render))

	sub := fmt.Sprintf(`#!/bin/sh
# Submits relora %[1]s: the array (%[2]d tasks) and, after it, the render job.
# Extra arguments go to both sbatch calls (e.g. --reservation=NAME).
set -e
jid=$(sbatch --parsable "$@" %[3]s)
jid=${jid%%%%;*}
rid=$(sbatch --parsable --dependency=afterany:$jid "$@" %[4]s "$jid")
rid=${rid%%%%;*}
echo "submitted array job $jid (%[2]d tasks) and render job $rid (after it)"
echo "watch: squeue -j $jid,$rid; logs: %[5]s"
echo "array=$jid render=$rid"
`, a.Name, n, ShellQuote(f.Array), ShellQuote(f.Render), logs)

	for _, w := range []struct {
		path, text string
		mode       os.FileMode
	}{{f.Tasks, tasks.String(), 0o644}, {f.Array, s.String(), 0o755}, {f.Render, r.String(), 0o755}, {f.Submit, sub, 0o755}} {
		if err := atomicfile.Write(w.path, []byte(w.text)); err != nil {
			return f, err
		}
		if err := os.Chmod(w.path, w.mode); err != nil {
			return f, err
		}
	}
	return f, nil
}

// escapePattern makes a path literal in an sbatch filename pattern
// (--output), where % starts a replacement (%A, %a, %j) and %% is a %.
func escapePattern(path string) string { return strings.ReplaceAll(path, "%", "%%") }

func writePassThrough(s *strings.Builder, a SlurmArray) {
	for _, o := range []struct{ flag, v string }{{"partition", a.Partition}, {"account", a.Account}, {"qos", a.QOS}} {
		if o.v != "" {
			fmt.Fprintf(s, "#SBATCH --%s=%s\n", o.flag, o.v)
		}
	}
}

// shellJoin quotes each word of argv for sh and joins them.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, w := range argv {
		q[i] = ShellQuote(w)
	}
	return strings.Join(q, " ")
}

// SlurmTime formats a duration as sbatch's --time: [D-]HH:MM:SS.
func SlurmTime(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	days, s := s/86400, s%86400
	t := fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
	if days > 0 {
		t = fmt.Sprintf("%d-%s", days, t)
	}
	return t
}

// SlurmMem formats bytes as sbatch's --mem, in MiB ("576M").
func SlurmMem(b int64) string {
	return fmt.Sprintf("%dM", (b+(1<<20)-1)>>20)
}
