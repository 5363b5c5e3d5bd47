package tasks

import (
	"cmp"
	"math"
	"slices"
)

// Lineage groups are lumpy (the runtime package alone holds 129 of
// runtime's 163 test files; math's 47 usable files are in groups of 25,
// 13, 5, 2, 1 and 1), and every split must still hold files of every
// family: the family task draws a sixth of each split from each family.
// So the groups are not split by a coin per group but shared out towards
// targets: greedily, then improved by moving single groups and swapping
// pairs while that lowers the cost below.

// splitShares are the splits' target shares of the usable files of each
// family (and of the files of no family).
var splitShares = [3]float64{0.7, 0.15, 0.15}

// minSplitFiles is the fewest usable files of a family each split must
// hold: the family task draws a sixth of a split from each family and no
// file may be in more than maxFileShare of it, so a family needs
// 1 / (6 · maxFileShare) files, 9, in every split. 15% of math's 47 would
// be 7.
var minSplitFiles = math.Ceil(1 / (float64(len(Families)) * maxFileShare))

// shortfallCost is the cost of each file a split is short of
// minSplitFiles in a family: it outweighs any imbalance.
const shortfallCost = 100

// splitPlan is an assignment of groups to splits and the usable files
// each split then holds per stratum.
type splitPlan struct {
	weight [][]float64 // per group: usable files per stratum
	in     []int       // per group: its split
	held   [3][]float64
	target [3][]float64
	floor  []float64 // per stratum: the files each split must hold
}

func newSplitPlan(weight [][]float64, nStrata int) *splitPlan {
	p := &splitPlan{weight: weight, in: make([]int, len(weight)), floor: make([]float64, nStrata)}
	total := make([]float64, nStrata)
	for _, w := range weight {
		for k, x := range w {
			total[k] += x
		}
	}
	for s := range p.held {
		p.held[s] = make([]float64, nStrata)
		p.target[s] = make([]float64, nStrata)
	}
	for k, n := range total {
		if k < len(Families) {
			p.floor[k] = min(minSplitFiles, math.Floor(n/3))
		}
		for s := inDev; s <= inTest; s++ {
			p.target[s][k] = max(splitShares[s]*n, p.floor[k])
		}
		p.target[inTrain][k] = n - p.target[inDev][k] - p.target[inTest][k]
	}
	return p
}

// move puts group g in split s.
func (p *splitPlan) move(g, s int) {
	for k, x := range p.weight[g] {
		p.held[p.in[g]][k] -= x
		p.held[s][k] += x
	}
	p.in[g] = s
}

// cost is the plan's distance from its targets (relative to each target,
// so neither a large stratum nor the large split outweighs the others)
// plus shortfallCost per file a split lacks of a family's floor.
func (p *splitPlan) cost() float64 {
	var c float64
	for s := range p.held {
		for k, x := range p.held[s] {
			if t := p.target[s][k]; t > 0 {
				c += math.Abs(x-t) / t
			}
			c += shortfallCost * max(0, p.floor[k]-x)
		}
	}
	return c
}

// improve moves single groups, then swaps pairs of groups in different
// splits, taking each change that lowers the cost, until none does.
func (p *splitPlan) improve() {
	const eps = 1e-9
	for changed := true; changed; {
		changed = false
		for g := range p.in {
			for s := range p.held {
				from, before := p.in[g], p.cost()
				if s == from {
					continue
				}
				if p.move(g, s); p.cost() < before-eps {
					changed = true
				} else {
					p.move(g, from)
				}
			}
		}
		if changed {
			continue
		}
		for a := range p.in {
			for b := a + 1; b < len(p.in); b++ {
				sa, sb, before := p.in[a], p.in[b], p.cost()
				if sa == sb {
					continue
				}
				p.move(a, sb)
				p.move(b, sa)
				if p.cost() < before-eps {
					changed = true
				} else {
					p.move(a, sa)
					p.move(b, sb)
				}
			}
		}
	}
}

// assignSplits puts each lineage group in one split and returns each
// file's split (-1 for a file left out). A group's weight is its usable
// files per stratum (a family, or no family). Groups go largest first
// (equal sizes in an order drawn from the seed) to the split furthest
// below its target, relative to the target; improve then tidies what the
// greedy pass left short. The largest groups land where the targets send
// them whatever the seed (the runtime package in train); the seed moves
// the many small groups.
func assignSplits(src *Sources, seed uint64) []int {
	lin := src.lineageOf()
	nStrata := len(Families) + 1
	index := map[int]int{} // group root → group
	var roots []int
	var weight [][]float64
	for i, f := range src.Go {
		root := lin.group[i]
		if root < 0 {
			continue
		}
		g, ok := index[root]
		if !ok {
			g = len(roots)
			index[root] = g
			roots = append(roots, root)
			weight = append(weight, make([]float64, nStrata))
		}
		if _, ok := bodyStart(f); ok {
			weight[g][stratum(f)]++
		}
	}
	size := func(g int) float64 {
		var n float64
		for _, x := range weight[g] {
			n += x
		}
		return n
	}
	order := make([]int, len(roots))
	key := make([]uint64, len(roots))
	for g := range order {
		order[g] = g
		key[g] = mix64(hashString(src.Go[roots[g]].Path) ^ mix64(seed))
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(size(b), size(a)), cmp.Compare(key[a], key[b]))
	})
	// The plan lists groups in this order, so improve visits them so too.
	sorted := make([][]float64, len(order))
	for i, g := range order {
		sorted[i] = weight[g]
	}
	p := newSplitPlan(sorted, nStrata)
	for g := range sorted {
		best, bestDeficit := inTrain, math.Inf(-1)
		for s := range p.held {
			var d float64
			for k, w := range sorted[g] {
				if w > 0 && p.target[s][k] > 0 {
					d += w * (p.target[s][k] - p.held[s][k]) / p.target[s][k]
				}
			}
			if d > bestDeficit {
				best, bestDeficit = s, d
			}
		}
		p.in[g] = inTrain
		for k, w := range sorted[g] {
			p.held[inTrain][k] += w
		}
		p.move(g, best)
	}
	p.improve()
	out := make([]int, len(src.Go))
	for i := range src.Go {
		out[i] = -1
		if root := lin.group[i]; root >= 0 {
			out[i] = p.in[slices.Index(order, index[root])]
		}
	}
	return out
}
