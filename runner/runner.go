// Package runner executes a matrix of training runs: each run lives in
// runs/<hash>/ keyed by a hash of its full config, finished runs are reused,
// interrupted ones resume from their checkpoint, and N workers run N
// single-threaded runs at once so a matrix uses every core without
// oversubscribing them.
package runner

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/relorago/harness/progress"
	"github.com/relorago/harness/train"
)

// schema is mixed into every hash. Bump it when a code change alters the
// numbers a config produces, so cached runs are not mistaken for new ones.
const schema = "relora-harness/2" // 2: the fused LoRA op trains every low-rank run

// Hash returns the run's cache key: a hash of its full config (the fields
// that determine the numbers; threads and output paths are not among them).
func Hash(cfg train.Config) string {
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // train.Config is plain data
	}
	sum := sha256.Sum256(append([]byte(schema+"\n"), b...))
	return hex.EncodeToString(sum[:8])
}

// Dir returns the run's folder under runsDir.
func Dir(runsDir string, cfg train.Config) string {
	return filepath.Join(runsDir, Hash(cfg))
}

// Options control Execute.
type Options struct {
	RunsDir string    // where run folders live (default "runs")
	Jobs    int       // parallel single-threaded runs (default 1)
	Log     io.Writer // progress and one line per finished run (nil = stderr)
	Quiet   bool      // no progress bar

	// RecordsDir holds committed run records (see Record): a run the cache
	// lacks but a record has is read from the record, not trained, unless
	// Verify says to train it again (and Record then compares the two).
	RecordsDir string
	Verify     func(train.Config) bool
}

// Outcome is one run of a matrix after Execute.
type Outcome struct {
	Config train.Config
	Dir    string
	Result *train.Result // nil when Err is set
	Cached bool          // the result was already there
	Err    error         // the run could not be done (bad config, I/O); divergence is not an error
}

// Execute makes sure every config has a result: it reads finished runs from
// their folders and trains the others, Jobs at a time. It returns one
// outcome per config, in order, and an error joining the failed runs' errors;
// a failed or diverged run does not stop the others.
func Execute(configs []train.Config, opt Options) ([]Outcome, error) {
	opt = opt.withDefaults()
	out, todo, steps := lookUp(configs, opt)
	bar := newBar(opt, steps, len(todo), len(configs))
	trainAll(out, seedBySeed(out, todo), opt, bar)
	bar.Finish()
	shareDuplicates(out, todo)
	return out, failures(out)
}

func (opt Options) withDefaults() Options {
	if opt.RunsDir == "" {
		opt.RunsDir = "runs"
	}
	if opt.Jobs < 1 {
		opt.Jobs = 1
	}
	if opt.Log == nil {
		opt.Log = os.Stderr
	}
	return opt
}

// lookUp gives every config its outcome where a run folder or a record
// already has it, and returns the indices of the runs left to train, each
// run once however often the matrix lists it, and the steps they lack (for
// the progress bar).
func lookUp(configs []train.Config, opt Options) (out []Outcome, todo []int, steps int) {
	out = make([]Outcome, len(configs))
	seen := map[string]bool{}
	for i, cfg := range configs {
		dir := Dir(opt.RunsDir, cfg)
		out[i] = Outcome{Config: cfg, Dir: dir}
		if readFinished(&out[i], opt) || seen[dir] {
			continue
		}
		seen[dir] = true
		todo = append(todo, i)
		steps += cfg.Steps - stepsDone(dir)
	}
	return out, todo, steps
}

// readFinished fills o from its run folder or, unless the run is to be
// verified (trained again), from its record, and says whether either had
// the run.
func readFinished(o *Outcome, opt Options) bool {
	if res, err := train.ReadResult(o.Dir); err == nil {
		o.Result, o.Cached = res, true
		return true
	}
	if opt.RecordsDir == "" || (opt.Verify != nil && opt.Verify(o.Config)) {
		return false
	}
	rec := RecordDir(opt.RecordsDir, o.Config)
	res, ok, err := readRecord(rec)
	if !ok {
		return false
	}
	o.Dir, o.Result, o.Err, o.Cached = rec, res, err, err == nil
	return true
}

