package experiments

import (
	"fmt"
	"strconv"

	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/tasks"
	"github.com/relorago/harness/train"
)

// Table 5: does ReLoRA help fine-tuning? Every task of the GLUE-like suite
// (package tasks) is fine-tuned from Table 1's full-rank run (seed 1) by
// full fine-tuning, LoRA, ReLoRA and a linear probe. Each method gets the
// same learning-rate search: a grid of three values (its own range, a
// factor of 3 apart) scored on dev with seed 1; the best is trained again
// with the other seeds.

// FinetuneTableMethods are Table 5's rows: the paper's comparison. The
// harness fine-tunes by more methods (train.FinetuneMethods: bottleneck
// adapters too); one joins the table with a grid here and the runs it
// needs, which the committed records do not have, so listing it here alone
// would leave the table unrenderable from them.
var FinetuneTableMethods = []string{train.FinetuneFull, train.FinetuneLoRA, train.FinetuneReLoRA, train.FinetuneProbe}

// Fine-tuning rows (FinetuneTableMethods), as Table 5 names them.
var FinetuneRowNames = map[string]string{
	train.FinetuneFull:   "Full fine-tuning",
	train.FinetuneLoRA:   "LoRA",
	train.FinetuneReLoRA: "ReLoRA",
	train.FinetuneProbe:  "Linear probe",
}

// FinetuneGrids are the learning rates each method's search tries. LoRA
// and ReLoRA share theirs: the comparison the paper makes is between them.
var FinetuneGrids = map[string][]float64{
	train.FinetuneFull:   {1e-4, 3e-4, 1e-3},
	train.FinetuneLoRA:   {1e-3, 3e-3, 1e-2},
	train.FinetuneReLoRA: {1e-3, 3e-3, 1e-2},
	train.FinetuneProbe:  {3e-3, 1e-2, 3e-2},
}

// FinetuneSeeds is how many seeds each (task, method) trains at its chosen
// learning rate (seed 1 is the grid's run).
const FinetuneSeeds = 3

// FinetuneSpec is Table 5 at a preset.
type FinetuneSpec struct {
	Pretrained Run // Table 1's full-rank run, seed 1: the model every run starts from
	Tasks      []string
	Methods    []string
	Grids      map[string][]float64
	Seeds      []uint64 // at the chosen learning rate; the first is the grid's seed

	Steps, Batch, Warmup, CheckpointEvery int
	ResetEvery                            int // ReLoRA: steps between merges
	TrainExamples, DevExamples            int // 0 = the whole task (the quick preset caps them)
	TaskSeed                              uint64
	// LowRank is the preset's LoRA settings (rank, alpha, re-warm,
	// pruning), which Table 1's full-rank run does not carry.
	LowRank relora.Config
	About   string
}

// Finetune returns Table 5's spec for a preset.
func Finetune(p Preset) (FinetuneSpec, error) {
	one := p
	one.Seeds = []uint64{1}
	var pre *Run
	for _, r := range Ablation(one) {
		if r.Row == RowFull {
			pre = &r
			break
		}
	}
	if pre == nil {
		return FinetuneSpec{}, fmt.Errorf("experiments: preset %q has no full-rank Table 1 run", p.Name)
	}
	s := FinetuneSpec{Pretrained: *pre, Tasks: tasks.Names, Methods: FinetuneTableMethods, Grids: FinetuneGrids,
		Seeds: seedList(FinetuneSeeds), Steps: 400, Batch: 16, Warmup: 40, CheckpointEvery: 100, ResetEvery: 100, TaskSeed: 1, LowRank: p.Base.ReLoRA}
	if p.Name == "quick" {
		// A smoke test of every code path, in about a minute.
		s.Steps, s.Batch, s.Warmup, s.CheckpointEvery, s.ResetEvery = 40, 8, 4, 20, 10
		s.TrainExamples, s.DevExamples = 512, 128
		s.Seeds = seedList(2)
	}
	s.About = fmt.Sprintf("%d steps of batch %d (warmup %d, cosine to %g of the peak), seq_len %d, ReLoRA merging every %d steps "+
		"(re-warm %d, random pruning %g), LoRA rank %d, alpha %g, on every projection of every block; each method's learning "+
		"rate chosen on dev with seed 1 from its grid, then seeds 1–%d at it",
		s.Steps, s.Batch, s.Warmup, pre.Config.MinLRRatio, pre.Config.Model.SeqLen, s.ResetEvery, s.LowRank.RestartWarmup,
		s.LowRank.PruneRatio, s.LowRank.Rank, s.LowRank.Alpha, len(s.Seeds))
	return s, nil
}

func seedList(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// Config is one fine-tuning run: task, method, peak learning rate, seed.
func (s FinetuneSpec) Config(task, method string, lr float64, seed uint64) (train.Config, error) {
	spec, err := tasks.Get(task)
	if err != nil {
		return train.Config{}, err
	}
	pre := s.Pretrained.Config
	cfg := pre
	from := pre
	cfg.Finetune = &train.FinetuneConfig{Task: task, TaskSeed: s.TaskSeed, TaskVersion: tasks.Version, Outputs: spec.Outputs(), Method: method, Pooling: train.PoolMean,
		TrainExamples: s.TrainExamples, DevExamples: s.DevExamples, From: &from}
	cfg.Data, cfg.SaveAt, cfg.Seed = "task:"+task, nil, seed
	cfg.Steps, cfg.Batch, cfg.Warmup, cfg.LR = s.Steps, s.Batch, s.Warmup, lr
	cfg.EvalEvery, cfg.CheckpointEvery = s.Steps, s.CheckpointEvery // the dev set is scored once, at the end
	// The preset's rank, alpha, re-warm and pruning; the spec's merge interval.
	low := s.LowRank
	low.ResetEvery = s.ResetEvery
	if cfg.ReLoRA, err = train.FinetuneMethodConfig(method, low, lr); err != nil {
		return train.Config{}, err
	}
	return cfg, cfg.Validate()
}

// FinetuneRun labels a fine-tuning run: Row is the method, Size the task.
func finetuneRun(task, method string, lr float64, cfg train.Config) Run {
	return Run{Row: method, Size: task + " @ " + strconv.FormatFloat(lr, 'g', -1, 64), Seed: cfg.Seed, Config: cfg}
}

// GridRuns are the learning-rate searches: every task × method × grid
// value with the first seed.
func (s FinetuneSpec) GridRuns() ([]Run, error) {
	var out []Run
	for _, task := range s.Tasks {
		for _, m := range s.Methods {
			for _, lr := range s.Grids[m] {
				cfg, err := s.Config(task, m, lr, s.Seeds[0])
				if err != nil {
					return nil, err
				}
				out = append(out, finetuneRun(task, m, lr, cfg))
			}
		}
	}
	return out, nil
}

// SeedRuns are every seed at the chosen learning rates (chosen maps
// "task/method" to its learning rate; pairs it lacks are left out).
func (s FinetuneSpec) SeedRuns(chosen map[string]float64) ([]Run, error) {
	var out []Run
	for _, task := range s.Tasks {
		for _, m := range s.Methods {
			lr, ok := chosen[task+"/"+m]
			if !ok {
				continue
			}
			for _, seed := range s.Seeds {
				cfg, err := s.Config(task, m, lr, seed)
				if err != nil {
					return nil, err
				}
				out = append(out, finetuneRun(task, m, lr, cfg))
			}
		}
	}
	return out, nil
}
