package runner

import (
	"embed"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/template"
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
// line, with the paths quoted for sh). A run that starts from a checkpoint
// (a fine-tuning run's pre-trained model) names it: the path is not part of
// config.json.
func (p Pending) Command(binary string) string {
	from := ""
	if p.Config.WarmStartFrom != "" {
		from = " --warm-start-from " + ShellQuote(p.Config.WarmStartFrom)
	}
	return fmt.Sprintf("%s train --config %s --out %s%s --threads 1 --quiet", ShellQuote(binary), ShellQuote(p.ConfigPath), ShellQuote(p.Dir), from)
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
	if err := a.check(); err != nil {
		return SlurmFiles{}, err
	}
	if a.TimeScale <= 0 {
		a.TimeScale = 1
	}
	f := a.files()
	limits := a.limits()
	f.Time, f.Mem = limits.Time, limits.Mem
	if err := os.MkdirAll(a.logs(), 0o755); err != nil {
		return f, err
	}
	texts, err := renderSlurmFiles(f, newSlurmScripts(a, f, limits))
	if err != nil {
		return f, err
	}
	return f, writeSlurmFiles(texts)
}

// check refuses what the scripts could not run from: no runs, relative
// paths (nodes do not share the working directory) and a folder sbatch's
// --output cannot take.
func (a SlurmArray) check() error {
	if len(a.Runs) == 0 {
		return fmt.Errorf("slurm: no runs to submit")
	}
	for _, p := range []string{a.Dir, a.Binary} {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("slurm: %q is not an absolute path (nodes do not share the working directory)", p)
		}
	}
	if strings.ContainsAny(a.Dir, " \t\n'\"\\") {
		return fmt.Errorf("slurm: %q: #SBATCH --output cannot take a path with blanks or quotes; use another runs folder", a.Dir)
	}
	return nil
}

// files are the paths WriteSlurm writes, without the limits.
func (a SlurmArray) files() SlurmFiles {
	return SlurmFiles{
		Array:  filepath.Join(a.Dir, a.Name+".sbatch"),
		Render: filepath.Join(a.Dir, a.Name+"-render.sbatch"),
		Tasks:  filepath.Join(a.Dir, a.Name+".tasks"),
		Submit: filepath.Join(a.Dir, "submit-"+a.Name+".sh"),
	}
}

func (a SlurmArray) logs() string { return filepath.Join(a.Dir, "logs") }

// arrayLimits are the array's time limit and memory (the largest run's)
// and the range of the runs' own time limits, which the array script
// reports so a reader sees how much the largest run dominates.
type arrayLimits struct {
	Time              time.Duration
	Mem               int64
	Shortest, Longest time.Duration
}

func (a SlurmArray) limits() arrayLimits {
	var l arrayLimits
	for i, p := range a.Runs {
		t, mem := SlurmLimits(p.Config, a.TimeScale)
		l.Time, l.Mem = max(l.Time, t), max(l.Mem, mem)
		if i == 0 || t < l.Shortest {
			l.Shortest = t
		}
		l.Longest = max(l.Longest, t)
	}
	return l
}

// The three scripts' text is kept beside this file so each reads as the
// script it is; slurm_sbatch_options.tmpl holds the #SBATCH lines the
// array and the render script share.
//
//go:embed slurm_array.sh.tmpl slurm_render.sh.tmpl slurm_submit.sh.tmpl slurm_sbatch_options.tmpl
var slurmTemplateFiles embed.FS

var slurmTemplates = template.Must(template.ParseFS(slurmTemplateFiles, "*.tmpl"))

// slurmScripts is what the script templates fill in, every value already
// formatted: a …Word is quoted for sh and a …Pattern escaped for an sbatch
// filename pattern, so the templates do no quoting of their own and a
// reader sees which text is which.
type slurmScripts struct {
	Name        string
	Tasks       int    // one per run
	TaskRange   string // --array: "0-<last>", "%<throttle>" when capped
	Time, Mem   string // every task's (the largest run's)
	Shortest    string // the runs' own time limits
	Longest     string
	TimeScale   string
	Binary      string
	Options     []string // "partition=p": the sbatch options the caller chose
	Commands    []string // each task's sh command, in task order
	Logs        string   // the logs folder, as the submit script prints it
	LogsWord    string
	LogsPattern string
	Submit      string
	SubmitWord  string
	ArrayWord   string
	RenderWord  string

	RenderCPUs            int
	RenderTime, RenderMem string
	RunDirWords           []string // the runs the render job checks
	RenderCommand         string   // the table command, for sh
	RegenerateCommand     string   // the `relora slurm` command, for sh
}

