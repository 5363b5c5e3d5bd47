package tasks

import "bytes"

// Lineage groups keep a file's versions in one split, but test code
// repeats itself across unrelated files too (a table row, a long error
// message, a test key), and Opticks repeats its phrases. A dev or test
// input that shares a long span with a training input scores memory, not
// skill. So after generation every dev and test example sharing a span of
// overlapSpan bytes or more with a training example's text is dropped, and
// every test example sharing one with a kept dev example: learning rates
// are chosen on dev, so test must be new to dev too. Spans are found by a
// Rabin–Karp rolling hash over every window of overlapSpan bytes; a hash
// hit counts only when the bytes are equal.

// overlapSpan is the shortest shared span that drops an example.
const overlapSpan = 50

// rkBase is the rolling hash's multiplier (odd; arithmetic mod 2^64).
const rkBase = 0x100000001b3

// rkTop is rkBase^(overlapSpan−1): the weight of a window's first byte.
var rkTop = func() uint64 {
	p := uint64(1)
	for range overlapSpan - 1 {
		p *= rkBase
	}
	return p
}()

// windows calls fn with the start and hash of every overlapSpan-byte
// window of b, in order.
func windows(b []byte, fn func(at int, h uint64)) {
	if len(b) < overlapSpan {
		return
	}
	var h uint64
	for _, c := range b[:overlapSpan] {
		h = h*rkBase + uint64(c)
	}
	fn(0, h)
	for i := overlapSpan; i < len(b); i++ {
		h = (h-uint64(b[i-overlapSpan])*rkTop)*rkBase + uint64(b[i])
		fn(i-overlapSpan+1, h)
	}
}

// spanIndex holds every window of a set of texts, by hash.
type spanIndex struct {
	texts [][]byte
	at    map[uint64][]spanRef
}

type spanRef struct{ text, off int32 }

func newSpanIndex(texts [][]byte) *spanIndex {
	x := &spanIndex{texts: texts, at: map[uint64][]spanRef{}}
	for t, b := range texts {
		windows(b, func(at int, h uint64) {
			x.at[h] = append(x.at[h], spanRef{int32(t), int32(at)})
		})
	}
	return x
}

// mark sets hit[t] for every indexed text t that shares an overlapSpan-byte
// span with b.
func (x *spanIndex) mark(b []byte, hit []bool) {
	windows(b, func(at int, h uint64) {
		for _, r := range x.at[h] {
			if !hit[r.text] && bytes.Equal(b[at:at+overlapSpan], x.texts[r.text][r.off:int(r.off)+overlapSpan]) {
				hit[r.text] = true
			}
		}
	})
}

// texts lists the examples' inputs: A and B of example i are texts 2i and
// 2i+1.
func texts(exs []Example) [][]byte {
	out := make([][]byte, 0, 2*len(exs))
	for _, ex := range exs {
		out = append(out, ex.A, ex.B)
	}
	return out
}

// sharing reports, per candidate, whether it shares a span with any of the
// reference examples.
func sharing(candidates, reference []Example) []bool {
	x := newSpanIndex(texts(candidates))
	hit := make([]bool, len(x.texts))
	for _, ex := range reference {
		x.mark(ex.A, hit)
		x.mark(ex.B, hit)
	}
	out := make([]bool, len(candidates))
	for i := range out {
		out[i] = hit[2*i] || hit[2*i+1]
	}
	return out
}

// dropShared returns the candidates that share no span with the
// reference, and how many were dropped.
func dropShared(candidates, reference []Example) ([]Example, int) {
	shared := sharing(candidates, reference)
	var kept []Example
	for i, ex := range candidates {
		if !shared[i] {
			kept = append(kept, ex)
		}
	}
	return kept, len(candidates) - len(kept)
}

// filterOverlap drops the dev and test examples that share a span with a
// training example, then the test examples that share one with a kept dev
// example.
func filterOverlap(train, dev, test []Example, f *Filtered) (keptDev, keptTest []Example) {
	keptDev, f.DevOverlap = dropShared(dev, train)
	keptTest, f.TestOverlap = dropShared(test, train)
	keptTest, f.TestDevOverlap = dropShared(keptTest, keptDev)
	return keptDev, keptTest
}

// TrainFileOverlap counts the dev and test examples of a Go task that
// share an overlapSpan-byte span with any file of the training split, not
// only with the training examples the filter reads. It is reported, not
// filtered: the model sees only the examples, and what such spans mostly
// are is test code's idioms (a license line, "if err != nil {
// t.Fatal(err) }" at one indentation, a table's struct header) that every
// package repeats. The books task's training text is its examples: 0, 0.
func (src *Sources) TrainFileOverlap(t *Task) (dev, test int) {
	if t.Name == "books" {
		return 0, 0
	}
	train := splitFiles(src, t.Seed)[inTrain]
	count := func(exs []Example) int {
		x := newSpanIndex(texts(exs))
		hit := make([]bool, len(x.texts))
		for _, f := range train.files {
			x.mark(f.Text, hit)
		}
		n := 0
		for i := range exs {
			if hit[2*i] || hit[2*i+1] {
				n++
			}
		}
		return n
	}
	return count(t.Dev), count(t.Test)
}
