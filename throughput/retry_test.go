package throughput

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
)

// TestMeasureQuietKeepsTheQuietAttempt feeds MeasureQuiet attempts with set
// FMA readings: a shared one (60-90) is measured again, the first quiet
// one is kept; when every attempt is shared the one whose readings fell
// least apart is kept; a quiet first attempt and retries 0 run once.
func TestMeasureQuietKeepsTheQuietAttempt(t *testing.T) {
	attempts := func(readings ...[]float64) (func() (Measurement, error), *int) {
		n := 0
		return func() (Measurement, error) {
			if n == len(readings) {
				return Measurement{}, errors.New("more attempts than the case planned")
			}
			m := Measurement{Peak: readings[n], Load: []float64{float64(n)}}
			n++
			return m, nil
		}, &n
	}
	cases := []struct {
		name     string
		readings [][]float64
		retries  int
		runs     int     // attempts made
		kept     int     // which attempt was kept (its Load[0])
		notices  []int   // attempt numbers announced
		short    float64 // the announced shortfall of the first notice
	}{
		{"quiet at once", [][]float64{{90, 91}}, 2, 1, 0, nil, 0},
		{"shared then quiet", [][]float64{{90, 60}, {92, 90}, {90, 90}}, 2, 2, 1, []int{2}, 1.0 / 3},
		{"always shared", [][]float64{{90, 60}, {80, 90}, {90, 70}}, 2, 3, 1, []int{2, 3}, 1.0 / 3},
		{"no retries", [][]float64{{90, 60}, {90, 90}}, 0, 1, 0, nil, 0},
		{"one reading", [][]float64{{90}}, 2, 1, 0, nil, 0},
	}
	for _, c := range cases {
		run, n := attempts(c.readings...)
		var notices []int
		var short float64
		m, err := MeasureQuiet(run, c.retries, func(attempt int, s float64) {
			if notices == nil {
				short = s
			}
			notices = append(notices, attempt)
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if *n != c.runs || m.Attempts != c.runs || int(m.Load[0]) != c.kept || !slices.Equal(notices, c.notices) || math.Abs(short-c.short) > 1e-12 {
			t.Errorf("%s: ran %d, Attempts %d, kept attempt %v, notices %v (shortfall %v); want %d runs, attempt %d kept, notices %v (%v)",
				c.name, *n, m.Attempts, m.Load, notices, short, c.runs, c.kept, c.notices, c.short)
		}
	}
	boom := errors.New("probe failed")
	if _, err := MeasureQuiet(func() (Measurement, error) { return Measurement{}, boom }, 2, nil); !errors.Is(err, boom) {
		t.Errorf("error %v, want the probe's", err)
	}
}

// TestRemeasuredProbesAreCounted checks that Build counts the extra
// attempts and that the table's notes say so only when there were some,
// so a table measured in one go renders as before.
func TestRemeasuredProbesAreCounted(t *testing.T) {
	p, _ := experiments.Get("quick")
	ws, _ := Widths(p, nil)
	plan := NewPlan(p, ws, DefaultOptions)
	speed, memory := fakeMeasure(plan, func(int, int, bool) float64 { return 1 })
	tab, err := Build(p, plan, speed, memory)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Remeasured != 0 || strings.Contains(tab.Markdown(), "measured again") {
		t.Errorf("no probe was measured again, but the table counts %d or says so", tab.Remeasured)
	}
	speed[0].Attempts, speed[1].Attempts = 3, 1
	tab, _ = Build(p, plan, speed, memory)
	if tab.Remeasured != 1 || tab.Reattempts != 2 || !strings.Contains(tab.Markdown(), "1 speed probe was measured again (2 more attempts in all)") {
		t.Errorf("Remeasured %d, Reattempts %d, want 1 probe, 2 attempts and a note saying so", tab.Remeasured, tab.Reattempts)
	}
}
