// Package finetune renders Table 5: does ReLoRA help fine-tuning? It reads
// the fine-tuning runs (the learning-rate searches, scored on dev, and the
// seeds at each chosen rate, scored on test, from experiments.FinetuneSpec)
// and builds the per-task test scores by row, the average over tasks with its spread over seeds, the paper's
// numbers beside them and the claims with their verdicts. Build reads run
// outcomes and trains nothing; Write only writes.
package finetune

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/stats"
	"github.com/relorago/harness/tasks"
	"github.com/relorago/harness/train"
)

// Output files, relative to the results folder.
const (
	MarkdownFile = "finetune.md"
	JSONFile     = "finetune.json"
	FigureFile   = "figures/finetune_scores"
)

// Close is how near (points of the average score) "close" and "does not
// outperform" mean in the claims.
const Close = 1.0

// Paper is the paper's Table 5 average GLUE score of a method for T5-base
// and T5-large (NaN where this harness has no number for it: the per-task
// scores and the full fine-tuning row could not be looked up offline).
type Paper struct {
	Base  train.Number `json:"t5_base"`
	Large train.Number `json:"t5_large"`
}

// PaperAverages are the averages the paper reports (Lialin et al., Table
// 5), by row: its LoRA and ReLoRA are parameter-efficient, so they sit
// beside the primary low-rank rows. Rows it lacks have NaN.
var PaperAverages = map[string]Paper{
	"lora":   {85.18, 87.99},
	"relora": {84.57, 87.47},
}

// paper is a row's PaperAverages entry, NaN for a row without one.
func paper(row string) Paper {
	if p, ok := PaperAverages[row]; ok {
		return p
	}
	return Paper{train.Number(math.NaN()), train.Number(math.NaN())}
}

// GridPoint is one learning rate of a search: the dev score of seed 1.
type GridPoint struct {
	LR       float64      `json:"lr"`
	Score    train.Number `json:"score"` // NaN when the run diverged, failed or is missing
	Status   string       `json:"status"`
	Chosen   bool         `json:"chosen"`
	Diverged bool         `json:"diverged,omitempty"`
}

// Seed is one seed's run at the chosen learning rate: its test scores.
type Seed struct {
	Seed    uint64             `json:"seed"`
	Score   train.Number       `json:"score"`   // on test
	Metrics map[string]float64 `json:"metrics"` // on test
	Dev     train.Number       `json:"dev"`     // the dev score, for comparison
	Status  string             `json:"status"`
	Dir     string             `json:"run"`
}

// Cell is one task × row (Method is the row's ID, experiments.FinetuneRows).
type Cell struct {
	Task   string      `json:"task"`
	Method string      `json:"method"`
	Grid   []GridPoint `json:"grid"` // the search's rates, in the order tried
	LR     float64     `json:"lr"`   // chosen; 0 when every search run failed
	// Edge is true when the chosen rate is the lowest or highest searched:
	// the search hit its cap before the best was bracketed.
	Edge      bool         `json:"edge,omitempty"`
	Seeds     []Seed       `json:"seeds"`
	Mean      train.Number `json:"mean"`
	Std       train.Number `json:"std"`
	Trainable int          `json:"trainable_params"`
	Total     int          `json:"total_params"` // the model's and head's parameters, trainable or not
}

// Task describes one task of the suite.
type Task struct {
	Name        string             `json:"name"`
	Like        string             `json:"like"`
	About       string             `json:"about"`
	Source      string             `json:"source"`
	Metrics     []string           `json:"metrics"`
	Classes     []string           `json:"classes,omitempty"`
	Train       int                `json:"train"`
	Dev         int                `json:"dev"`
	Test        int                `json:"test"`
	Baseline    float64            `json:"baseline"` // the majority class's (or mean score's) test score
	BaselineOf  map[string]float64 `json:"baseline_metrics"`
	Example     string             `json:"example"`
	Fingerprint string             `json:"fingerprint"`
	// Heuristics are the task's declared rules of thumb fit on train and
	// scored on dev and test (tasks.Heuristics); Heuristic is the best by training
	// score. Both are empty, and HeuristicNote says why, when this
	// toolchain's examples are not the ones the runs trained on.
	Heuristics    []tasks.HeuristicScore `json:"heuristics,omitempty"`
	Heuristic     *tasks.HeuristicScore  `json:"heuristic,omitempty"`
	HeuristicNote string                 `json:"heuristic_note,omitempty"`
}