// newSlurmScripts formats, quotes and escapes everything the scripts
// print, in one place, from the array, its paths and its limits.
func newSlurmScripts(a SlurmArray, f SlurmFiles, l arrayLimits) slurmScripts {
	logs := a.logs()
	s := slurmScripts{
		Name:              a.Name,
		Tasks:             len(a.Runs),
		TaskRange:         taskRange(len(a.Runs), a.Throttle),
		Time:              SlurmTime(l.Time),
		Mem:               SlurmMem(l.Mem),
		Shortest:          SlurmTime(l.Shortest),
		Longest:           SlurmTime(l.Longest),
		TimeScale:         fmt.Sprintf("%g", a.TimeScale),
		Binary:            a.Binary,
		Options:           a.sbatchOptions(),
		Logs:              logs,
		LogsWord:          ShellQuote(logs),
		LogsPattern:       escapePattern(logs),
		Submit:            f.Submit,
		SubmitWord:        ShellQuote(f.Submit),
		ArrayWord:         ShellQuote(f.Array),
		RenderWord:        ShellQuote(f.Render),
		RenderCPUs:        max(1, a.RenderCPUs),
		RenderTime:        SlurmTime(a.RenderTime),
		RenderMem:         SlurmMem(a.RenderMem),
		RenderCommand:     shellJoin(a.Render),
		RegenerateCommand: shellJoin(a.Regenerate),
	}
	for _, p := range a.Runs {
		s.Commands = append(s.Commands, p.Command(a.Binary))
		s.RunDirWords = append(s.RunDirWords, ShellQuote(p.Dir))
	}
	return s
}

// taskRange is sbatch's --array for n tasks, with at most throttle of
// them running at once when throttle > 0.
func taskRange(n, throttle int) string {
	r := fmt.Sprintf("0-%d", n-1)
	if throttle > 0 {
		r += fmt.Sprintf("%%%d", throttle)
	}
	return r
}

// sbatchOptions are the options the caller set, as name=value; an empty
// one is left to the cluster's default.
func (a SlurmArray) sbatchOptions() []string {
	var out []string
	for _, o := range []struct{ flag, v string }{{"partition", a.Partition}, {"account", a.Account}, {"qos", a.QOS}} {
		if o.v != "" {
			out = append(out, o.flag+"="+o.v)
		}
	}
	return out
}

// slurmText is one file WriteSlurm writes and its mode: the scripts are
// executable, the task list is not.
type slurmText struct {
	path, text string
	mode       os.FileMode
}

// renderSlurmFiles renders every file before any is written, so a
// template error leaves no half-written set of scripts behind.
func renderSlurmFiles(f SlurmFiles, s slurmScripts) ([]slurmText, error) {
	out := []slurmText{{f.Tasks, strings.Join(s.Commands, "\n") + "\n", 0o644}}
	for _, t := range []struct{ path, template string }{
		{f.Array, "slurm_array.sh.tmpl"}, {f.Render, "slurm_render.sh.tmpl"}, {f.Submit, "slurm_submit.sh.tmpl"},
	} {
		var b strings.Builder
		if err := slurmTemplates.ExecuteTemplate(&b, t.template, s); err != nil {
			return nil, fmt.Errorf("slurm: %w", err)
		}
		out = append(out, slurmText{t.path, b.String(), 0o755})
	}
	return out, nil
}

func writeSlurmFiles(texts []slurmText) error {
	for _, w := range texts {
		if err := atomicfile.Write(w.path, []byte(w.text)); err != nil {
			return err
		}
		if err := os.Chmod(w.path, w.mode); err != nil {
			return err
		}
	}
	return nil
}

// escapePattern makes a path literal in an sbatch filename pattern
// (--output), where % starts a replacement (%A, %a, %j) and %% is a %.
func escapePattern(path string) string { return strings.ReplaceAll(path, "%", "%%") }

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
