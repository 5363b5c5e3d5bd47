package throughput

import (
	"math"
	"time"

	"github.com/relorago/harness/experiments"
)

// Progress estimates the time a Table 4 measurement has left (about 12
// minutes on a 2-core machine, two thirds of it at the largest width), for
// its progress lines. A speed probe's round runs one step of the
// full-rank model and one of each variant, so a round's time follows the
// full-rank step's FLOPs times the number of step kinds, its work; the
// seconds per unit of work on t threads come from the last probe done on
// t threads (or, before one has run, from another thread count scaled by
// twoThreadGain per doubling), and fall with the work as workExponent
// says. A probe's rounds then follow the rule the probe applies: as many
// as fill Seconds at the estimated round time, within MinRounds and
// MaxRounds, after Warmup untimed ones. Memory probes run one
// full-rank-sized step each in a fresh process, two at a time.
type Progress struct {
	plan       Plan
	work       []float64           // per speed probe: one round's work (FLOP model)
	memWork    []float64           // per memory probe: one step's
	calibrated map[int]calibration // by thread count
}

// calibration is the seconds per unit of work a probe of some work took.
type calibration struct{ perFLOP, work float64 }

// workExponent is how a round's seconds per unit of work fall as the work
// grows: small widths run their products further below the GEMM's peak and
// pay more per op. Table 4's one-thread probes on the 2-core VM took
// 0.022, 0.018, 0.015, 0.014 and 0.0135 s per GFLOP of round work at d 64,
// 128, 256, 512 and 1024 (186 times the work from the first to the last),
// close to work^-0.1; a constant cost put the first estimate of an 11m47s
// run at 19m51s, this one the first of an 11m24s run at 13m26s.
const workExponent = -0.1

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
	pr := &Progress{plan: plan, calibrated: map[int]calibration{}}
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
	pr.calibrated[m.Threads] = calibration{rest.Seconds() / (float64(rounds) * pr.work[i]), pr.work[i]}
}

// Left estimates the time the speed probes from index next on and then
// every memory probe will take; false until a probe has been done.
func (pr *Progress) Left(next int) (time.Duration, bool) {
	if len(pr.calibrated) == 0 {
		return 0, false
	}
	var secs float64
	for j := next; j < len(pr.plan.Speed); j++ {
		s := pr.plan.Speed[j]
		round := pr.seconds(s.Threads, pr.work[j])
		secs += float64(s.rounds(round))*round + probeSetup.Seconds()
	}
	var mem float64
	for j, s := range pr.plan.Memory {
		mem += pr.seconds(s.Threads, pr.memWork[j]) + memSetup.Seconds()
	}
	secs += mem / 2
	return time.Duration(secs * float64(time.Second)), true
}

// seconds estimates the time of work on t threads: from the calibration on
// t threads, else from the thread count measured nearest to t.
func (pr *Progress) seconds(t int, work float64) float64 {
	c, ok := pr.calibrated[t]
	scale := 1.0
	if !ok {
		bestT := 0
		for th, ct := range pr.calibrated {
			if bestT == 0 || absInt(th-t) < absInt(bestT-t) || (absInt(th-t) == absInt(bestT-t) && th < bestT) {
				c, bestT = ct, th
			}
		}
		// Each doubling of threads divides the time by twoThreadGain.
		scale = math.Pow(twoThreadGain, -math.Log2(float64(t)/float64(bestT)))
	}
	return scale * c.perFLOP * work * math.Pow(work/c.work, workExponent)
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
