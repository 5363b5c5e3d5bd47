package report

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
)

// yScale maps a line plot's Y values to plot coordinates: linear, log10
// (log), or symmetric log (symlog > 0). The symmetric log is
// sign(y)·log10(1 + |y|/symlog): close to linear for |y| below symlog and
// logarithmic beyond, so one axis shows both a ±0.03 gap and a +40 one, of
// either sign, where a linear axis flattens the small one onto zero and a
// log axis cannot show zero or negatives at all.
type yScale struct {
	log    bool
	symlog float64
}

// to maps a data value to plot coordinates.
func (s yScale) to(v float64) float64 {
	switch {
	case s.log:
		return math.Log10(v)
	case s.symlog > 0:
		return math.Copysign(math.Log10(1+math.Abs(v)/s.symlog), v)
	}
	return v
}

// symlogTicks labels 0 and ±symlog·10^k for k ≥ 1 on a symmetric-log axis
// (its values are in plot coordinates), with unlabelled minor ticks at the
// other whole multiples of each power, as on a log axis. ±symlog itself
// sits too close to 0 for three labels to fit, so it is a minor tick.
type symlogTicks struct{ symlog float64 }

// Ticks implements plot.Ticker.
func (t symlogTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(hi-lo) {
		return nil
	}
	s := yScale{symlog: t.symlog}
	var out []plot.Tick
	add := func(v float64, label bool) {
		if y := s.to(v); y >= lo-1e-9 && y <= hi+1e-9 {
			tk := plot.Tick{Value: y}
			if label {
				tk.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			out = append(out, tk)
		}
	}
	add(0, true)
	top := math.Max(math.Abs(lo), math.Abs(hi)) // plot coordinates: log10(1 + |y|/symlog)
	for k := 0; k <= int(math.Ceil(top)); k++ {
		for m := 1; m <= 9; m++ {
			// Parsing "me k" gives the float nearest m·10^k (0.02, not
			// 0.020000000000000004).
			p, _ := strconv.ParseFloat(strconv.Itoa(m)+"e"+strconv.Itoa(k), 64)
			v, _ := strconv.ParseFloat(strconv.FormatFloat(p*t.symlog, 'g', 12, 64), 64)
			add(v, m == 1 && k > 0)
			add(-v, m == 1 && k > 0)
		}
	}
	slices.SortFunc(out, func(a, b plot.Tick) int { return cmp.Compare(a.Value, b.Value) })
	return out
}
