package report

import (
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
)

// Tick is a labelled tick at a data value.
type Tick struct {
	Value float64
	Label string
}

// maxValueTicks is the most distinct data values a log axis labels one by
// one (ranks 2…64, model sizes, sweep points); beyond it the axis gets
// decade ticks.
const maxValueTicks = 12

// setTicks configures the ticker of an axis whose on-page length is about
// inches. values are the data's values on that axis (data units) and fixed
// the caller's own ticks, if any:
//   - fixed ticks: exactly those (plot.ConstantTicks);
//   - a log axis with at most maxValueTicks distinct values: exactly the
//     data's values (plot.ConstantTicks), so ranks 2, 4, 8 read 2, 4, 8;
//   - another log axis: gonum's decade ticks (plot.LogTicks);
//   - a linear axis: niceTicks, integers only when every value is one.
//
// Log axes are drawn in log10 coordinates (see toPlot), so every ticker's
// values are mapped into them.
func setTicks(a *plot.Axis, log bool, inches float64, values []float64, fixed []Tick) {
	target := max(3, min(int(math.Round(inches*0.9)), 8))
	var t plot.Ticker
	switch distinct := distinctFinite(values); {
	case len(fixed) > 0:
		ts := make(plot.ConstantTicks, len(fixed))
		for i, f := range fixed {
			ts[i] = plot.Tick{Value: f.Value, Label: f.Label}
		}
		t = ts
	case log && len(distinct) >= 2 && len(distinct) <= maxValueTicks:
		t = valueTicks(distinct)
	case log:
		t = logTicks{target: target}
	default:
		t = niceTicks{target: target, integer: len(distinct) > 0 && allIntegers(distinct)}
	}
	if log {
		t = log10Ticker{t}
	}
	a.Tick.Marker = t
}

// distinctFinite returns the sorted distinct finite values.
func distinctFinite(vs []float64) []float64 {
	var out []float64
	for _, v := range vs {
		if finite(v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func allIntegers(vs []float64) bool {
	for _, v := range vs {
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return false
		}
	}
	return true
}

// valueTicks labels exactly the given data values, in one number style.
func valueTicks(vs []float64) plot.ConstantTicks {
	ts := make(plot.ConstantTicks, len(vs))
	for i, v := range vs {
		ts[i] = plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)}
	}
	return compact(ts)
}

// log10Ticker adapts a ticker in data units to an axis drawn in log10
// coordinates: it is asked for the range as log10 values and returns its
// ticks at log10 positions, dropping those outside the range (gonum
// reserves room for their labels, leaving gaps) and non-positive ones.
type log10Ticker struct{ plot.Ticker }

// Ticks implements plot.Ticker.
func (l log10Ticker) Ticks(logLo, logHi float64) []plot.Tick {
	lo, hi := math.Pow(10, logLo), math.Pow(10, logHi)
	if !(lo > 0 && hi > lo) || !finite(hi) {
		return nil
	}
	var out []plot.Tick
	for _, t := range l.Ticker.Ticks(lo, hi) {
		if t.Value > 0 && t.Value >= lo*(1-1e-9) && t.Value <= hi*(1+1e-9) {
			t.Value = math.Log10(t.Value)
			out = append(out, t)
		}
	}
	return out
}

// logTicks is gonum's plot.LogTicks (labels at powers of ten, minor ticks
// at their multiples) with big labels compacted ("1M", not "1e+06"). It
// falls back to niceTicks when fewer than two powers of ten fall inside
// the range, which plot.LogTicks would leave with at most one label.
type logTicks struct{ target int }

// Ticks implements plot.Ticker.
func (l logTicks) Ticks(lo, hi float64) []plot.Tick {
	var in []plot.Tick
	labels := 0
	for _, t := range (plot.LogTicks{Prec: -1}).Ticks(lo, hi) {
		if t.Value >= lo*(1-1e-9) && t.Value <= hi*(1+1e-9) {
			in = append(in, t)
			if t.Label != "" {
				labels++
			}
		}
	}
	if labels >= 2 {
		return compact(in)
	}
	if ts, n := oneTwoFive(lo, hi); n >= 3 {
		return compact(ts)
	}
	return niceTicks{target: l.target}.Ticks(lo, hi)
}

// oneTwoFive labels 1, 2 and 5 × 10^k inside [lo, hi] (positive), with
// unlabelled minor ticks at the other whole multiples of 10^k: on a log axis
// spanning one to two decades those labels are evenly spread, where linear
// steps crowd the upper end ("0.05 0.06 0.07 0.08"). It also returns the
// number of labels.
func oneTwoFive(lo, hi float64) ([]plot.Tick, int) {
	if !(lo > 0 && hi > lo) || !finite(hi) {
		return nil, 0
	}
	var out []plot.Tick
	labels := 0
	for k := int(math.Floor(math.Log10(lo))); k <= int(math.Ceil(math.Log10(hi))); k++ {
		for m := 1; m <= 9; m++ {
			// Parsing "me k" gives the float nearest m·10^k (0.02, not
			// 0.020000000000000004).
			v, _ := strconv.ParseFloat(strconv.Itoa(m)+"e"+strconv.Itoa(k), 64)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
				labels++
			}
			out = append(out, t)
		}
	}
	return out, labels
}

