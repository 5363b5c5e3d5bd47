package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/relorago/harness/train"
)

// trainCmd parses flags into a train.Config and runs it. Defaults come from
// --preset (or --config, a config.json of an earlier run); every other flag
// overrides one field.
func trainCmd(args []string) error {
	cfg, err := baseConfig(args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	bindConfigFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("train: unexpected arguments %q", fs.Args())
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	res, err := train.Run(cfg)
	if err != nil {
		return err
	}
	fmt.Println(summary(cfg, res))
	return nil
}

// baseConfig returns the defaults the flags override: --config's file if
// given, else the --preset (default tiny).
func baseConfig(args []string) (train.Config, error) {
	if path := flagValue(args, "config"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return train.Config{}, fmt.Errorf("--config: %w", err)
		}
		cfg, _ := train.Default("tiny")
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return train.Config{}, fmt.Errorf("--config %s: %w", path, err)
		}
		return cfg, nil
	}
	preset := flagValue(args, "preset")
	if preset == "" {
		preset = "tiny"
	}
	return train.Default(preset)
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
	fs.String("preset", c.Preset, "model preset: tiny, small64, nano (sets the defaults below)")
	fs.String("config", "", "start from this config.json (of an earlier run) instead of a preset")
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
	fs.IntVar(&c.Threads, "threads", c.Threads, "cores the kernels use")
	fs.BoolVar(&c.Quiet, "quiet", c.Quiet, "no progress bar")
	fs.StringVar(&c.OutDir, "out", c.OutDir, "run folder (config, metrics, checkpoint, result); resumes if it holds a checkpoint")
}

func summary(cfg train.Config, r *train.Result) string {
	s := fmt.Sprintf("%s: %d steps, val loss %.4f (ppl %.2f, %.3f bpb; initial %.4f), %d/%d trainable params, %.0f tok/s (%d threads, %s GEMM)",
		r.Status, r.Steps, r.FinalVal.Loss, r.FinalVal.Perplexity, r.FinalVal.BitsPerByte, r.InitialVal.Loss,
		r.TrainableParams, r.TotalParams, r.TokensPerSec, r.Threads, r.GemmBackend)
	if r.DivergedReason != "" {
		s += " — " + r.DivergedReason
	}
	if cfg.OutDir != "" {
		s += " → " + cfg.OutDir
	}
	return s
}