// seedBySeed orders the runs to train seed by seed, in the given order
// within a seed: a matrix stopped part-way (a long one trained in several
// sittings) leaves whole seeds finished, so its table can render, rather
// than all seeds of a few rows.
func seedBySeed(out []Outcome, todo []int) []int {
	order := slices.Clone(todo)
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(out[a].Config.Seed, out[b].Config.Seed) })
	return order
}

// trainAll trains out[i] for each i of order, Jobs runs at once on one
// core each, and logs a line per finished run.
func trainAll(out []Outcome, order []int, opt Options, bar progress.Bar) {
	var mu sync.Mutex // serialises log lines and the bar
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(opt.Jobs, max(1, len(order))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res, err := runSafely(matrixRunConfig(out[i], bar))
				out[i].Result, out[i].Err = res, err
				mu.Lock()
				bar.Clear()
				fmt.Fprintln(opt.Log, describe(out[i]))
				mu.Unlock()
			}
		}()
	}
	for _, i := range order {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// matrixRunConfig is how a matrix trains o's run: into its folder, on one
// core, quietly (the bar shows the progress).
func matrixRunConfig(o Outcome, bar progress.Bar) train.Config {
	cfg := o.Config
	cfg.OutDir, cfg.Threads, cfg.Quiet = o.Dir, 1, true
	// Another matrix training the same run: wait for it, then take its
	// result instead of training the run twice.
	cfg.WaitForLock = true
	cfg.OnStep = func(int) { bar.Add(1) }
	return cfg
}

// shareDuplicates gives a run the matrix lists more than once the outcome
// of the one copy that was trained.
func shareDuplicates(out []Outcome, trained []int) {
	byDir := map[string]Outcome{}
	for _, i := range trained {
		byDir[out[i].Dir] = out[i]
	}
	for i := range out {
		if out[i].Result == nil && out[i].Err == nil {
			o := byDir[out[i].Dir]
			out[i].Result, out[i].Err = o.Result, o.Err
		}
	}
}

// failures joins the errors of the runs that could not be done, in order.
func failures(out []Outcome) error {
	var errs []error
	for _, o := range out {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", o.Dir, o.Err))
		}
	}
	return errors.Join(errs...)
}

// runSafely runs one training run, turning a panic into an error so one
// broken run cannot take the whole matrix down.
func runSafely(cfg train.Config) (res *train.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return train.Run(cfg)
}

// stepsDone returns how many steps an interrupted run has checkpointed.
func stepsDone(dir string) int {
	ck, err := train.LoadCheckpoint(filepath.Join(dir, train.CheckpointFile))
	if err != nil {
		return 0
	}
	return ck.Step
}

func describe(o Outcome) string {
	if o.Err != nil {
		return fmt.Sprintf("✗ %s: %v", o.Dir, o.Err)
	}
	r := o.Result
	s := fmt.Sprintf("✓ %s  %-7s %-8s seed %d: val loss %.4f (ppl %.2f) in %s", o.Dir, o.Config.ReLoRA.Method, r.Status,
		o.Config.Seed, r.FinalVal.Loss, float64(r.FinalVal.Perplexity), time.Duration(r.WallSeconds*float64(time.Second)).Round(time.Second))
	return s
}

func newBar(opt Options, steps, runs, all int) progress.Bar {
	fmt.Fprintf(opt.Log, "%d runs: %d cached, %d to train (%d steps, %d at a time)\n", all, all-runs, runs, steps, opt.Jobs)
	if opt.Quiet {
		return progress.New(nil, "", "", 0, 0)
	}
	return progress.New(opt.Log, "matrix", "step", steps, 0)
}
