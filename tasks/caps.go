package tasks

// A split drawn statement by statement or file by file follows its files'
// sizes: one long generated table once held 16% of cola's dev split, and
// a task scored on it scored that file. So no source file may appear in
// more than maxFileShare of a split's examples (at least one example; a
// pair counts once for each file it shows text of). The generators skip a
// file that has reached the cap while drawing; after the overlap filter has
// dropped examples, trimToCap drops the examples past the cap of the
// smaller split. The books task has one source text, Opticks, and no cap.

// maxFileShare is the largest share of a split's examples one file may be
// in.
const maxFileShare = 0.02

// fileCap is the cap for a split of n examples.
func fileCap(n int) int { return max(1, int(maxFileShare*float64(n))) }

// capper counts the examples each file is in while a split is drawn.
type capper struct {
	limit int
	n     map[string]int
}

// newCapper draws a split of n with the cap of a split 1/32 smaller: room
// for the examples the overlap filter drops, so that trimToCap seldom has
// to drop more.
func newCapper(n int) *capper { return capAt(fileCap(n - n/32)) }

func capAt(limit int) *capper { return &capper{limit: limit, n: map[string]int{}} }

// full reports whether any of the files has reached the cap.
func (c *capper) full(paths ...string) bool {
	for _, p := range paths {
		if p != "" && c.n[p] >= c.limit {
			return true
		}
	}
	return false
}

// add counts an example drawn from the files (a file named twice once).
func (c *capper) add(paths ...string) {
	for i, p := range paths {
		if p != "" && (i == 0 || p != paths[0]) {
			c.n[p]++
		}
	}
}

// files lists the distinct files an example shows text of.
func (ex Example) files() []string {
	switch {
	case ex.from[0] == ex.from[1]:
		return []string{ex.from[0]}
	default:
		return ex.from[:]
	}
}

// trimToCap keeps the examples, in order, that keep every file within the
// cap of the kept split's size (the cap shrinks with the split, so until
// nothing more is dropped), and returns how many it dropped.
func trimToCap(exs []Example) ([]Example, int) {
	kept := exs
	for {
		c := capAt(fileCap(len(kept)))
		var next []Example
		for _, ex := range kept {
			if !c.full(ex.files()...) {
				c.add(ex.files()...)
				next = append(next, ex)
			}
		}
		if len(next) == len(kept) {
			return kept, len(exs) - len(kept)
		}
		kept = next
	}
}
