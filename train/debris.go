package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// debrisPattern matches the temporary files the harness writes beside a
// file before renaming it into place (atomicfile's ".<name>.tmp*", the
// checkpoints' among them). A process killed between the two leaves one
// behind; nothing ever reads it.
const debrisPattern = ".*.tmp*"

// sweepDebris removes the temporary files a killed process left in run
// folder dir. The caller holds the folder's lock, so no live writer owns
// them.
func sweepDebris(dir string) error {
	left, err := filepath.Glob(filepath.Join(dir, debrisPattern))
	if err != nil {
		return err
	}
	for _, f := range left {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("run folder %s: removing a temporary file left by a killed run: %w", dir, err)
		}
	}
	return nil
}
