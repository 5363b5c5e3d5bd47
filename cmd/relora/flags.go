package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"
)

// maxThreads bounds -threads: more kernel threads than this only adds
// contention on any machine the harness runs on, and a typo like 1000
// should be an error, not a thousand spinning goroutines.
const maxThreads = 256

// flagRange is the values a numeric flag accepts.
type flagRange struct {
	lo, hi         float64
	loOpen, hiOpen bool // the bound itself is excluded
}

func (r flagRange) holds(x float64) bool {
	return (x > r.lo || !r.loOpen && x == r.lo) && (x < r.hi || !r.hiOpen && x == r.hi)
}

func (r flagRange) String() string {
	lo, hi := "[", "]"
	if r.loOpen {
		lo = "("
	}
	if r.hiOpen {
		hi = ")"
	}
	return fmt.Sprintf("%s%s, %s%s", lo, num(r.lo), num(r.hi), hi)
}

func num(x float64) string {
	if math.IsInf(x, 1) {
		return "∞"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

var (
	atLeast0 = flagRange{lo: 0, hi: math.Inf(1), hiOpen: true}
	atLeast1 = flagRange{lo: 1, hi: math.Inf(1), hiOpen: true}
	positive = flagRange{lo: 0, hi: math.Inf(1), loOpen: true, hiOpen: true}
	fraction = flagRange{lo: 0, hi: 1} // [0, 1]
)

// flagRanges are the accepted values of the numeric flags of every relora
// command, by flag name. Config.Validate checks the whole config too, but
// names JSON fields; these checks name the flag the user typed.
var flagRanges = map[string]flagRange{
	"dim": atLeast1, "layers": atLeast1, "heads": atLeast1, "ffn": atLeast1, "seq": atLeast1,
	"norm-eps": positive, "init-std": positive, "rope-base": {lo: 1, hi: math.Inf(1), loOpen: true, hiOpen: true},
	"val-frac": {lo: 0, hi: 1, loOpen: true, hiOpen: true}, "val-windows": atLeast0,
	"batch": {lo: 1, hi: 4096}, "steps": atLeast1, "lr": positive, "warmup": atLeast0,
	"min-lr-ratio": {lo: 0, hi: 1, loOpen: true}, "grad-clip": atLeast0,
	"beta1": {lo: 0, hi: 1, hiOpen: true}, "beta2": {lo: 0, hi: 1, hiOpen: true}, "adam-eps": positive, "weight-decay": atLeast0,
	"eval-every": atLeast1, "checkpoint-every": atLeast0, "threads": {lo: 1, hi: maxThreads},
	"rank": atLeast1, "alpha": positive, "lora-lr": positive, "warm-start": atLeast0, "reset-every": atLeast1,
	"restart-warmup": atLeast0, "prune-ratio": fraction, "control-target": atLeast0,
	"j": {lo: 1, hi: maxThreads}, "throttle": atLeast0, "time-scale": positive, "step": atLeast0,
	"min-rounds": {lo: 2, hi: math.Inf(1), hiOpen: true}, "max-rounds": {lo: 2, hi: math.Inf(1), hiOpen: true},
	"seconds": positive,
}

// parseFlags is fs.Parse with the checks every relora command shares: a
// flag given twice is an error (the flag package silently keeps the last,
// and -model, -preset and -config were read before parsing, keeping the
// first), and every numeric flag given must be a finite number within its
// range, named in the error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	refuseRepeats(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	return checkNumericFlags(fs)
}

// refuseRepeats makes each flag of fs accept one value. Calling it again
// on the same flag set is harmless.
func refuseRepeats(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := f.Value.(*onceValue); !ok {
			f.Value = &onceValue{Value: f.Value, name: f.Name}
		}
	})
}

// onceValue is a flag value that refuses a second Set.
type onceValue struct {
	flag.Value
	name string
	set  bool
}

func (v *onceValue) Set(s string) error {
	if v.set {
		return fmt.Errorf("flag -%s given twice (the second value is %q): give it once", v.name, s)
	}
	v.set = true
	return v.Value.Set(s)
}

// String is the wrapped value's. flag.PrintDefaults calls it on a zero
// onceValue to learn the zero value's text; that one wraps nothing.
func (v *onceValue) String() string {
	if v == nil || v.Value == nil {
		return ""
	}
	return v.Value.String()
}

// IsBoolFlag keeps a bool flag usable without a value (-quiet).
func (v *onceValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Get exposes the wrapped value (flag.Getter).
func (v *onceValue) Get() any {
	if g, ok := v.Value.(flag.Getter); ok {
		return g.Get()
	}
	return nil
}

// checkNumericFlags checks the numeric flags given on the command line.
func checkNumericFlags(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		var x float64
		switch v := getValue(f).(type) {
		case float64:
			x = v
		case int:
			x = float64(v)
		case uint64:
			x = float64(v)
		default:
			return
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			err = fmt.Errorf("-%s %s: not a finite number", f.Name, f.Value)
			return
		}
		if r, ok := flagRanges[f.Name]; ok && !r.holds(x) {
			err = fmt.Errorf("-%s %s: out of range, want a value in %s", f.Name, f.Value, r)
		}
	})
	return err
}

func getValue(f *flag.Flag) any {
	if g, ok := f.Value.(flag.Getter); ok {
		return g.Get()
	}
	return nil
}
