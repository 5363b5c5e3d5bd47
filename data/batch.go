package data

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// Sampler draws training batches of random windows from the train part.
//
// Batch number k depends only on (seed, k): before drawing it, the sampler
// reseeds its PCG from a hash of the seed and k. That makes resuming exact
// and O(1) — SetStep(k) puts a restarted run on precisely the batches an
// uninterrupted run would see — without serialising generator state. Window
// starts are derived from PCG.Uint64 alone (Go documents PCG as a fixed
// algorithm) with our own bounded draw, not rand.Rand helpers whose
// algorithms may change between Go versions or differ on 32-bit platforms,
// so a seed names the same batches on every Go version and architecture.
//
// A Sampler must not be copied after first use or used from several
// goroutines at once.
type Sampler struct {
	source string
	train  []byte
	seqLen int
	batch  int
	seed   uint64
	step   int
	pcg    rand.PCG
}

// NewSampler returns a sampler over train (typically the first result of
// Corpus.Split) that yields batchSize windows of seqLen+1 bytes per batch:
// seqLen inputs and the seqLen targets shifted by one. source only labels
// errors. Window starts are uniform over every offset at which a whole window
// fits, drawn independently (with replacement).
func NewSampler(source string, train []byte, seqLen, batchSize int, seed uint64) (*Sampler, error) {
	switch {
	case seqLen < 1:
		return nil, fmt.Errorf("data: %s: sampler seqLen = %d, want >= 1", source, seqLen)
	case batchSize < 1:
		return nil, fmt.Errorf("data: %s: sampler batch size = %d, want >= 1", source, batchSize)
	case len(train) < seqLen+1:
		return nil, fmt.Errorf("data: %s: train part has %d bytes, shorter than one window of seqLen+1 = %d",
			source, len(train), seqLen+1)
	}
	return &Sampler{source: source, train: train, seqLen: seqLen, batch: batchSize, seed: seed}, nil
}

// Next writes the current batch into inputs and targets, each of length
// batchSize*seqLen, row-major by sequence (row r is window r), and advances
// to the next step. The caller owns and reuses the buffers, so Next does not
// allocate. It panics if a buffer has the wrong length.
func (s *Sampler) Next(inputs, targets []int32) {
	n := s.batch * s.seqLen
	if len(inputs) != n || len(targets) != n {
		panic(fmt.Sprintf("data: %s: Sampler.Next buffers have lengths %d and %d, want batch*seqLen = %d*%d = %d",
			s.source, len(inputs), len(targets), s.batch, s.seqLen, n))
	}
	s.reseed(s.step)
	for r := range s.batch {
		w := s.train[s.draw():][:s.seqLen+1]
		fillWindow(w, inputs[r*s.seqLen:][:s.seqLen], targets[r*s.seqLen:][:s.seqLen])
	}
	s.step++
}

// Step returns the number of batches drawn so far, i.e. the index of the
// batch the next call to Next returns. Save it in checkpoints.
func (s *Sampler) Step() int { return s.step }

// SetStep makes the next call to Next return batch number step, as if Next
// had been called step times since NewSampler. Restoring a checkpoint's Step
// this way reproduces the uninterrupted batch sequence. It panics if step is
// negative.
func (s *Sampler) SetStep(step int) {
	if step < 0 {
		panic(fmt.Sprintf("data: %s: Sampler.SetStep(%d): negative step", s.source, step))
	}
	s.step = step
}

// reseed sets the generator to the state for batch step. Both PCG words go
// through splitmix64 because PCG.Seed installs its arguments as the raw LCG
// state, and nearby raw states (seed 1 vs 2, step k vs k+1) would give
// visibly correlated streams. The low word is a bijection of step for a
// fixed seed, so distinct steps never share a state.
func (s *Sampler) reseed(step int) {
	s.pcg.Seed(mix64(s.seed), mix64(uint64(step)^mix64(s.seed^0x6a09e667f3bcc909)))
}

// draw returns a uniform window start in [0, len(train)-seqLen-1].
func (s *Sampler) draw() int {
	return int(boundedUint64(&s.pcg, uint64(len(s.train)-s.seqLen)))
}

