package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

const exportUsage = `usage: relora export RUN --out DIR [--step N]

Writes a run's weights as a Hugging Face LLaMA (LlamaForCausalLM) into DIR:
model.safetensors (F32, LoRA factors merged), config.json and README.md (the
byte-level tokenizer: token id = byte value). RUN is a run folder (runs/<hash>/).

`

// exportCmd writes a run folder's weights in the Hugging Face LLaMA layout.
func exportCmd(args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	out := fs.String("out", "", "folder to write model.safetensors, config.json and README.md into (required)")
	step := fs.Int("step", 0, "export the kept checkpoint of this step (ckpt-N.safetensors) instead of the final one")
	force := fs.Bool("force", false, "export a run that is unfinished or diverged, and replace an existing -out")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), exportUsage)
		fs.PrintDefaults()
	}
	// The run folder may come before or after the flags.
	var runs []string
	for len(args) > 0 {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		runs = append(runs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(runs) == 0:
		fs.Usage()
		return fmt.Errorf("export: a run folder is required")
	case len(runs) > 1:
		return fmt.Errorf("export: one run folder at a time, got %d: %s", len(runs), strings.Join(runs, " "))
	case *out == "":
		fs.Usage()
		return fmt.Errorf("export: --out DIR is required")
	}
	if err := exportAllowed(runs[0], *out, *force); err != nil {
		return err
	}
	sum, err := exportWhole(runs[0], *out, *step)
	if err != nil {
		return err
	}
	fmt.Printf("exported %s (step %d; %d layers, dim %d, %d heads, ffn %d)\n",
		sum.Checkpoint, sum.Step, sum.Shape.Layers, sum.Shape.Dim, sum.Shape.Heads, sum.Shape.FFN)
	if sum.Merged > 0 {
		fmt.Printf("merged the LoRA factors of %d projections (rank %s, alpha/r %g)\n",
			sum.Merged, strings.Trim(fmt.Sprint(sum.Ranks), "[]"), sum.Scale)
	}
	for _, f := range sum.Files {
		fmt.Println("wrote", f)
	}
	if sum.Diverged != "" {
		fmt.Fprintf(os.Stderr, "relora export: warning: the run diverged (%s)\n", sum.Diverged)
	}
	if sum.NonFinite > 0 {
		fmt.Fprintf(os.Stderr, "relora export: warning: %d weights are NaN or infinite\n", sum.NonFinite)
	}
	return nil
}
