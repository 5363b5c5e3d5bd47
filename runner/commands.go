package runner

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/relorago/harness/train"
)

// WriteCommands writes each config to its run folder and prints one shell
// command per run not yet finished, so an existing scheduler (a Slurm job
// array, a Kubernetes indexed Job, GNU parallel over ssh) can spread the
// matrix over machines; `relora report` then gathers the runs/ folders.
// Paths are shell-quoted, so a folder with spaces or quotes stays one word.
func WriteCommands(configs []train.Config, runsDir, binary string, w io.Writer) error {
	seen := map[string]bool{}
	for _, cfg := range configs {
		dir := Dir(runsDir, cfg)
		if seen[dir] {
			continue
		}
		seen[dir] = true
		if _, err := train.ReadResult(dir); err == nil {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		path := filepath.Join(dir, train.ConfigFile)
		if err := train.WriteConfig(path, cfg); err != nil {
			return err
		}
		from := "" // the checkpoint a run starts from (a warm start, or a fine-tuning run's pre-trained model)
		if cfg.WarmStartFrom != "" {
			from = " -warm-start-from " + ShellQuote(cfg.WarmStartFrom)
		}
		if _, err := fmt.Fprintf(w, "%s train -config %s -out %s%s -threads 1 -quiet\n", ShellQuote(binary), ShellQuote(path), ShellQuote(dir), from); err != nil {
			return err
		}
	}
	return nil
}