// boundedUint64 returns a uniform value in [0, n) using Lemire's
// multiply-and-reject method, spelled out here so the mapping from PCG
// output to window offsets can never change underneath saved runs.
func boundedUint64(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// mix64 is the splitmix64 finaliser: a cheap bijective hash that spreads
// every input bit over the whole word.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// fillWindow widens a seqLen+1 byte window into inputs (its first seqLen
// bytes) and targets (its last seqLen bytes: each input's next token).
func fillWindow(w []byte, inputs, targets []int32) {
	for j := range inputs {
		inputs[j] = int32(w[j])
		targets[j] = int32(w[j+1])
	}
}

// Validation is a fixed set of non-overlapping windows from the validation
// part, evaluated in order, so that validation loss is comparable across
// steps, seeds and runs.
type Validation struct {
	val    []byte
	seqLen int
	batch  int
	starts []int
}

// NewValidation cuts val (typically the second result of Corpus.Split) into
// consecutive, non-overlapping windows of seqLen+1 bytes starting at offset
// 0; a tail shorter than a window is unused. If there are more than
// maxWindows windows (0 means no limit), exactly maxWindows of them are kept,
// evenly spaced and always including the first and the last (window k of m
// is window round(k*(n-1)/(m-1)) of n; with m = 1 only the first), so
// evaluation on a big corpus stays cheap yet still spans the whole part.
// Batches hold up to batchSize windows. source only labels errors.
func NewValidation(source string, val []byte, seqLen, batchSize, maxWindows int) (*Validation, error) {
	switch {
	case seqLen < 1:
		return nil, fmt.Errorf("data: %s: validation seqLen = %d, want >= 1", source, seqLen)
	case batchSize < 1:
		return nil, fmt.Errorf("data: %s: validation batch size = %d, want >= 1", source, batchSize)
	case maxWindows < 0:
		return nil, fmt.Errorf("data: %s: validation maxWindows = %d, want >= 0 (0 = all)", source, maxWindows)
	}
	n := len(val) / (seqLen + 1)
	if n == 0 {
		return nil, fmt.Errorf("data: %s: validation part has %d bytes, shorter than one window of seqLen+1 = %d; no validation window",
			source, len(val), seqLen+1)
	}
	idx := spaced(n, maxWindows)
	starts := make([]int, len(idx))
	for i, k := range idx {
		starts[i] = k * (seqLen + 1)
	}
	return &Validation{val: val, seqLen: seqLen, batch: batchSize, starts: starts}, nil
}

// spaced returns the indices of the windows to keep out of n: all of them,
// or m evenly spaced ones including 0 and n-1. Because the stride
// (n-1)/(m-1) is > 1 when m < n, rounding never produces duplicates. The
// arithmetic is exact 128-bit integer math so the choice is the same on every
// platform and never overflows.
func spaced(n, m int) []int {
	if m == 0 || m >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, m)
	if m == 1 {
		return idx // just window 0
	}
	den := 2 * uint64(m-1)
	for k := range idx {
		// round(k*(n-1)/(m-1)) = floor((2k(n-1) + (m-1)) / (2(m-1)))
		hi, lo := bits.Mul64(2*uint64(k), uint64(n-1))
		lo, carry := bits.Add64(lo, uint64(m-1), 0)
		q, _ := bits.Div64(hi+carry, lo, den)
		idx[k] = int(q)
	}
	return idx
}

// Starts returns the offsets into val of the windows kept, ascending. It is
// exposed so callers can report coverage; do not modify it.
func (v *Validation) Starts() []int { return v.starts }

// NumBatches returns how many batches cover all kept windows; the last one
// may hold fewer than batchSize windows.
func (v *Validation) NumBatches() int { return (len(v.starts) + v.batch - 1) / v.batch }

// Batch writes validation batch i (0 <= i < NumBatches) into the first
// rows*seqLen elements of inputs and targets, row-major by sequence, and
// returns rows, the number of windows in the batch. The buffers must hold at
// least rows*seqLen elements (batchSize*seqLen always suffices). Since every
// window has seqLen targets, the mean loss over all validation tokens is the
// rows-weighted mean of per-batch mean losses.
func (v *Validation) Batch(i int, inputs, targets []int32) (rows int) {
	if i < 0 || i >= v.NumBatches() {
		panic(fmt.Sprintf("data: Validation.Batch(%d) out of range [0, %d)", i, v.NumBatches()))
	}
	lo := i * v.batch
	hi := min(lo+v.batch, len(v.starts))
	rows = hi - lo
	if len(inputs) < rows*v.seqLen || len(targets) < rows*v.seqLen {
		panic(fmt.Sprintf("data: Validation.Batch buffers have lengths %d and %d, need rows*seqLen = %d*%d",
			len(inputs), len(targets), rows, v.seqLen))
	}
	for r, start := range v.starts[lo:hi] {
		fillWindow(v.val[start:][:v.seqLen+1], inputs[r*v.seqLen:][:v.seqLen], targets[r*v.seqLen:][:v.seqLen])
	}
	return rows
}
