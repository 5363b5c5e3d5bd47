package train

import "fmt"

// EventDiverged marks the metrics line of the step a run diverged at.
const EventDiverged = "diverged"

// The instability rule. A run can blow up and recover: at lr 1.1 the
// loss climbs to nearly twice the untrained model's for a few dozen steps
// and then settles, and +R+O (an optimizer reset without the jagged
// re-warm) jumps back up at its first merge. Such a run ends "ok" and
// diverges by no rule, yet it is not a stable run. The training loss of
// one batch is too noisy to judge alone (gostd's files range from
// boilerplate to dense code: one batch's loss is often twice another's),
// so the rule reads its moving average: unstable when that average rises
// above UnstableFactor times its own lowest value so far. Over the 168
// committed pre-training runs the largest such rise of a stable run was
// 1.18×, and of the runs that jump at a merge 1.64× to 2.77×.
const (
	UnstableWindow = 20  // steps in the moving average of the training loss
	UnstableFactor = 1.5 // the rise over its running minimum that flags a run
)

// Instability is where a run's smoothed training loss rose the most above
// its running minimum.
type Instability struct {
	Step  int     // the step of the largest rise
	Ratio float64 // the smoothed loss there over the running minimum before it
}

// Unstable says whether a rise reaches UnstableFactor.
func (i Instability) Unstable() bool { return i.Ratio >= UnstableFactor }

// String says it for a table, e.g. "2.18× its running minimum at step 622".
func (i Instability) String() string {
	return fmt.Sprintf("smoothed training loss %.2f× its running minimum at step %d", i.Ratio, i.Step)
}

// InstabilityOf finds the largest rise of the moving average of ms's
// training loss over its running minimum, from the first full window on
// (the untrained model's first steps fall; they cannot rise above a
// minimum that does not exist yet).
func InstabilityOf(ms []StepMetrics) Instability {
	var worst Instability
	sum, runMin := 0.0, 0.0
	for i, m := range ms {
		sum += m.Loss
		if i >= UnstableWindow {
			sum -= ms[i-UnstableWindow].Loss
		}
		if i+1 < UnstableWindow {
			continue
		}
		avg := sum / UnstableWindow
		if i+1 > UnstableWindow && runMin > 0 && avg/runMin > worst.Ratio {
			worst = Instability{Step: m.Step, Ratio: avg / runMin}
		}
		if i+1 == UnstableWindow || avg < runMin {
			runMin = avg
		}
	}
	return worst
}
