package report

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The symmetric log keeps sign and order, is odd, is close to linear well
// inside ±symlog and a decade per unit far outside it.
func TestSymlogMapping(t *testing.T) {
	s := yScale{symlog: 0.01}
	vs := []float64{-40, -1, -0.03, -0.001, 0, 0.001, 0.03, 1, 40}
	for i, v := range vs {
		if got, neg := s.to(v), s.to(-v); got != -neg {
			t.Errorf("to(%g) = %g but to(%g) = %g: not odd", v, got, -v, neg)
		}
		if i > 0 && !(s.to(v) > s.to(vs[i-1])) {
			t.Errorf("to(%g) = %g is not above to(%g) = %g", v, s.to(v), vs[i-1], s.to(vs[i-1]))
		}
	}
	if got, want := s.to(0.0001), 0.0001/0.01/math.Ln10; math.Abs(got-want) > 0.01*want {
		t.Errorf("to(1e-4) = %g, want about %g (linear near 0)", got, want)
	}
	if d := s.to(1000) - s.to(100); math.Abs(d-1) > 1e-4 {
		t.Errorf("to(1000) − to(100) = %g, want about 1 (one decade)", d)
	}
	if (yScale{}).to(-2.5) != -2.5 || (yScale{log: true}).to(100) != 2 {
		t.Error("linear or log mapping changed")
	}
}

// A symmetric-log axis over −3…+40 labels 0 and the powers of ten beyond
// the linear threshold on both sides, in order, with minor ticks between.
func TestSymlogTicks(t *testing.T) {
	s := yScale{symlog: 0.01}
	ts := symlogTicks{symlog: 0.01}.Ticks(s.to(-3), s.to(40))
	if got, want := labels(ts), []string{"-1", "-0.1", "0", "0.1", "1", "10"}; !slices.Equal(got, want) {
		t.Errorf("labels = %v, want %v", got, want)
	}
	if len(ts) < 30 {
		t.Errorf("%d ticks, want the minor ticks too", len(ts))
	}
	for i, tk := range ts {
		if tk.Value < s.to(-3)-1e-9 || tk.Value > s.to(40)+1e-9 {
			t.Errorf("tick %+v outside the range", tk)
		}
		if i > 0 && !(tk.Value > ts[i-1].Value) {
			t.Errorf("ticks out of order at %d: %v then %v", i, ts[i-1].Value, tk.Value)
		}
	}
}

// A symmetric-log line plot renders bands and negative values, and bad
// settings are refused by name.
func TestSymlogLinePlot(t *testing.T) {
	x := []float64{0, 1, 2}
	ok := LinePlot{Title: "gap", SymLogY: 0.01, ZeroLine: true, Series: []Series{{Name: "a", X: x,
		Y: []float64{-0.02, 23, 0.1}, Lo: []float64{-0.05, 6, -0.6}, Hi: []float64{0.01, 39, 0.9}}}}
	if err := ok.Save(filepath.Join(t.TempDir(), "g"), 5, 3.5); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		plot LinePlot
		want string
	}{
		{LinePlot{SymLogY: -1, Series: ok.Series}, "SymLogY must be a finite number ≥ 0"},
		{LinePlot{SymLogY: math.NaN(), Series: ok.Series}, "SymLogY must be a finite number ≥ 0"},
		{LinePlot{SymLogY: 0.01, LogY: true, Series: ok.Series}, "SymLogY and LogY exclude each other"},
	} {
		if err := tc.plot.Save(filepath.Join(t.TempDir(), "g"), 5, 3.5); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SymLogY %g LogY %v: error %v, want %q", tc.plot.SymLogY, tc.plot.LogY, err, tc.want)
		}
	}
}
