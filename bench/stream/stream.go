// Package stream measures the machine's memory bandwidth the way STREAM
// (McCalpin) does: copy and triad over float32 arrays much larger than the
// last-level cache, on 1 thread and on 2 threads splitting the range. It is
// the ceiling the elementwise kernels' GB/s (bench/elementwise) are compared
// with, as bench/peak is the GEMMs'; cmd/roofline prints both.
//
// Bytes follow STREAM's convention: each array a kernel reads or writes is
// counted once per pass, so copy (c = a) moves 2 arrays and triad
// (a = b + s·c) 3; the cache-line read a store to a line not in cache
// costs (write-allocate) is not counted.
package stream

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/relorago/harness/kernels/vecmath"
)

// DefaultFloats is the length of each array, 64 MiB of float32: 3 arrays
// are 192 MiB, several times any last-level cache this runs on.
const DefaultFloats = 16 << 20

// Arrays counted per pass (STREAM's convention).
const (
	copyArrays  = 2 // read a, write c
	triadArrays = 3 // read b and c, write a
)

// triadScale is triad's s, STREAM's 3.
const triadScale = 3

// Rates is one measurement: GB/s (1e9 bytes) per timed round, sorted.
type Rates struct {
	Copy, Triad []float64
}

// Best is the highest rate of rounds, the figure STREAM reports (0 for
// none): on a shared machine the slower rounds are the ones disturbed.
func Best(r []float64) float64 {
	if len(r) == 0 {
		return 0
	}
	return slices.Max(r)
}

// arrays holds STREAM's a, b and c.
type arrays struct{ a, b, c []float32 }

// newArrays allocates and fills n floats each: writing every page before
// timing keeps page faults out of the rounds.
func newArrays(n int) *arrays {
	s := &arrays{make([]float32, n), make([]float32, n), make([]float32, n)}
	for i := range n {
		s.a[i], s.b[i], s.c[i] = 1, 2, 0
	}
	return s
}

// copyPass is c = a over [lo, hi) with Go's copy: the runtime's memmove,
// assembly (on AVX CPUs other than recent Intel, blocks of 1 MiB and more
// are stored non-temporally, so without write-allocate).
func (s *arrays) copyPass(lo, hi int) { copy(s.c[lo:hi], s.a[lo:hi]) }

// triadPass is a = b + s·c over [lo, hi) with vecmath.AddScaled, the AVX2
// kernel of the Add op (plain stores, as every elementwise kernel's).
func (s *arrays) triadPass(lo, hi int) {
	vecmath.AddScaled(s.a[lo:hi], s.b[lo:hi], s.c[lo:hi], triadScale)
}

// Measure times rounds passes of copy and of triad over n floats an array,
// each pass split into threads equal ranges run at once, after one untimed
// pass of each. Times are wall clock: memory bandwidth is shared by the
// whole machine, so other work lowers it whatever clock is read.
func Measure(n, threads, rounds int) (Rates, error) {
	if n < threads || threads < 1 || rounds < 1 {
		return Rates{}, errors.New("stream: n ≥ threads ≥ 1 and rounds ≥ 1 needed")
	}
	if p := runtime.GOMAXPROCS(0); p < threads {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	}
	s := newArrays(n)
	bytes := func(arrays int) float64 { return float64(arrays) * 4 * float64(n) }
	var r Rates
	s.run(threads, s.copyPass)
	s.run(threads, s.triadPass)
	for range rounds {
		r.Copy = append(r.Copy, bytes(copyArrays)/s.run(threads, s.copyPass)/1e9)
		r.Triad = append(r.Triad, bytes(triadArrays)/s.run(threads, s.triadPass)/1e9)
	}
	slices.Sort(r.Copy)
	slices.Sort(r.Triad)
	return r, nil
}

// run runs pass over the arrays' range cut into threads equal parts, one
// goroutine (on its own locked OS thread) each, and returns the seconds
// from the start of the first to the end of the last.
func (s *arrays) run(threads int, pass func(lo, hi int)) float64 {
	n := len(s.a)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(threads)
	done.Add(threads)
	for t := range threads {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			defer done.Done()
			ready.Done()
			<-start
			pass(t*n/threads, (t+1)*n/threads)
		}()
	}
	ready.Wait() // every worker started, so the time is the passes'
	t0 := time.Now()
	close(start)
	done.Wait()
	return time.Since(t0).Seconds()
}
