package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the run folder's lock: one process trains a run at a time.
const LockFile = ".lock"

// ErrLocked says another process holds a run folder's lock.
var ErrLocked = errors.New("run folder is being trained by another process")

// folderLock is an advisory flock on <dir>/.lock, released by Close (and by
// the kernel when the process dies, so a killed run never leaves a stale lock).
type folderLock struct{ f *os.File }

// lockFolder takes the run folder's lock. With wait it blocks until the
// other process is done; without, it fails at once with ErrLocked.
func lockFolder(dir string, wait bool) (*folderLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	// The lock is ours: temporary files in the folder are a killed run's.
	if err := sweepDebris(dir); err != nil {
		f.Close()
		return nil, err
	}
	return &folderLock{f: f}, nil
}

func (l *folderLock) Close() {
	if l != nil && l.f != nil {
		l.f.Close()
	}
}

// configJSON is the config's identity: the JSON of the fields that
// determine a run's numbers (config.json holds the same bytes, indented).
func configJSON(cfg Config) []byte {
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // Config is plain data
	}
	return b
}

// checkSameConfig refuses to continue a run folder under a config other than
// the one that wrote it; the error names every field that differs.
func checkSameConfig(dir string, cfg Config, stored []byte, what string) error {
	diff, err := ConfigDiff(stored, configJSON(cfg))
	if err != nil {
		return fmt.Errorf("%s in %s: %w", what, dir, err)
	}
	if len(diff) == 0 {
		return nil
	}
	return fmt.Errorf("run folder %s holds a run of another config (%s differs: %s); "+
		"use another --out, or --fresh to delete it and start over", dir, what, strings.Join(diff, "; "))
}

// ConfigDiff lists the fields in which two config JSONs differ, as
// "path: old → new", sorted by path.
func ConfigDiff(old, new []byte) ([]string, error) {
	var a, b any
	if err := json.Unmarshal(old, &a); err != nil {
		return nil, fmt.Errorf("stored config is unreadable: %w", err)
	}
	if err := json.Unmarshal(new, &b); err != nil {
		return nil, err
	}
	fa, fb := map[string]string{}, map[string]string{}
	flatten("", a, fa)
	flatten("", b, fb)
	var out []string
	for k, v := range fa {
		if w, ok := fb[k]; !ok {
			out = append(out, fmt.Sprintf("%s: %s → (none)", k, v))
		} else if v != w {
			out = append(out, fmt.Sprintf("%s: %s → %s", k, v, w))
		}
	}
	for k, w := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, fmt.Sprintf("%s: (none) → %s", k, w))
		}
	}
	sort.Strings(out)
	return out, nil
}

func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(join(prefix, k), e, out)
		}
	case []any:
		for i, e := range x {
			flatten(join(prefix, strconv.Itoa(i)), e, out)
		}
	default:
		b, _ := json.Marshal(x)
		out[prefix] = string(b)
	}
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// runFiles are the files a run writes into its folder; --fresh deletes them.
func runFiles(dir string) ([]string, error) {
	var out []string
	for _, n := range []string{ConfigFile, MetricsFile, TimingFile, ResultFile, CheckpointFile} {
		out = append(out, filepath.Join(dir, n))
	}
	// Kept checkpoints and what analyses derived from the weights (effective
	// weight exports, spectra): stale once the run is trained again.
	for _, pattern := range []string{"ckpt-*", "effective-*", "spectra-run.json", ".*.tmp*"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	return out, nil
}

// clearRun deletes a run folder's run files (not the folder, nor files the
// harness did not write).
func clearRun(dir string) error {
	files, err := runFiles(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// finishedResult returns the folder's result when the run is finished under
// this config: result.json exists, parses, and config.json is cfg. A
// result.json that does not parse is reported (the caller then finishes the
// run again from its final checkpoint).
func finishedResult(dir string, cfg Config) (*Result, error) {
	stored, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkSameConfig(dir, cfg, stored, ConfigFile); err != nil {
		return nil, err
	}
	res, err := ReadResult(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "relora: %v; finishing the run again from its checkpoint\n", err)
		return nil, nil
	}
	return res, nil
}

// hasRunFiles reports whether a run folder holds a checkpoint or a result.
func hasRunFiles(dir string) bool {
	if dir == "" {
		return false
	}
	for _, n := range []string{CheckpointFile, ResultFile} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}
