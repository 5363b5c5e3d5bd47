package tasks

import (
	"bytes"
	"slices"
)

// The Go tasks' three splits are made of whole lineage groups
// (lineage.go): dev and test excerpts come from files whose every version
// training never shows. Learning rates are chosen on dev and the table
// reports test, so test is a split of its own, not a part of dev.

// The splits, as indices.
const (
	inTrain = iota
	inDev
	inTest
)

// splitNames are the splits' names, for messages.
var splitNames = [3]string{"train", "dev", "test"}

// minBody is the least text after a file's first func for excerpts.
const minBody = 400

// bodyStart returns the offset of the line of the file's first func, or
// false when that leaves under minBody bytes. An excerpt starts there or
// later, so package clauses and import lists (which name the package
// outright) are never shown.
func bodyStart(f File) (int, bool) {
	k := bytes.Index(f.Text, []byte("\nfunc "))
	if k < 0 || len(f.Text)-(k+1) < minBody {
		return 0, false
	}
	return k + 1, true
}

// stratum is the family index of a file, len(Families) for the rest.
func stratum(f File) int {
	if k := slices.Index(Families, f.Family()); k >= 0 {
		return k
	}
	return len(Families)
}

// splitsOf memoises assignSplits: every Go task of a seed uses the same
// splits.
func (src *Sources) splitsOf(seed uint64) []int {
	src.splitMu.Lock()
	defer src.splitMu.Unlock()
	if src.splits[seed] == nil {
		if src.splits == nil {
			src.splits = map[uint64][]int{}
		}
		src.splits[seed] = assignSplits(src, seed)
	}
	return src.splits[seed]
}

// pool is one split's Go files that have a body to take excerpts from.
type pool struct {
	files    []File
	body     []int            // offset of the line of each file's first func
	byFamily map[string][]int // family → indices into files
}

// splitFiles divides the Go files with a body into the three splits'
// pools.
func splitFiles(src *Sources, seed uint64) [3]*pool {
	var ps [3]*pool
	for s := range ps {
		ps[s] = &pool{byFamily: map[string][]int{}}
	}
	for i, s := range src.splitsOf(seed) {
		f := src.Go[i]
		k, ok := bodyStart(f)
		if s < 0 || !ok {
			continue
		}
		p := ps[s]
		p.byFamily[f.Family()] = append(p.byFamily[f.Family()], len(p.files))
		p.files = append(p.files, f)
		p.body = append(p.body, k)
	}
	return ps
}
