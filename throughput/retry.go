package throughput

import (
	"fmt"
	"slices"
)

// A speed probe whose own FMA peak readings, at its start and end, fall
// more than SharedSpread apart ran while other work slowed the core: on
// the project's 2-core VM the loop read 57-94 GFLOP/s within a
// 12-minute Table 4 run whose neighbours came and went, and no whole
// table met the rule all afternoon. Measuring such a probe again
// keeps the rule for the whole table (Table.PeakShortfall) and lets a
// table measured between a neighbour's bursts pass it. Which attempt is
// kept depends on the readings only, never on the speed-ups measured.

// DefaultRetries is how many more times a shared probe is measured by
// default: at most three attempts, so a run on a busy host ends (at about
// three times the usual 12 minutes at worst) with the least shared one.
const DefaultRetries = 2

// PeakShortfall is how far the probe's lowest FMA peak reading fell under
// its highest, and whether that marks the core as shared while it ran
// (Table.PeakShortfall's rule); 0 and false with fewer than two readings.
func (m Measurement) PeakShortfall() (float64, bool) {
	if len(m.Peak) < 2 {
		return 0, false
	}
	return shortfall(slices.Min(m.Peak), slices.Max(m.Peak))
}

// MeasureQuiet runs a speed probe (run) until an attempt's readings say the
// core was not shared, at most 1+retries times, and returns the first such
// attempt or, when every attempt was shared, the one whose readings fell
// least apart; its Attempts field counts the attempts made. before, when
// set, is called before each attempt after the first with that attempt's
// number and the previous attempt's shortfall, for a progress line.
func MeasureQuiet(run func() (Measurement, error), retries int, before func(attempt int, shortfall float64)) (Measurement, error) {
	var best Measurement
	bestShort := 2.0
	for attempt := 1; attempt <= 1+max(0, retries); attempt++ {
		m, err := run()
		if err != nil {
			return Measurement{}, err
		}
		short, shared := m.PeakShortfall()
		if short < bestShort {
			best, bestShort = m, short
		}
		best.Attempts = attempt
		if !shared || attempt > retries {
			break
		}
		if before != nil {
			before(attempt+1, short)
		}
	}
	return best, nil
}

// remeasuredNote says how many speed probes were measured again, for the
// table's notes; "" when none was.
func (t *Table) remeasuredNote() string {
	if t.Remeasured == 0 {
		return ""
	}
	probes := "probe was"
	if t.Remeasured > 1 {
		probes = "probes were"
	}
	attempts := "attempt"
	if t.Reattempts > 1 {
		attempts = "attempts"
	}
	return fmt.Sprintf("%d speed %s measured again (%d more %s in all) because one core's FMA loop read more than %.0f%% apart at the probe's start and end (`relora throughput -retries`); each keeps its first attempt within %.0f%%, or else the one whose readings fell least apart, chosen by the readings alone. The range above is over the kept attempts.",
		t.Remeasured, probes, t.Reattempts, attempts, 100*SharedSpread, 100*SharedSpread)
}
