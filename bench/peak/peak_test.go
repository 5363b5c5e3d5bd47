package peak

import "testing"

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 2, 3}, 2.5}} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestMeasure runs a short measurement: it checks the loop runs and the
// rate is positive, not its value (the machine may be busy).
func TestMeasure(t *testing.T) {
	g, err := Measure(2, 1_000_000)
	if err != nil {
		t.Skip(err)
	}
	if len(g) != 2 || g[0] <= 0 || g[0] > g[1] {
		t.Fatalf("Measure(2, 1e6) = %v, want 2 sorted positive rates", g)
	}
}
