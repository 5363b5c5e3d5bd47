package experiments

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// recordsDir holds the committed run records, one folder per run hash.
const recordsDir = "../results/runs"

// Every committed record is keyed by the hash of its config's JSON, so the
// Go side of train.Config may change but its JSON may not: each record's
// config.json must decode (and so validate: a fine-tuning relora block must
// be exactly what its method derives), encode to the same bytes, and hash
// to its folder's name.
func TestCommittedConfigsKeepTheirBytesAndHashes(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(recordsDir, "*", train.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Skip("no committed run records")
	}
	var finetuning int
	for _, path := range paths {
		stored, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := train.DecodeConfig(stored)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		again, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(again, '\n'), stored) {
			t.Errorf("%s: the config encodes to other bytes than the record's", path)
		}
		if dir := filepath.Base(filepath.Dir(path)); runner.Hash(cfg) != dir {
			t.Errorf("%s: hashes to %s, not its folder's name", path, runner.Hash(cfg))
		}
		if cfg.Finetune != nil {
			finetuning++
		}
	}
	if finetuning == 0 || finetuning == len(paths) {
		t.Errorf("%d of %d records are fine-tuning runs: the test means to cover both kinds", finetuning, len(paths))
	}
}
