package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

func TestTrainFlags(t *testing.T) {
	cfg, err := parseTrainArgs(strings.Fields("--preset nano --steps 300 --mode relora --jagged=false --warm-start 100 --reset-every 50 --rank 4 --save-at 10,20"))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.ReLoRA
	if cfg.Model.Dim != 32 || cfg.Steps != 300 || r.Method != relora.MethodLoRA || !r.Restarts || !r.OptimizerReset || r.Jagged ||
		r.WarmStartSteps != 100 || r.ResetEvery != 50 || r.Rank != 4 || len(cfg.SaveAt) != 2 || cfg.SaveAt[1] != 20 {
		t.Fatalf("flags not applied: %+v", cfg)
	}
}

func TestTrainFlagErrorsNameTheProblem(t *testing.T) {
	for args, want := range map[string]string{
		"--preset huge":                      "unknown preset",
		"--mode fancy":                       "--mode",
		"--preset nano --steps 10":           "warmup", // default warmup 50 ≥ 10 steps
		"--preset nano --save-at x":          "save-at",
		"--preset nano --rank 0 --mode lora": "rank",
		"--preset nano extra":                "unexpected",
	} {
		_, err := parseTrainArgs(strings.Fields(args))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one mentioning %q", args, err, want)
		}
	}
}

func TestConfigFileRoundTrip(t *testing.T) {
	cfg, err := parseTrainArgs(strings.Fields("--preset nano --steps 77 --mode lora --rank 4"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := train.WriteConfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	back, err := parseTrainArgs([]string{"--config", path})
	if err != nil {
		t.Fatal(err)
	}
	if back.Steps != 77 || back.ReLoRA.Rank != 4 || back.ReLoRA.Method != relora.MethodLoRA {
		t.Fatalf("config did not round-trip: %+v", back)
	}
	os.WriteFile(path, []byte(`{"steps": 5, "bogus": 1}`), 0o644)
	if _, err := parseTrainArgs([]string{"--config", path}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown field: %v", err)
	}
}
