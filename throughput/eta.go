package throughput

import (
	"math"
	"time"

	"github.com/relorago/harness/experiments"
)

// Progress estimates the time a Table 4 measurement has left (12 minutes
// or more on a 2-core machine, two thirds of it at the largest width), for
// its progress lines. A speed probe's round runs one step of the
// full-rank model and one of each variant, so a round's time is close to
// proportional to the full-rank step's FLOPs times the number of step
// kinds; the seconds per such FLOP on t threads come from the last probe
// done on t threads (or, before one has run, from another thread count
// scaled as if a second thread added 80%). A probe's rounds then follow the
// rule the probe applies: as many as fill Seconds at the estimated round
// time, within MinRounds and MaxRounds, after Warmup untimed ones. Memory
// probes run one full-rank-sized step each in a fresh process, two at a
// time.
type Progress struct {
	plan    Plan
	work    []float64       // per speed probe: one round's work (FLOP model)
	memWork []float64       // per memory probe: one step's
	perFLOP map[int]float64 // seconds per unit of work, by thread count
}

// probeSetup is a speed probe's time besides its rounds: starting the
// process, building a model per step kind, the FMA peak readings (about
// 2 s at d 64 in a 7 s probe, by Table 4's progress lines); memSetup is a
// memory probe's (one model).
const (
	probeSetup = 2 * time.Second
	memSetup   = time.Second
)

// twoThreadGain is the speed-up the estimate assumes for each thread
// count's first probe, per doubling of threads, before any probe on that
// count has run (Table 4's own steps scaled 1.4-2.0x from 1 to 2 threads).
const twoThreadGain = 1.6

// NewProgress prepares the estimate for plan, whose probes are preset p's.
func NewProgress(p experiments.Preset, plan Plan) (*Progress, error) {
	pr := &Progress{plan: plan, perFLOP: map[int]float64{}}
	full := func(s Spec) (float64, error) {
		cfg, err := s.Width.Config(p)
		if err != nil {
			return 0, err
		}
		return cfg.Model.FLOPsPerStep(cfg.Batch, 0, 0), nil
	}
	for _, s := range plan.Speed {
		f, err := full(s)
		if err != nil {
			return nil, err
		}
		pr.work = append(pr.work, f*float64(1+len(s.Variants)))
	}
	for _, s := range plan.Memory {
		f, err := full(s)
		if err != nil {
			return nil, err
		}
		pr.memWork = append(pr.memWork, f)
	}
	return pr, nil
}

// Done records that speed probe i took elapsed (its process, start to
// end) and ran m's rounds; m.Warmup is its untimed rounds.
func (pr *Progress) Done(i int, m Measurement, elapsed time.Duration) {
	rounds := m.Warmup + len(m.Full.StepMillis)
	if rounds == 0 || pr.work[i] <= 0 {
		return
	}
	// A probe faster than the setup estimate still says its rounds were
	// quick: count a tenth of its time for them.
	rest := max(elapsed-probeSetup, elapsed/10)
	pr.perFLOP[m.Threads] = rest.Seconds() / (float64(rounds) * pr.work[i])
}

// Left estimates the time the speed probes from index next on and then
// every memory probe will take; false until a probe has been done.
func (pr *Progress) Left(next int) (time.Duration, bool) {
	if len(pr.perFLOP) == 0 {
		return 0, false
	}
	var secs float64
	for j := next; j < len(pr.plan.Speed); j++ {
		s := pr.plan.Speed[j]
		round := pr.secondsPerFLOP(s.Threads) * pr.work[j]
		want := s.MinRounds
		if s.Seconds > 0 && round > 0 {
			want = int(math.Ceil(s.Seconds / round))
		}
		if s.MaxRounds > 0 {
			want = min(want, s.MaxRounds)
		}
		secs += float64(s.Warmup+max(1, s.MinRounds, want))*round + probeSetup.Seconds()
	}
	var mem float64
	for j, s := range pr.plan.Memory {
		mem += pr.secondsPerFLOP(s.Threads)*pr.memWork[j] + memSetup.Seconds()
	}
	secs += mem / 2
	return time.Duration(secs * float64(time.Second)), true
}

// secondsPerFLOP is the calibration for t threads: measured on t, else
// derived from the thread count measured nearest to t.
func (pr *Progress) secondsPerFLOP(t int) float64 {
	if c, ok := pr.perFLOP[t]; ok {
		return c
	}
	best, bestT := 0.0, 0
	for th, c := range pr.perFLOP {
		if bestT == 0 || absInt(th-t) < absInt(bestT-t) || (absInt(th-t) == absInt(bestT-t) && th < bestT) {
			best, bestT = c, th
		}
	}
	// Each doubling of threads divides the time by twoThreadGain.
	return best * math.Pow(twoThreadGain, -math.Log2(float64(t)/float64(bestT)))
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
