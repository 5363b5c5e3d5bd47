package tasks

import (
	"bytes"
	"cmp"
	"slices"
)

// contentLinks finds the copies no path rule names (bytes and strings,
// text/template and html/template, reflect and internal/reflectlite, the
// two gcimporters): pairs of files whose bodies, from the first func on,
// share at least copyShare of the smaller body's text.
//
// Shared text is counted in sampled windows: the overlapSpan-byte windows
// whose rolling hash is 0 mod copySample (a content-defined sample, so two
// copies sample the same windows wherever these sit). A window found in
// more than copyMaxFiles files is an idiom of test code, not a copy, and
// is not counted; without that rule a few idioms chain most of the library
// into one group.
const (
	copyShare    = 0.3
	copySample   = 8
	copyMaxFiles = 3
	copyMinShare = 4 // sampled windows: a few lines, so small files do not link by chance
)

// fileBits is the room a sampled window's key leaves for its file index:
// a key is the window's hash with its low fileBits bits replaced by the
// file, so one sort of plain integers groups the windows by hash.
const fileBits = 16

// contentLinks returns the linked pairs (i < j), in order. Generated files
// (skip) take no part.
func contentLinks(files []File, skip []bool) [][2]int {
	if len(files) >= 1<<fileBits {
		panic("tasks: too many files to sample")
	}
	var keys []uint64
	for i, f := range files {
		if skip[i] {
			continue
		}
		k := bytes.Index(f.Text, []byte("\nfunc "))
		if k < 0 {
			continue
		}
		windows(f.Text[k+1:], func(_ int, h uint64) {
			if h%copySample == 0 {
				keys = append(keys, h>>fileBits<<fileBits|uint64(i))
			}
		})
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)       // a window a file repeats counts once
	counts := make([]int, len(files)) // distinct sampled windows per file
	shared := map[[2]int]int{}
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi]>>fileBits == keys[lo]>>fileBits {
			hi++
		}
		for _, k := range keys[lo:hi] {
			counts[k&(1<<fileBits-1)]++
		}
		if n := hi - lo; n >= 2 && n <= copyMaxFiles {
			for a := lo; a < hi; a++ {
				for b := a + 1; b < hi; b++ {
					shared[[2]int{int(keys[a] & (1<<fileBits - 1)), int(keys[b] & (1<<fileBits - 1))}]++
				}
			}
		}
		lo = hi
	}
	var out [][2]int
	for p, n := range shared {
		if n >= copyMinShare && float64(n) >= copyShare*float64(min(counts[p[0]], counts[p[1]])) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b [2]int) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	return out
}
