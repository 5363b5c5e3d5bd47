package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"

	"github.com/relorago/harness/train"
)

// SeedIndex knows which seeds of each config are finished in a set of run
// folders (the cache and the records), so a table can draw on every seed
// anyone trained, not only the ones asked for this time.
type SeedIndex map[string][]uint64 // seedless hash → seeds, ascending

// IndexSeeds reads the config.json of every finished run under dirs.
func IndexSeeds(dirs ...string) SeedIndex {
	idx := SeedIndex{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // no cache or no records yet
		}
		for _, e := range entries {
			run := filepath.Join(dir, e.Name())
			if _, err := os.Stat(filepath.Join(run, train.ResultFile)); err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join(run, train.ConfigFile))
			if err != nil {
				continue
			}
			var cfg train.Config
			if json.Unmarshal(b, &cfg) != nil || Hash(cfg) != e.Name() {
				continue // not a run folder of this harness version
			}
			k := seedless(cfg)
			if !slices.Contains(idx[k], cfg.Seed) {
				idx[k] = append(idx[k], cfg.Seed)
				slices.Sort(idx[k])
			}
		}
	}
	return idx
}

// Seeds returns the finished seeds of cfg's run (cfg's own seed aside).
func (idx SeedIndex) Seeds(cfg train.Config) []uint64 { return idx[seedless(cfg)] }

func seedless(cfg train.Config) string {
	cfg.Seed = 0
	return Hash(cfg)
}

// Missing counts the configs that neither the run cache nor the records
// have finished (distinct runs), so a caller can tell a long matrix that was
// never run from one that only needs rendering.
func Missing(configs []train.Config, runsDir, recordsDir string) int {
	seen, n := map[string]bool{}, 0
	for _, cfg := range configs {
		h := Hash(cfg)
		if seen[h] {
			continue
		}
		seen[h] = true
		if _, err := os.Stat(filepath.Join(runsDir, h, train.ResultFile)); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(recordsDir, h, train.ResultFile)); err == nil {
			continue
		}
		n++
	}
	return n
}