// Average is a method's mean score over tasks, per seed and over seeds.
type Average struct {
	Method  string             `json:"method"`
	PerSeed map[uint64]float64 `json:"per_seed"`
	Mean    train.Number       `json:"mean"`
	Std     train.Number       `json:"std"`
	Paper   Paper              `json:"paper"`
}

// Table is Table 5.
type Table struct {
	Preset     string       `json:"preset"`
	About      string       `json:"about"`
	Pretrained string       `json:"pretrained"` // the pre-trained run's hash
	PreAbout   string       `json:"pretrained_about"`
	PreLoss    train.Number `json:"pretrained_val_loss"`
	// ModelParams is the pre-trained model's parameter count (LM head
	// included): the base of each row's trainable share.
	ModelParams int      `json:"model_params"`
	Tasks       []Task   `json:"tasks"`
	Methods     []string `json:"methods"`
	Cells       []Cell   `json:"cells"` // task-major, methods in order
	// Covered are the tasks the averages are over: those on which some
	// method's mean score beats the best heuristic. Excluded are the rest
	// (Cover).
	Covered  []string     `json:"average_covers"`
	Excluded []string     `json:"excluded"`
	Averages []Average    `json:"averages"`
	Baseline train.Number `json:"baseline_average"` // the majority baseline's, over Covered
	// HeuristicAverage is the best heuristics' mean test score over
	// Covered (NaN when one of them has none).
	HeuristicAverage train.Number `json:"heuristic_average"`
}

// Choose picks each (task, method)'s learning rate from its grid runs: the
// best dev score of seed 1, a tie to the smaller rate; diverged and failed
// runs are out. The keys are "task/method".
func Choose(grid []experiments.Run, outs []runner.Outcome) map[string]float64 {
	best := map[string]float64{}
	chosen := map[string]float64{}
	for i, r := range grid {
		res := outs[i].Result
		if res == nil || res.Status != train.StatusOK || res.Finetune == nil {
			continue
		}
		k := experiments.FinetuneRunKey(r)
		lr := r.Config.LR
		if s, ok := best[k]; !ok || res.Finetune.Score > s || (res.Finetune.Score == s && lr < chosen[k]) {
			best[k], chosen[k] = res.Finetune.Score, lr
		}
	}
	return chosen
}

