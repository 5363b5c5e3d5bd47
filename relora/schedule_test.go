package relora

import (
	"math"
	"testing"
)

// Expected values follow the official (newest)
// _get_cosine_schedule_with_multiple_warmups_lambda with
// num_training_steps=2000, first_warmup_steps=50, restart_warmup_steps=10,
// restart_every=500, min_lr_ratio=0.1 (cos in radians):
//
//	step 25:   25/50                                      = 0.5
//	step 499:  p=(449)/1950,  0.1+0.45(1+cos(πp))
//	step 500:  restart, 0/10 · target                     = 0
//	step 505:  5/10 · (0.1+0.45(1+cos(π·(500+10−50)/1950)))
//	step 510:  cosine again, p = 460/1950 (continuous with the re-warm's end)
//	step 1003: 3/10 · (0.1+0.45(1+cos(π·960/1950)))
func TestJaggedScheduleMatchesOfficialFormula(t *testing.T) {
	s := Schedule{Steps: 2000, Warmup: 50, MinRatio: 0.1, Restarts: []int{500, 1000, 1500}, RestartWarmup: 10}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	cos := func(p float64) float64 { return 0.1 + 0.45*(1+math.Cos(math.Pi*p)) }
	cases := []struct {
		step int
		want float64
	}{
		{0, 0},
		{25, 0.5},
		{49, 0.98},
		{50, 1},
		{499, cos(449.0 / 1950)},
		{500, 0},
		{505, 0.5 * cos(460.0/1950)},
		{509, 0.9 * cos(460.0/1950)},
		{510, cos(460.0 / 1950)},
		{1003, 0.3 * cos(960.0/1950)},
		{1999, cos(1949.0 / 1950)},
	}
	for _, c := range cases {
		if got := s.Multiplier(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("step %d: got %.12f, want %.12f", c.step, got, c.want)
		}
	}
	// Spot values as literal numbers, so a change of the helper above cannot hide a bug.
	if got := s.Multiplier(505); math.Abs(got-0.4409894) > 1e-6 {
		t.Errorf("step 505: got %.7f, want 0.4409894", got)
	}
}

func TestPlainCosine(t *testing.T) {
	s := Schedule{Steps: 2000, Warmup: 50, MinRatio: 0.1}
	for step, want := range map[int]float64{0: 0, 10: 0.2, 50: 1, 1025: 0.55, 2000: 0.1} {
		if got := s.Multiplier(step); math.Abs(got-want) > 1e-12 {
			t.Errorf("step %d: got %.12f, want %.12f", step, got, want)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	bad := []Schedule{
		{Steps: 0, Warmup: 0, MinRatio: 0.1},
		{Steps: 10, Warmup: 10, MinRatio: 0.1},
		{Steps: 10, Warmup: 1, MinRatio: 0},
		{Steps: 10, Warmup: 1, MinRatio: 0.1, Restarts: []int{5}, RestartWarmup: 0},
		{Steps: 10, Warmup: 1, MinRatio: 0.1, Restarts: []int{5, 3}, RestartWarmup: 1},
	}
	for i, s := range bad {
		if s.Validate() == nil {
			t.Errorf("case %d: %+v validated", i, s)
		}
	}
}
