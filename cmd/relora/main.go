// Command relora runs the ReLoRA experiment harness.
//
//	relora train [flags]     one training run (see relora train -h)
package main

import (
	"fmt"
	"os"
)

const usage = `usage: relora <command> [flags]

commands:
  train    train one model and write its metrics and result (relora train -h)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "train":
		err = trainCmd(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "relora: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "relora:", err)
		os.Exit(1)
	}
}
