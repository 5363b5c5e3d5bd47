package report

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// axisScale configures a linear or log axis whose on-page length is about
// inches, so the number of tick labels scales with the space available
// (gonum's default aims at 3 labels whatever the size, which gives odd steps
// such as 0, 9k, 18k on a wide loss plot).
func axisScale(a *plot.Axis, log bool, inches float64) {
	target := int(math.Round(inches * 0.9))
	target = max(3, min(target, 8))
	if log {
		a.Tick.Marker = logTicks{target: target}
	} else {
		a.Tick.Marker = niceTicks{target: target}
	}
}

// niceTicks places labelled ticks at multiples of 1, 2, 2.5 or 5 × 10^k,
// choosing the step whose label count is closest to target, with unlabelled
// minor ticks in between.
type niceTicks struct{ target int }

// Ticks implements plot.Ticker.
func (n niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(hi-lo) {
		return nil
	}
	step, minorPer := niceStep(lo, hi, n.target)
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
			t.Label = formatTick(v, decimals)
		}
		ticks = append(ticks, t)
	}
	return compact(ticks)
}

// niceStep returns the label step and the number of minor intervals per
// label step.
func niceStep(lo, hi float64, target int) (step float64, minorPer int) {
	mags := math.Floor(math.Log10((hi - lo) / float64(target)))
	bestErr := math.Inf(1)
	for e := mags - 1; e <= mags+1; e++ {
		for _, m := range []struct {
			mult    float64
			minor   int
			penalty float64 // 2.5 steps read less naturally than 1-2-5
		}{{1, 5, 0}, {2, 4, 0}, {2.5, 5, 0.5}, {5, 5, 0}} {
			s := m.mult * math.Pow(10, e)
			count := math.Floor(hi/s+1e-9) - math.Ceil(lo/s-1e-9) + 1
			// Ties go to the larger step (fewer, less crowded labels),
			// which is why the comparison is <=.
			if err := math.Abs(count-float64(target)) + m.penalty; err <= bestErr {
				bestErr, step, minorPer = err, s, m.minor
			}
		}
	}
	return step, minorPer
}

// formatTick prints a tick value with a fixed number of decimals so all
// labels of an axis look alike ("0.0, 0.5, 1.0"); very small steps switch to
// exponent notation to stay short.
func formatTick(v float64, decimals int) string {
	if decimals > 5 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
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

// logTicks labels a log axis drawn in log10 coordinates (see toPlot): it is
// given the axis range as log10 values and returns ticks at log10 positions
// labelled in data units. gonum's LogTicks labels only powers of ten, which
// leaves an axis spanning less than about a decade (e.g. loss 2.8–3.6)
// without a single label; in that case it falls back to nice linear ticks,
// which are positive because the range is.
type logTicks struct{ target int }

// Ticks implements plot.Ticker.
func (l logTicks) Ticks(logLo, logHi float64) []plot.Tick {
	lo, hi := math.Pow(10, logLo), math.Pow(10, logHi)
	if !(lo > 0 && hi > lo) || !finite(hi) {
		return nil
	}
	decades := 0
	for p := math.Ceil(logLo - 1e-9); p <= logHi+1e-9; p++ {
		decades++
	}
	var ticks []plot.Tick
	if decades >= 2 {
		ticks = decadeTicks(lo, hi)
	} else {
		for _, t := range niceTicks(l).Ticks(lo, hi) {
			if t.Value > 0 {
				ticks = append(ticks, t)
			}
		}
	}
	for i := range ticks {
		ticks[i].Value = math.Log10(ticks[i].Value)
	}
	return ticks
}

// decadeTicks labels the powers of ten in [lo, hi] and puts minor ticks at
// their multiples. Unlike plot.LogTicks it returns no ticks outside the
// range (gonum reserves room for their labels, leaving a gap under the
// title) and uses one label style per axis: plain numbers for 0.001…1000,
// otherwise "1e-5" for every label instead of a mix of "0.0001" and "1e-05".
func decadeTicks(lo, hi float64) []plot.Tick {
	p0 := int(math.Floor(math.Log10(lo)))
	p1 := int(math.Ceil(math.Log10(hi)))
	plain := p0 >= -3 && p1 <= 3
	var ticks []plot.Tick
	for p := p0; p <= p1; p++ {
		base := math.Pow(10, float64(p))
		for m := 1; m < 10; m++ {
			v := base * float64(m)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				if plain {
					t.Label = strconv.FormatFloat(v, 'f', -1, 64)
				} else {
					t.Label = "1e" + strconv.Itoa(p)
				}
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
