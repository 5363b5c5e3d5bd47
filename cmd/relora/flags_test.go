package main

import (
	"strings"
	"testing"
)

// Every numeric flag is range-checked with its name in the error, NaN and
// infinities included, and a flag given twice is refused.
func TestFlagValuesAreCheckedByName(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"-init-std NaN", "-init-std NaN: not a finite number"},
		{"-lr Inf", "-lr +Inf: not a finite number"},
		{"-lr -Inf", "-lr -Inf: not a finite number"},
		{"-lr 0", "-lr 0: out of range, want a value in (0, ∞)"},
		{"-threads 0", "-threads 0: out of range, want a value in [1, 256]"},
		{"-threads -1", "-threads -1: out of range"},
		{"-threads 1000", "-threads 1000: out of range, want a value in [1, 256]"},
		{"-batch 0", "-batch 0: out of range"},
		{"-val-frac 1", "-val-frac 1: out of range, want a value in (0, 1)"},
		{"-beta2 1", "-beta2 1: out of range, want a value in [0, 1)"},
		{"-prune-ratio 1.5", "-prune-ratio 1.5: out of range"},
		{"-rope-base 1", "-rope-base 1: out of range"},
		{"-model nano -model tiny", "flag -model given twice"},
		{"-steps 10 -steps 20", "flag -steps given twice"},
		{"-quiet -quiet", "flag -quiet given twice"},
	} {
		_, err := parseTrainArgs(strings.Fields("-preset quick " + c.args))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.args, err, c.want)
		}
	}
	for _, ok := range []string{"-threads 1", "-threads 256", "-init-std 0.02", "-quiet", "-prune-ratio 0"} {
		if _, err := parseTrainArgs(strings.Fields("-preset quick " + ok)); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

func TestMatrixFlagsAreCheckedByName(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"-j 0", "-j 0: out of range, want a value in [1, 256]"},
		{"-preset quick -preset tiny", "flag -preset given twice"},
		{"-seeds 2 -seeds 3", "flag -seeds given twice"},
	} {
		_, _, err := parseMatrix("ablation", strings.Fields(c.args))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.args, err, c.want)
		}
	}
}
