package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/relorago/harness/atomicfile"
)

// removeTempsOnSignal makes SIGINT and SIGTERM remove the temporary files
// of writes in progress (a checkpoint, a result) before the process exits,
// so Ctrl-C leaves no ".checkpoint.safetensors.tmp…" behind. Everything
// else is as after a kill: the run resumes from its last checkpoint.
func removeTempsOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-ch
		atomicfile.RemovePending()
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
}
