package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// trainCmd parses flags into a train.Config and runs it.
func trainCmd(args []string) error {
	cfg, err := parseTrainArgs(args)
	if err != nil {
		return err
	}
	notes, err := train.WarmStartNotes(cfg)
	if err != nil {
		return err
	}
	if len(notes) > 0 {
		// Not in config.json: the run's hash (its identity in the cache and
		// the records) would change.
		fmt.Fprintf(os.Stderr, "relora: warning: the warm start %s was trained with other settings than this run (warm start → this run): %s\n",
			cfg.WarmStartFrom, strings.Join(notes, "; "))
	}
	started := time.Now().UTC().Format(time.RFC3339)
	res, err := train.Run(cfg)
	if err != nil {
		return err
	}
	fmt.Println(summary(cfg, res))
	if res.FinishedAt != "" && res.FinishedAt < started {
		fmt.Printf("(finished on %s: nothing trained; -fresh trains it again)\n", res.FinishedAt)
	}
	return nil
}

// parseTrainArgs turns `relora train` flags into a validated config.
// Defaults come from -preset, an experiment preset (or -config, a
// config.json of an earlier run), -model swaps the model shape, and every
// other flag overrides one field.
func parseTrainArgs(args []string) (train.Config, error) {
	cfg, err := baseConfig(args)
	if err != nil {
		return train.Config{}, err
	}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: relora train [flags]   (one training run; every config field is a flag)\n\n")
		fs.PrintDefaults()
	}
	bindConfigFlags(fs, &cfg)
	mode := bindMethodFlags(fs, &cfg)
	if err := parseFlags(fs, args); err != nil {
		return train.Config{}, err
	}
	if err := applyMode(fs, &cfg, *mode); err != nil {
		return train.Config{}, err
	}
	if fs.NArg() > 0 {
		return train.Config{}, fmt.Errorf("train: unexpected arguments %q", fs.Args())
	}
	return cfg, cfg.Validate()
}

// baseConfig returns the defaults the flags override: -config's file if
// given, else the experiment -preset's base config (default: "default"),
// with -model's shape if given.
func baseConfig(args []string) (train.Config, error) {
	var cfg train.Config
	if path := flagValue(args, "config"); path != "" {
		b, err := readConfigFile(path)
		if err != nil {
			return train.Config{}, fmt.Errorf("-config: %w", err)
		}
		if cfg, err = train.DecodeConfig(b); err != nil {
			return train.Config{}, fmt.Errorf("-config %s: %w", path, err)
		}
	} else {
		name := flagValue(args, "preset")
		if name == "" {
			name = "default"
		}
		p, err := experiments.Get(name)
		if _, shape := model.Preset(name); err != nil && shape == nil {
			return train.Config{}, fmt.Errorf("-preset %s is a model shape, not an experiment preset: use -model %s (experiment presets: %s)",
				name, name, strings.Join(experiments.PresetNames(), ", "))
		}
		if err != nil {
			return train.Config{}, fmt.Errorf("-preset: %w", err)
		}
		cfg = p.Base
	}
	if name := flagValue(args, "model"); name != "" {
		m, err := model.Preset(name)
		if err != nil {
			return train.Config{}, fmt.Errorf("-model: %w", err)
		}
		cfg.Preset, cfg.Model = name, m
	}
	return cfg, nil
}

