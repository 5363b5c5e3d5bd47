package train

import (
	"fmt"

	"github.com/relorago/harness/galore"
)

// GaLore's part of a checkpoint (the format is in checkpoint_format.go):
// each projected weight's projector as the tensor galore.p.<name>, and its
// shape in the metadata key "galore", so that a resumed run projects into
// the very subspace the killed one did and its projected moments mean what
// they meant.

// projectorShape is a projector's metadata entry.
type projectorShape struct {
	Left bool `json:"left"`
	Rows int  `json:"rows"`
	Cols int  `json:"cols"`
	Rank int  `json:"rank"`
}

// projectorShapes lists the projectors of the states that have one.
func projectorShapes(states map[string]*AdamState) map[string]projectorShape {
	out := map[string]projectorShape{}
	for name, s := range states {
		if s.Proj != nil {
			out[name] = projectorShape{Left: s.Proj.Left, Rows: s.Proj.Rows, Cols: s.Proj.Cols, Rank: s.Proj.Rank}
		}
	}
	return out
}

// attachProjectors joins the galore.p tensors with their metadata entries
// and the AdamW states they belong to; each needs the others.
func attachProjectors(states map[string]*AdamState, tensors map[string][]float32, meta map[string]string) error {
	var shapes map[string]projectorShape
	if err := jsonMeta(meta, metaGaLore, &shapes); err != nil {
		return err
	}
	for name := range shapes {
		if _, ok := tensors[name]; !ok {
			return fmt.Errorf("metadata %s has a projector for %q, which has no tensor %s%s", metaGaLore, name, galorePrefix, name)
		}
	}
	for name, p := range tensors {
		sh, ok := shapes[name]
		switch {
		case !ok:
			return fmt.Errorf("tensor %s%s has no shape in metadata %s", galorePrefix, name, metaGaLore)
		case states[name] == nil:
			return fmt.Errorf("tensor %s%s is a projector without AdamW state for %q", galorePrefix, name, name)
		}
		states[name].Proj = &galore.Projector{Left: sh.Left, Rows: sh.Rows, Cols: sh.Cols, Rank: sh.Rank, P: p}
	}
	return nil
}

// validProjected checks a GaLore state against its parameter of n values:
// a shape that covers the parameter, the side and rank GaLore would give
// it, a projector of m×r or n×r values and moments of the projected shape.
func validProjected(name string, s *AdamState, n int) error {
	p := s.Proj
	switch {
	case p.Rows < 1 || p.Cols < 1 || p.Rows > n || p.Cols > n || p.Rows*p.Cols != n:
		return fmt.Errorf("GaLore projector of %q is for a %d×%d gradient, the parameter has %d values", name, p.Rows, p.Cols, n)
	case p.Rank < 1 || p.Rank > min(p.Rows, p.Cols):
		return fmt.Errorf("GaLore projector of %q has rank %d, outside [1, %d]", name, p.Rank, min(p.Rows, p.Cols))
	case p.Left != galore.LeftFor(p.Rows, p.Cols):
		return fmt.Errorf("GaLore projector of %q is on the %s of a %d×%d gradient", name, side(p.Left), p.Rows, p.Cols)
	case len(p.P) != p.Len():
		return fmt.Errorf("GaLore projector of %q has %d values, want %d", name, len(p.P), p.Len())
	}
	if want := galore.ProjectedLen(p.Rows, p.Cols, p.Rank); len(s.M) != want || len(s.V) != want {
		return fmt.Errorf("AdamW state of %q has %d first and %d second moments for a projected gradient of %d values", name, len(s.M), len(s.V), want)
	}
	return nil
}

func side(left bool) string {
	if left {
		return "left"
	}
	return "right"
}
