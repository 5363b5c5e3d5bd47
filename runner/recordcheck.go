package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/relorago/harness/train"
)

// checkRecordContent cross-checks a record's files against each other and
// returns the config's hash: config.json must hash to name, the record
// folder's name (the hash is the run's identity, and tables find records by it),
// result.json must be a whole result, and its step count, status and final
// validation loss must be what metrics.jsonl logged. A number edited in one
// file and not the other is caught here even before the manifest is checked.
func checkRecordContent(dir, name string) (string, error) {
	cfgPath := filepath.Join(dir, train.ConfigFile)
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return "", err
	}
	cfg, err := train.DecodeConfig(b)
	if err != nil {
		return "", fmt.Errorf("%s: %w", cfgPath, err)
	}
	hash := Hash(cfg)
	if name != hash {
		return "", fmt.Errorf("%s hashes to %s, but the record's folder is %s (the config was changed after the run)", cfgPath, hash, name)
	}
	res, err := train.ReadResult(dir)
	if err != nil {
		return "", err
	}
	metricsPath := filepath.Join(dir, train.MetricsFile)
	ms, err := train.ReadMetrics(metricsPath)
	if err != nil {
		return "", fmt.Errorf("%s: %w", metricsPath, err)
	}
	return hash, resultMatchesMetrics(filepath.Join(dir, train.ResultFile), res, cfg, ms)
}

// resultMatchesMetrics checks that a result tells what the metrics logged:
// the steps it claims, and the final validation loss on the last line that
// has one. A finished ok run logged every step of its config.
func resultMatchesMetrics(path string, res *train.Result, cfg train.Config, ms []train.StepMetrics) error {
	if len(ms) == 0 {
		return fmt.Errorf("%s: %s logged no step", path, train.MetricsFile)
	}
	last := ms[len(ms)-1]
	if res.Status == train.StatusOK && (res.Steps != cfg.Steps || last.Step != cfg.Steps) {
		return fmt.Errorf("%s: status ok after %d steps, but the config has %d and %s ends at step %d",
			path, res.Steps, cfg.Steps, train.MetricsFile, last.Step)
	}
	// A diverged run may log the step that blew up, after its last
	// completed step.
	if last.Step != res.Steps && !(res.Status == train.StatusDiverged && last.Step == res.Steps+1) {
		return fmt.Errorf("%s: steps %d, but %s ends at step %d", path, res.Steps, train.MetricsFile, last.Step)
	}
	merges := 0
	for _, m := range ms {
		if strings.Contains(m.Event, "merge") {
			merges++
		}
	}
	if merges != res.Merges {
		return fmt.Errorf("%s: merges %d, but %s logs %d merge events", path, res.Merges, train.MetricsFile, merges)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if v := ms[i].ValLoss; v != nil {
			if res.FinalVal.Loss != *v || res.FinalVal.Step != ms[i].Step {
				return fmt.Errorf("%s: final_val is loss %.17g at step %d, but %s's last val_loss is %.17g at step %d",
					path, res.FinalVal.Loss, res.FinalVal.Step, train.MetricsFile, *v, ms[i].Step)
			}
			return nil
		}
	}
	return fmt.Errorf("%s: %s has no val_loss line to back final_val", path, train.MetricsFile)
}

// readRecord returns the result of record folder rec after verifying the
// record; ok is false when there is no record. A record that is there but
// does not verify is an error (wrapping ErrBadRecord), never a reason to
// train the run instead: the caller stops, and -verify replaces it.
func readRecord(rec string) (res *train.Result, ok bool, err error) {
	if _, err := os.Stat(rec); errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err := VerifyRecord(rec); err != nil {
		return nil, true, err
	}
	res, err = train.ReadResult(rec)
	return res, true, err
}
