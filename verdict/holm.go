package verdict

import (
	"math"
	"slices"
)

// Holm returns Holm's step-down adjusted p-values of ps, in their order:
// sorted ascending, the i-th smallest (from 0) becomes
// max over j ≤ i of min(1, (m − j)·p(j)). Rejecting every hypothesis whose
// adjusted p-value is at most α keeps the chance of any false rejection in
// the family at most α, whatever the dependence between the tests (Holm
// 1979) — claims here share runs, so no independence may be assumed.
func Holm(ps []float64) []float64 {
	m := len(ps)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	adj := make([]float64, m)
	running := 0.0
	for j, i := range order {
		running = math.Max(running, math.Min(1, float64(m-j)*ps[i]))
		adj[i] = running
	}
	return adj
}