// flagValue finds -name v, --name v, -name=v or --name=v before flag parsing.
func flagValue(args []string, name string) string {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

func bindConfigFlags(fs *flag.FlagSet, c *train.Config) {
	fs.String("preset", "default", "experiment preset whose settings are the defaults below: "+strings.Join(experiments.PresetNames(), ", "))
	fs.String("model", "", "model shape instead of the preset's: "+strings.Join(model.PresetNames(), ", "))
	fs.String("config", "", "start from this config.json (of an earlier run) instead of a preset; - reads it from standard input")
	fs.IntVar(&c.Model.Dim, "dim", c.Model.Dim, "model width")
	fs.IntVar(&c.Model.Layers, "layers", c.Model.Layers, "decoder blocks")
	fs.IntVar(&c.Model.Heads, "heads", c.Model.Heads, "attention heads")
	fs.IntVar(&c.Model.FFN, "ffn", c.Model.FFN, "SwiGLU hidden width")
	fs.IntVar(&c.Model.SeqLen, "seq", c.Model.SeqLen, "context length (tokens)")
	fs.Float64Var(&c.Model.NormEps, "norm-eps", c.Model.NormEps, "RMSNorm epsilon")
	fs.Float64Var(&c.Model.InitStd, "init-std", c.Model.InitStd, "std of the normal init")
	fs.Float64Var(&c.Model.RopeBase, "rope-base", c.Model.RopeBase, "rotary base")
	fs.StringVar(&c.Data, "data", c.Data, "corpus: opticks, gostd, or a text file / folder / JSONL(.gz) path")
	fs.Float64Var(&c.ValFrac, "val-frac", c.ValFrac, "validation fraction (the corpus' tail)")
	fs.IntVar(&c.ValWindows, "val-windows", c.ValWindows, "max validation windows, evenly spaced (0 = all)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "sequences per step")
	fs.IntVar(&c.Steps, "steps", c.Steps, "optimizer steps")
	fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate")
	fs.IntVar(&c.Warmup, "warmup", c.Warmup, "linear warmup steps")
	fs.Float64Var(&c.MinLRRatio, "min-lr-ratio", c.MinLRRatio, "cosine decays to this fraction of lr")
	fs.Float64Var(&c.GradClip, "grad-clip", c.GradClip, "global gradient-norm clip (0 = off)")
	fs.Float64Var(&c.Adam.Beta1, "beta1", c.Adam.Beta1, "AdamW beta1")
	fs.Float64Var(&c.Adam.Beta2, "beta2", c.Adam.Beta2, "AdamW beta2")
	fs.Float64Var(&c.Adam.Eps, "adam-eps", c.Adam.Eps, "AdamW epsilon")
	fs.Float64Var(&c.Adam.WeightDecay, "weight-decay", c.Adam.WeightDecay, "AdamW decoupled weight decay")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "steps between validation evaluations")
	fs.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "steps between checkpoints (0 = end only)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the init and the batch order")
	fs.IntVar(&c.Threads, "threads", c.Threads, fmt.Sprintf("cores the kernels use (1 to %d)", maxThreads))
	fs.BoolVar(&c.Quiet, "quiet", c.Quiet, "no progress bar")
	fs.StringVar(&c.OutDir, "out", c.OutDir, "run folder (config, metrics, checkpoint, result); resumes if it holds a checkpoint of this config, returns at once if the run is finished")
	fs.BoolVar(&c.Fresh, "fresh", false, "delete what --out holds from an earlier run and start over")
}

// bindMethodFlags binds the ReLoRA fields; --mode is applied after parsing.
func bindMethodFlags(fs *flag.FlagSet, c *train.Config) *string {
	r := &c.ReLoRA
	mode := fs.String("mode", "", "method: full, control, lora, lora-ws (LoRA after a full-rank warm start), "+
		"relora (LoRA with warm start, restarts, optimizer reset and jagged schedule, as in the paper; the preset's warm start unless -warm-start), "+
		"galore (full-rank weights, the projections' Adam in their gradient's top-r subspace; at -lr), "+
		"lowrank (the projections trained as W = B·A from scratch at rank r; at -lr)")
	fs.IntVar(&r.Rank, "rank", r.Rank, "LoRA rank r")
	fs.Float64Var(&r.Alpha, "alpha", r.Alpha, "LoRA alpha (scale = alpha/r)")
	fs.Float64Var(&r.LR, "lora-lr", r.LR, "peak LR of the LoRA phase")
	fs.BoolVar(&r.Restarts, "restarts", r.Restarts, "R: merge and re-init every --reset-every steps")
	fs.BoolVar(&r.OptimizerReset, "optimizer-reset", r.OptimizerReset, "O: prune the LoRA Adam moments at each restart")
	fs.BoolVar(&r.Jagged, "jagged", r.Jagged, "J: re-warm the LR after each restart")
	fs.IntVar(&r.WarmStartSteps, "warm-start", r.WarmStartSteps, "WS: full-rank steps before the LoRA phase")
	fs.IntVar(&r.ResetEvery, "reset-every", r.ResetEvery, "steps between restarts")
	fs.IntVar(&r.RestartWarmup, "restart-warmup", r.RestartWarmup, "LR re-warm steps after a restart and at the switch")
	fs.StringVar(&r.PruneMode, "prune-mode", r.PruneMode, "optimizer reset: zero, random or magnitude")
	fs.Float64Var(&r.PruneRatio, "prune-ratio", r.PruneRatio, "fraction of moments zeroed (random, magnitude)")
	fs.IntVar(&r.GaLoreRefreshEvery, "galore-refresh-every", r.GaLoreRefreshEvery,
		fmt.Sprintf("galore: steps between recomputations of the gradient subspace, T (-mode galore: %d)", relora.DefaultGaLoreRefreshEvery))
	fs.Float64Var(&r.GaLoreScale, "galore-scale", r.GaLoreScale,
		fmt.Sprintf("galore: scale α of the projected-back update (-mode galore: %g)", relora.DefaultGaLoreScale))
	fs.IntVar(&r.ControlTarget, "control-target", r.ControlTarget, "control: parameter count to match (0 = ReLoRA's trainable count at --rank)")
	fs.StringVar(&c.WarmStartFrom, "warm-start-from", c.WarmStartFrom, "start the LoRA phase from this full-rank checkpoint (taken at step --warm-start)")
	fs.Func("save-at", "comma-separated steps after which to keep a checkpoint (ckpt-<step>.safetensors)", func(v string) error {
		c.SaveAt = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("save-at: %q is not a step number", f)
			}
			c.SaveAt = append(c.SaveAt, n)
		}
		return nil
	})
	return mode
}