// niceTicks places labelled ticks at multiples of 1, 2, 2.5 or 5 × 10^k,
// choosing the step whose label count is closest to target, with unlabelled
// minor ticks in between; with integer, steps and minor steps are whole
// numbers (a "merges" axis reads 1, 2, 3, never 1.5).
//
// It stays hand-written because gonum's plot.DefaultTicks aims at three
// labels whatever the axis length (0, 1000, 2000 on an 8-inch step axis),
// has no integer-only mode (1.0, 1.5, 2.0 on a 1…3 axis), and prints
// "20000" and "-0.05, 0, 0.05" (mixed decimals) where niceTicks prints
// "20k" and "-0.05, 0.00, 0.05".
type niceTicks struct {
	target  int
	integer bool
}

// Ticks implements plot.Ticker.
func (n niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(hi-lo) {
		return nil
	}
	step, minorPer := niceStep(lo, hi, n.target, n.integer)
	minor := step / float64(minorPer)
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9)); math.Abs(m-2.5) < 1e-9 && step < 10 {
		decimals++ // 2.5 × 10^k needs one more digit than its magnitude, unless it is whole (25, 250, ...)
	}
	var ticks []plot.Tick
	first := int64(math.Ceil(lo/minor - 1e-9))
	last := int64(math.Floor(hi/minor + 1e-9))
	if last-first > 1000 { // cannot happen for a sane step; guards the loop
		return nil
	}
	for k := first; k <= last; k++ {
		v := float64(k) * minor
		if math.Abs(v) < minor*1e-6 {
			v = 0 // avoid "-0" and 1e-17 labels
		}
		t := plot.Tick{Value: v}
		if k%int64(minorPer) == 0 {
			t.Label = strconv.FormatFloat(v, 'f', decimals, 64)
			if decimals > 5 {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
			}
		}
		ticks = append(ticks, t)
	}
	return compact(ticks)
}

// niceStep returns the label step and the number of minor intervals per
// label step; with integer, both steps are whole numbers.
func niceStep(lo, hi float64, target int, integer bool) (step float64, minorPer int) {
	mags := math.Floor(math.Log10((hi - lo) / float64(target)))
	bestErr := math.Inf(1)
	for e := mags - 1; e <= mags+1; e++ {
		for _, m := range []struct {
			mult    float64
			minor   int
			penalty float64 // 2.5 steps read less naturally than 1-2-5
		}{{1, 5, 0}, {2, 4, 0}, {2.5, 5, 0.5}, {5, 5, 0}} {
			s := m.mult * math.Pow(10, e)
			if integer && s != math.Trunc(s) {
				continue
			}
			count := math.Floor(hi/s+1e-9) - math.Ceil(lo/s-1e-9) + 1
			// Ties go to the larger step (fewer, less crowded labels),
			// which is why the comparison is <=.
			if err := math.Abs(count-float64(target)) + m.penalty; err <= bestErr {
				bestErr, step, minorPer = err, s, m.minor
			}
		}
	}
	if step == 0 { // integer axis spanning less than one unit per label
		step, minorPer = 1, 1
	}
	if integer && step/float64(minorPer) != math.Trunc(step/float64(minorPer)) {
		minorPer = int(step) // minor ticks at every integer
	}
	return step, minorPer
}

// compact rewrites labels of large round numbers as "20k" / "1.5M": step
// counts in the paper go to hundreds of thousands, and "200000" labels are
// wide and hard to read.
func compact(ticks []plot.Tick) []plot.Tick {
	maxAbs := 0.0
	for _, t := range ticks {
		if t.Label != "" {
			maxAbs = math.Max(maxAbs, math.Abs(t.Value))
		}
	}
	unit, suffix := 0.0, ""
	switch {
	case maxAbs >= 1e6:
		unit, suffix = 1e6, "M"
	case maxAbs >= 1e4:
		unit, suffix = 1e3, "k"
	default:
		return ticks
	}
	// Only rewrite when every label is a whole number of hundredths of the
	// unit; otherwise the compact form would round away information.
	for _, t := range ticks {
		q := t.Value / unit * 100
		if t.Label != "" && math.Abs(q-math.Round(q)) > 1e-6 {
			return ticks
		}
	}
	for i, t := range ticks {
		switch {
		case t.Label == "":
		case t.Value == 0:
			ticks[i].Label = "0"
		default:
			ticks[i].Label = strconv.FormatFloat(math.Round(t.Value/unit*100)/100, 'f', -1, 64) + suffix
		}
	}
	return ticks
}