// Build reads the grid runs and the seed runs (in the order the spec gave
// them, with their outcomes) into Table 5.
func Build(p experiments.Preset, spec experiments.FinetuneSpec, grid []experiments.Run, gridOuts []runner.Outcome,
	seeds []experiments.Run, seedOuts []runner.Outcome) (*Table, error) {
	if len(grid) != len(gridOuts) || len(seeds) != len(seedOuts) {
		return nil, fmt.Errorf("finetune: %d grid runs with %d outcomes, %d seed runs with %d outcomes", len(grid), len(gridOuts), len(seeds), len(seedOuts))
	}
	t := &Table{Preset: p.Name, About: spec.About, Pretrained: runner.Hash(spec.Pretrained.Config), PreAbout: spec.PretrainedAbout, Methods: spec.Methods, PreLoss: train.Number(math.NaN())}
	pre, err := model.New(spec.Pretrained.Config.Model, 1)
	if err != nil {
		return nil, err
	}
	t.ModelParams, _ = pre.Count()
	chosen := Choose(grid, gridOuts)
	cells := map[string]*Cell{}
	for _, task := range spec.Tasks {
		for _, m := range spec.Methods {
			t.Cells = append(t.Cells, Cell{Task: task, Method: m, LR: chosen[experiments.FinetuneKey(task, m)]})
		}
	}
	for i := range t.Cells {
		c := &t.Cells[i]
		cells[experiments.FinetuneKey(c.Task, c.Method)] = c
	}
	infos := map[string]*train.FinetuneResult{}
	for i, r := range grid {
		c := cells[experiments.FinetuneRunKey(r)]
		if c == nil {
			continue
		}
		pt := GridPoint{LR: r.Config.LR, Score: train.Number(math.NaN()), Status: "missing", Chosen: r.Config.LR == c.LR}
		if res := gridOuts[i].Result; res != nil {
			pt.Status = res.Status
			if res.Status == train.StatusOK && res.Finetune != nil {
				pt.Score = train.Number(res.Finetune.Score)
				infos[r.Config.Finetune.Task] = res.Finetune
				t.PreLoss = train.Number(res.Finetune.PretrainedValLoss)
			}
			pt.Diverged = res.Status == train.StatusDiverged
		} else if gridOuts[i].Err != nil {
			pt.Status = "failed"
		}
		c.Grid = append(c.Grid, pt)
	}
	for i, r := range seeds {
		c := cells[experiments.FinetuneRunKey(r)]
		if c == nil || r.Config.LR != c.LR || slices.ContainsFunc(c.Seeds, func(s Seed) bool { return s.Seed == r.Seed }) {
			continue
		}
		s := Seed{Seed: r.Seed, Score: train.Number(math.NaN()), Dev: train.Number(math.NaN()), Status: "missing", Dir: seedOuts[i].Dir}
		if res := seedOuts[i].Result; res != nil {
			s.Status = res.Status
			if res.Status == train.StatusOK && res.Finetune != nil {
				s.Dev = train.Number(res.Finetune.Score)
				if te := res.Finetune.Test; te != nil {
					s.Score, s.Metrics = train.Number(te.Score), te.Metrics
				} else {
					s.Status = "no test score"
				}
				infos[r.Config.Finetune.Task] = res.Finetune
			}
			c.Trainable, c.Total = res.TrainableParams, res.TotalParams
		}
		c.Seeds = append(c.Seeds, s)
	}
	for i := range t.Cells {
		c := &t.Cells[i]
		slices.SortFunc(c.Seeds, func(a, b Seed) int { return int(a.Seed) - int(b.Seed) })
		xs := finite(c.Seeds)
		c.Mean, c.Std = train.Number(stats.Mean(xs)), train.Number(stats.Std(xs))
		c.Edge = atEdge(c.Grid, c.LR)
	}
	for _, name := range spec.Tasks {
		info, err := taskInfo(name, spec, infos[name])
		if err != nil {
			return nil, err
		}
		t.Tasks = append(t.Tasks, info)
	}
	t.Cover()
	return t, nil
}