// applyMode turns -mode into the method fields. A switch given as its own
// flag (-restarts=false, -warm-start 0, ...) wins over the mode; a mode with
// a warm start takes the preset's (or, if it has none, one restart period).
func applyMode(fs *flag.FlagSet, c *train.Config, mode string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	r := &c.ReLoRA
	apply := func(name string, field *bool, v bool) {
		if !set[name] {
			*field = v
		}
	}
	warmStart := func(on bool) {
		switch {
		case set["warm-start"]:
		case !on:
			r.WarmStartSteps = 0
		case r.WarmStartSteps == 0:
			r.WarmStartSteps = r.ResetEvery
		}
	}
	switch mode {
	case "":
		return nil
	case relora.MethodFull, relora.MethodControl:
		r.Method = mode
		return nil
	case "lora", "lora-ws", "relora":
		r.Method = relora.MethodLoRA
		on := mode == "relora"
		apply("restarts", &r.Restarts, on)
		apply("optimizer-reset", &r.OptimizerReset, on)
		apply("jagged", &r.Jagged, on)
		warmStart(mode != "lora")
		return nil
	case relora.MethodGaLore, relora.MethodLowRank:
		// One method from the first step to the last, at the run's -lr:
		// none of ReLoRA's switches (validation names any flag that asks
		// for one).
		r.Method = mode
		apply("restarts", &r.Restarts, false)
		apply("optimizer-reset", &r.OptimizerReset, false)
		apply("jagged", &r.Jagged, false)
		warmStart(false)
		if mode == relora.MethodGaLore {
			if !set["galore-refresh-every"] {
				r.GaLoreRefreshEvery = relora.DefaultGaLoreRefreshEvery
			}
			if !set["galore-scale"] {
				r.GaLoreScale = relora.DefaultGaLoreScale
			}
		}
		return nil
	}
	return fmt.Errorf("-mode %q: want full, control, lora, lora-ws, relora, galore or lowrank", mode)
}

func summary(cfg train.Config, r *train.Result) string {
	if ft := r.Finetune; ft != nil {
		return finetuneSummary(cfg, r, ft)
	}
	s := fmt.Sprintf("%s %s: %d steps, val loss %.4f (ppl %.2f, %.3f bpb; initial %.4f), %d/%d trainable params, %.0f tok/s (%d threads, %s GEMM)",
		experiments.RowName(cfg), r.Status, r.Steps, r.FinalVal.Loss, r.FinalVal.Perplexity, r.FinalVal.BitsPerByte, r.InitialVal.Loss,
		r.TrainableParams, r.TotalParams, r.TokensPerSec, r.Threads, r.GemmBackend)
	if cfg.ReLoRA.Method == relora.MethodControl {
		s += fmt.Sprintf(" — control model d %d, %d layers, %d heads, ffn %d", r.Model.Dim, r.Model.Layers, r.Model.Heads, r.Model.FFN)
	}
	if r.DivergedReason != "" {
		s += " — " + r.DivergedReason
	}
	if cfg.OutDir != "" {
		s += " → " + cfg.OutDir
	}
	return s
}

// readConfigFile reads -config's file, or standard input for "-" (the
// commands -print-commands prints pipe each run's config in, so that
// printing them writes nothing).
func readConfigFile(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// finetuneSummary is a fine-tuning run's line: the task's score and metrics
// (the dev loss's perplexity and bits per byte mean nothing for a
// classification head).
func finetuneSummary(cfg train.Config, r *train.Result, ft *train.FinetuneResult) string {
	var metrics []string
	for _, k := range slices.Sorted(maps.Keys(ft.Metrics)) {
		metrics = append(metrics, fmt.Sprintf("%s %.4f", k, ft.Metrics[k]))
	}
	s := fmt.Sprintf("%s %s %s: %d steps, score %.4f (%s; dev loss %.4f), %d/%d trainable params",
		ft.Task, ft.Method, r.Status, r.Steps, ft.Score, strings.Join(metrics, ", "), r.FinalVal.Loss, r.TrainableParams, r.TotalParams)
	if r.DivergedReason != "" {
		s += " — " + r.DivergedReason
	}
	if cfg.OutDir != "" {
		s += " → " + cfg.OutDir
	}
	return s
}
