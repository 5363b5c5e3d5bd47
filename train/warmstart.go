package train

import (
	"fmt"
	"strings"
)

// WarmStartNotes checks that the checkpoint in cfg.WarmStartFrom can start
// this run's LoRA phase, before the run folder is touched: it must be at the
// run's switch step and come from a run of the same model shape and data
// (the tokenizer is the harness's byte tokens, fixed with the shape's
// vocabulary). A checkpoint of another shape or other data is refused,
// naming the field. Other settings of the warm start's run (seed, learning
// rate, schedule, ...) may differ; they are returned as notes, "field:
// warm start's → this run's", for the caller to show. They are not written
// into config.json: the run's hash would change.
func WarmStartNotes(cfg Config) ([]string, error) {
	path := cfg.WarmStartFrom
	if path == "" || cfg.Finetune != nil {
		return nil, nil
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("warm_start_from: %w", err)
	}
	if ck.Step != cfg.ReLoRA.WarmStartSteps {
		return nil, fmt.Errorf("warm_start_from %s is at step %d, the run switches at step %d", path, ck.Step, cfg.ReLoRA.WarmStartSteps)
	}
	if len(ck.Config) == 0 {
		return []string{"the checkpoint holds no config (an older harness wrote it): its shape, data and seed could not be checked"}, nil
	}
	diff, err := ConfigDiff(ck.Config, configJSON(cfg))
	if err != nil {
		return nil, fmt.Errorf("warm_start_from %s: %w", path, err)
	}
	var refused, notes []string
	for _, d := range diff {
		field, _, _ := strings.Cut(d, ":")
		switch {
		case strings.HasPrefix(field, "model.") || field == "data" || field == "val_frac":
			refused = append(refused, d)
		case strings.HasPrefix(field, "relora.") || strings.HasPrefix(field, "save_at") || field == "preset":
			// The method is what a warm start changes; the rest is labels.
		default:
			notes = append(notes, d)
		}
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("warm_start_from %s was trained on another model shape or other data (%s): it cannot start this run",
			path, strings.Join(refused, "; "))
	}
	return notes, nil
}
