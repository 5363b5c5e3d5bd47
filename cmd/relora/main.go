// Command relora runs the ReLoRA experiment harness.
//
//	relora train [flags]     one training run (see relora train -h)
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/relorago/harness/throughput"
)

const usage = `usage: relora <command> [flags]

commands:
  train      train one model and write its metrics and result (relora train -h)
  ablation   Table 1: restarts × optimizer reset × jagged schedule × warm start
  scaling    Tables 2 and 3: full, control, LoRA, LoRA+WS, ReLoRA across model sizes
  spectra    Fig. 5: singular values of the total update ΔW (full, LoRA+WS, ReLoRA)
  throughput Table 4: full-rank vs ReLoRA step speed and memory (-steps, -warmup)
  sweep      sensitivity sweeps: reset interval, rank, pruning ratio (3 seeds)
  finetune   Table 5: full fine-tuning, LoRA, ReLoRA, linear probe on a GLUE-like suite
  decide     train the seeds that decide the most claims per core-hour (-budget 4h), then report
  report     all of the above in results/REPORT.md (Table 1 over 3 seeds; -remeasure, -verify)
  slurm      a table's unfinished runs as a Slurm job array + render job (-table, -throttle)
  export     a run's weights as a Hugging Face LLaMA: relora export RUN -out DIR [-step N]

Table commands take -preset default|tiny|quick, -seeds, -j N, -runs DIR, -results DIR,
-verify (train runs that have records and check them) and -print-commands (the run
list as shell commands, for a job array). relora <command> -h lists a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	removeTempsOnSignal()
	var err error
	switch os.Args[1] {
	case "train":
		err = trainCmd(os.Args[2:])
	case "ablation":
		err = ablationCmd(os.Args[2:])
	case "spectra":
		err = spectraCmd(os.Args[2:])
	case "scaling":
		err = scalingCmd(os.Args[2:])
	case "report":
		err = reportCmd(os.Args[2:])
	case "decide":
		err = decideCmd(os.Args[2:])
	case "slurm":
		err = slurmCmd(os.Args[2:])
	case "export":
		err = exportCmd(os.Args[2:])
	case "throughput":
		err = throughputCmd(os.Args[2:])
	case throughput.ProbeCommand:
		err = probeCmd(os.Args[2:])
	case "sweep":
		err = sweepCmd(os.Args[2:])
	case "budget":
		err = budgetCmd(os.Args[2:])
	case "finetune":
		err = finetuneCmd(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "relora: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // -h printed the command's flags: not an error
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "relora:", err)
		os.Exit(1)
	}
}
