package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

func TestTrainFlags(t *testing.T) {
	cfg, err := parseTrainArgs(strings.Fields("-preset quick -model nano --steps 300 --mode relora --jagged=false --warm-start 100 --reset-every 50 --rank 4 --save-at 10,20"))
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
		"-preset huge":                     "unknown preset",
		"-preset nano":                     "use -model nano",
		"-model huge":                      "unknown",
		"-mode fancy":                      "-mode",
		"-preset quick -steps 10":          "warmup", // the preset's warmup 20 ≥ 10 steps
		"-preset quick -save-at x":         "save-at",
		"-preset quick -rank 0 -mode lora": "rank",
		"-preset quick extra":              "unexpected",
	} {
		_, err := parseTrainArgs(strings.Fields(args))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one mentioning %q", args, err, want)
		}
	}
}

func TestConfigFileRoundTrip(t *testing.T) {
	cfg, err := parseTrainArgs(strings.Fields("-preset quick -steps 77 -mode lora -rank 4"))
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

// Modes name what runs: relora is the paper's method, warm start included;
// lora is plain LoRA; a switch given as its own flag wins over the mode.
func TestModesSayWhatRuns(t *testing.T) {
	for args, want := range map[string]string{
		"-preset quick -mode relora":               "ReLoRA (R+O+J+WS)",
		"-preset quick -mode lora":                 "LoRA",
		"-preset quick -mode lora-ws":              "LoRA+WS",
		"-preset quick -mode relora -warm-start 0": "+R+O+J",
		"-preset quick -mode relora -jagged=false": "+R+O+WS",
		"-preset quick -mode full":                 "Full-rank",
		"-preset quick -mode galore":               "GaLore",
		"-preset quick -mode lowrank":              "Low-rank",
		"-preset quick -mode relora -restarts=false -optimizer-reset=false -jagged=false": "LoRA+WS",
	} {
		cfg, err := parseTrainArgs(strings.Fields(args))
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if got := experiments.RowName(cfg); got != want {
			t.Errorf("%q runs %s, want %s", args, got, want)
		}
	}
	cfg, _ := parseTrainArgs(strings.Fields("-preset quick -mode relora"))
	if cfg.ReLoRA.WarmStartSteps != 75 {
		t.Errorf("relora's warm start %d, want the quick preset's 75", cfg.ReLoRA.WarmStartSteps)
	}
}

// -mode galore and -mode lowrank train one way from step 0: no warm start
// or ReLoRA switch, whatever the preset has; GaLore takes the paper's T and
// α unless given; a switch asked for by its own flag is refused by name.
func TestWholeRunModes(t *testing.T) {
	cfg, err := parseTrainArgs(strings.Fields("-preset quick -mode galore"))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.ReLoRA
	if r.Method != relora.MethodGaLore || r.WarmStartSteps != 0 || r.Restarts || r.OptimizerReset || r.Jagged ||
		r.GaLoreRefreshEvery != relora.DefaultGaLoreRefreshEvery || r.GaLoreScale != relora.DefaultGaLoreScale {
		t.Errorf("-mode galore: %+v", r)
	}
	cfg, err = parseTrainArgs(strings.Fields("-preset quick -mode galore -galore-refresh-every 50 -galore-scale 0.5"))
	if err != nil || cfg.ReLoRA.GaLoreRefreshEvery != 50 || cfg.ReLoRA.GaLoreScale != 0.5 {
		t.Errorf("-galore-refresh-every 50 -galore-scale 0.5: %+v, %v", cfg.ReLoRA, err)
	}
	cfg, err = parseTrainArgs(strings.Fields("-preset quick -mode lowrank"))
	if err != nil || cfg.ReLoRA.Method != relora.MethodLowRank || cfg.ReLoRA.GaLoreScale != 0 || cfg.ReLoRA.WarmStartSteps != 0 {
		t.Errorf("-mode lowrank: %+v, %v", cfg.ReLoRA, err)
	}
	for args, want := range map[string]string{
		"-preset quick -mode lowrank -restarts":         "restarts",
		"-preset quick -mode galore -warm-start 10":     "warm_start",
		"-preset quick -mode lora -galore-scale 0.25":   "galore_scale",
		"-preset quick -mode galore -galore-scale 0":    "galore_scale",
		"-preset quick -mode lowrank -galore-scale 0.5": "galore_scale",
	} {
		if _, err := parseTrainArgs(strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %s", args, err, want)
		}
	}
}
