package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The smoke test and other presets never write over the committed results:
// each preset has its own folder, and the smoke test's is git-ignored.
func TestPresetsWriteToTheirOwnResultsFolder(t *testing.T) {
	for preset, want := range map[string]string{"default": "results", "tiny": "results/tiny", "quick": "results/quick"} {
		m, _, err := parseMatrix("ablation", []string{"-preset", preset})
		if err != nil {
			t.Fatal(err)
		}
		if m.results != want {
			t.Errorf("preset %s writes to %s, want %s", preset, m.results, want)
		}
	}
	m, _, err := parseMatrix("ablation", []string{"-preset", "quick", "-results", "elsewhere"})
	if err != nil || m.results != "elsewhere" || m.recordsDir() != filepath.Join("elsewhere", "runs") {
		t.Fatalf("-results elsewhere: %+v, %v", m, err)
	}
	ignore, err := os.ReadFile("../../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(ignore)), "/results/quick/") {
		t.Errorf(".gitignore does not ignore results/quick/:\n%s", ignore)
	}
}

func TestSeedsTakeACountOrAList(t *testing.T) {
	for in, want := range map[string][]uint64{"3": {1, 2, 3}, "4,5,6": {4, 5, 6}, "2, 2,7": {2, 7}} {
		_, p, err := parseMatrix("ablation", []string{"-seeds", in})
		if err != nil || !slices.Equal(p.Seeds, want) {
			t.Errorf("-seeds %q: %v, %v; want %v", in, p.Seeds, err, want)
		}
	}
	for _, bad := range []string{"0", "-1", "a", "1,x"} {
		if _, _, err := parseMatrix("ablation", []string{"-seeds", bad}); err == nil {
			t.Errorf("-seeds %q accepted", bad)
		}
	}
}

// A hand run resumes from a checkpoint every 200 steps, as the README says.
func TestHandRunsCheckpointEvery200Steps(t *testing.T) {
	cfg, err := parseTrainArgs([]string{"--preset", "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CheckpointEvery != 200 {
		t.Fatalf("checkpoint_every %d, want 200", cfg.CheckpointEvery)
	}
}

// TestVerifyRefusedOffReferenceArithmetic: where the kernels round
// differently from the records' (portable Go, OpenBLAS), -verify would
// overwrite every record, so it is refused with the reason; without
// -verify the command parses.
func TestVerifyRefusedOffReferenceArithmetic(t *testing.T) {
	defer func(f func() error) { referenceArithmetic = f }(referenceArithmetic)
	referenceArithmetic = func() error { return errors.New("this CPU lacks AVX2 or FMA") }
	withRecords := t.TempDir()
	if err := os.MkdirAll(filepath.Join(withRecords, "runs", "0123456789abcdef"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err := parseMatrix("ablation", []string{"-preset", "quick", "-verify", "-results", withRecords})
	if err == nil || !strings.Contains(err.Error(), "ablation -verify: this CPU lacks AVX2 or FMA") || !strings.Contains(err.Error(), "overwritten") {
		t.Fatalf("-verify over records off the reference arithmetic: err = %v, want the reason and what it would do", err)
	}
	for _, args := range [][]string{
		{"-preset", "quick", "-results", withRecords},                                  // no -verify
		{"-preset", "quick", "-verify", "-results", t.TempDir()},                       // no records to overwrite
		{"-preset", "quick", "-verify", "-results", filepath.Join(withRecords, "new")}, // no folder yet
	} {
		if _, _, err := parseMatrix("ablation", args); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	referenceArithmetic = func() error { return nil }
	if _, _, err := parseMatrix("ablation", []string{"-preset", "quick", "-verify", "-results", withRecords}); err != nil {
		t.Fatalf("-verify on the reference arithmetic: %v", err)
	}
}
