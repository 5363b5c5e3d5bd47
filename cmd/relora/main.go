// Command relora runs the ReLoRA experiment harness.
//
//	relora train [flags]     one training run (see relora train -h)
//	relora <table> [flags]   regenerate one of the paper's tables (relora -h lists them)
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/relorago/harness/successors"
	"github.com/relorago/harness/throughput"
)

// commands are the subcommands beside the tables'.
var commands = []struct {
	name, about string
	run         func(args []string) error
}{
	{"train", "train one model and write its metrics and result (relora train -h)", trainCmd},
	{"report", "every table in results/REPORT.md with the claims judged together (-remeasure, -verify, -train)", reportCmd},
	{"decide", "train the seeds that decide the most claims per core-hour (-budget 4h), then report", decideCmd},
	{"slurm", "a table's unfinished runs as a Slurm job array + render job (-table, -throttle)", slurmCmd},
	{"export", "a run's weights as a Hugging Face LLaMA: relora export RUN -out DIR [-step N]", exportCmd},
}

// usage lists the commands, the tables from the registry.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: relora <command> [flags]\n\ncommands:\n")
	fmt.Fprintf(&b, "  %-10s %s\n", commands[0].name, commands[0].about)
	for _, t := range registry() {
		fmt.Fprintf(&b, "  %-10s %s\n", t.Name(), t.About())
	}
	for _, c := range commands[1:] {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.about)
	}
	b.WriteString(`
Table commands take -preset default|tiny|quick, -seeds, -j N, -runs DIR, -results DIR,
-verify (train runs that have records and check them) and -print-commands (the run
list as shell commands, for a job array). relora <command> -h lists a command's flags.
`)
	return b.String()
}

// lookup finds a subcommand: a table of the registry or one of commands.
func lookup(name string) (func([]string) error, bool) {
	if t, ok := tableNamed(registry(), name); ok {
		return tableCommand(t), true
	}
	for _, c := range commands {
		if c.name == name {
			return c.run, true
		}
	}
	switch name {
	case throughput.ProbeCommand:
		return probeCmd, true
	case successors.MemoryProbeCommand:
		return memProbeCmd, true
	}
	return nil, false
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage())
		os.Exit(2)
	}
	removeTempsOnSignal()
	switch os.Args[1] {
	case "-h", "--help", "help":
		fmt.Print(usage())
		return
	}
	run, ok := lookup(os.Args[1])
	if !ok {
		fmt.Fprintf(os.Stderr, "relora: unknown command %q\n\n%s", os.Args[1], usage())
		os.Exit(2)
	}
	err := run(os.Args[2:])
	if errors.Is(err, flag.ErrHelp) {
		return // -h printed the command's flags: not an error
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "relora:", err)
		os.Exit(1)
	}
}