// atEdge reports whether the chosen rate is the lowest or highest of the
// rates searched (with at least one other rate, and one chosen).
func atEdge(grid []GridPoint, lr float64) bool {
	if lr == 0 || len(grid) < 2 {
		return false
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, g := range grid {
		lo, hi = min(lo, g.LR), max(hi, g.LR)
	}
	return lr == lo || lr == hi
}

// finite returns the seeds' scores that are numbers (not diverged or missing).
func finite(seeds []Seed) []float64 {
	var xs []float64
	for _, s := range seeds {
		if !math.IsNaN(float64(s.Score)) {
			xs = append(xs, float64(s.Score))
		}
	}
	return xs
}

// taskInfo describes a task from its generator and, when a run has it, the
// sizes and baseline the runs used.
func taskInfo(name string, spec experiments.FinetuneSpec, res *train.FinetuneResult) (Task, error) {
	tk, err := tasks.Generate(name, spec.TaskSeed)
	if err != nil {
		return Task{}, err
	}
	scored := *tk
	if n := spec.TrainExamples; n > 0 && n < len(scored.Train) {
		scored.Train = scored.Train[:n]
	}
	if n := spec.HeldOutExamples; n > 0 && n < len(scored.Dev) {
		scored.Dev = scored.Dev[:n]
	}
	if n := spec.HeldOutExamples; n > 0 && n < len(scored.Test) {
		scored.Test = scored.Test[:n]
	}
	base := scored.MajorityOn(scored.Test)
	info := Task{Name: name, Like: tk.Like, About: tk.About, Source: tk.Source, Metrics: tk.Metrics, Classes: tk.Classes,
		Train: len(scored.Train), Dev: len(scored.Dev), Test: len(scored.Test), Baseline: base.Score, BaselineOf: base.Metrics, Fingerprint: scored.Fingerprint()}
	mine := info.Fingerprint
	if res != nil {
		// The runs' own record of what they trained on wins over this
		// toolchain's (another Go version ships other test files).
		info.Train, info.Dev, info.Test, info.Baseline, info.BaselineOf, info.Fingerprint = res.Train, res.Dev, res.TestCount, res.Baseline.Score, res.Baseline.Metrics, res.Fingerprint
	}
	if mine != info.Fingerprint {
		// The runs record no heuristic score, and one of other examples
		// would not be comparable with theirs.
		info.HeuristicNote = fmt.Sprintf("not computed: this toolchain's examples (%s) are not the runs' (%s)", mine, info.Fingerprint)
	} else {
		// A heuristic sees each input as the models do, cut to their context.
		info.Heuristics = scored.Heuristics(spec.Pretrained.Config.Model.SeqLen)
		if best, ok := tasks.BestHeuristic(info.Heuristics); ok {
			info.Heuristic = &best
		}
	}
	info.Example = example(scored)
	return info, nil
}

// example shows the first dev example of each label (or the first two for
// the regression task), shortened.
func example(t tasks.Task) string {
	show := func(ex tasks.Example) string {
		s := strconv.Quote(string(ex.A[:min(len(ex.A), 48)]))
		if ex.B != nil {
			s += " ␞ " + strconv.Quote(string(ex.B[:min(len(ex.B), 48)]))
		}
		if t.Regression() {
			return fmt.Sprintf("%s → %.2f", s, ex.Target)
		}
		return fmt.Sprintf("%s → %s", s, t.Classes[ex.Label])
	}
	for _, ex := range t.Dev {
		if t.Regression() && ex.Target > 0 || !t.Regression() && ex.Label == len(t.Classes)-1 {
			return show(ex)
		}
	}
	return show(t.Dev[0])
}

// average is a method's mean score over the named tasks, per seed (seeds
// that every one of them has), and its mean and spread over those seeds.
func (t *Table) average(method string, names []string) Average {
	a := Average{Method: method, PerSeed: map[uint64]float64{}, Paper: paper(method)}
	count := map[uint64]int{}
	for _, c := range t.Cells {
		if c.Method != method || !slices.Contains(names, c.Task) {
			continue
		}
		for _, s := range c.Seeds {
			if !math.IsNaN(float64(s.Score)) {
				a.PerSeed[s.Seed] += float64(s.Score) / float64(len(names))
				count[s.Seed]++
			}
		}
	}
	var xs []float64
	for _, s := range sortedSeeds(a.PerSeed) {
		if count[s] != len(names) {
			delete(a.PerSeed, s)
			continue
		}
		xs = append(xs, a.PerSeed[s])
	}
	a.Mean, a.Std = train.Number(stats.Mean(xs)), train.Number(stats.Std(xs))
	return a
}

func sortedSeeds(m map[uint64]float64) []uint64 {
	var out []uint64
	for s := range m {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func (t *Table) cell(task, method string) *Cell {
	for i := range t.Cells {
		if t.Cells[i].Task == task && t.Cells[i].Method == method {
			return &t.Cells[i]
		}
	}
	return nil
}

func (t *Table) avg(method string) *Average {
	for i := range t.Averages {
		if t.Averages[i].Method == method {
			return &t.Averages[i]
		}
	}
	return nil
}

// pairedAverage is the interval of a's average score minus b's over the
// seeds both have.
func (t *Table) pairedAverage(a, b string) stats.Interval {
	aa, ab := t.avg(a), t.avg(b)
	var d []float64
	if aa != nil && ab != nil {
		for _, s := range sortedSeeds(aa.PerSeed) {
			if vb, ok := ab.PerSeed[s]; ok {
				d = append(d, aa.PerSeed[s]-vb)
			}
		}
	}
	return stats.MeanInterval(d)
}

// pairedTask is the same for one task.
func (t *Table) pairedTask(task, a, b string) stats.Interval {
	ca, cb := t.cell(task, a), t.cell(task, b)
	var d []float64
	if ca != nil && cb != nil {
		for _, sa := range ca.Seeds {
			for _, sb := range cb.Seeds {
				if d1 := float64(sa.Score - sb.Score); sa.Seed == sb.Seed && !math.IsNaN(d1) {
					d = append(d, d1)
				}
			}
		}
	}
	return stats.MeanInterval(d)
}
