package runner

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/relorago/harness/train"
)

// WriteCommands prints one shell command per run not yet finished, so an
// existing scheduler (a Slurm job array, a Kubernetes indexed Job, GNU
// parallel over ssh) can spread the matrix over machines; `relora report`
// then gathers the runs/ folders. It creates nothing: each command pipes
// its run's config to `relora train -config -`, and the run folder is made
// when the command runs. Paths and the config are shell-quoted, so a folder
// with spaces or quotes stays one word.
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
		cfgJSON, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		from := "" // the checkpoint a run starts from (a warm start, or a fine-tuning run's pre-trained model)
		if cfg.WarmStartFrom != "" {
			from = " -warm-start-from " + ShellQuote(cfg.WarmStartFrom)
		}
		if _, err := fmt.Fprintf(w, "printf '%%s\\n' %s | %s train -config - -out %s%s -threads 1 -quiet\n",
			ShellQuote(string(cfgJSON)), ShellQuote(binary), ShellQuote(dir), from); err != nil {
			return err
		}
	}
	return nil
}
