package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relorago/harness/atomicfile"
	"github.com/relorago/harness/export"
	"github.com/relorago/harness/train"
)

// exportAllowed refuses, unless force, what an export would get wrong
// silently: weights of a run that is not finished (not the run its config
// describes) or that diverged, and an -out that already holds something.
func exportAllowed(run, out string, force bool) error {
	if force {
		return nil
	}
	res, err := train.ReadResult(run)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("export: run %s is not finished (no %s): its weights are not the run its config describes; -force exports them anyway", run, train.ResultFile)
	case err != nil:
		return fmt.Errorf("export: run %s: %w; -force exports its weights anyway", run, err)
	case res.Status == train.StatusDiverged:
		return fmt.Errorf("export: run %s diverged (%s); -force exports its weights anyway", run, res.DivergedReason)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("export: -out %s exists; -force replaces it", out)
	}
	return nil
}

// exportWhole exports into a staging folder beside out and renames it into
// place only when every file is written, so a failed export leaves no
// partial output and a replaced -out is never half old, half new.
func exportWhole(run, out string, step int) (*export.Summary, error) {
	out = filepath.Clean(out)
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("export: -out %s: %w", out, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".tmp")
	if err != nil {
		return nil, fmt.Errorf("export: -out %s: %w", out, err)
	}
	defer os.RemoveAll(tmp) // the staging folder on failure
	defer atomicfile.Track(tmp)()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("export: -out %s: %w", out, err)
	}
	sum, err := export.Run(run, tmp, step)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(out); err == nil {
		// -force: the old export moves into the staging folder's name and
		// is removed with it.
		old := tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return nil, fmt.Errorf("export: -out %s: %w", out, err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("export: -out %s: %w", out, err)
	}
	for i, f := range sum.Files {
		if rel, err := filepath.Rel(tmp, f); err == nil {
			sum.Files[i] = filepath.Join(out, rel)
		}
	}
	return sum, nil
}
