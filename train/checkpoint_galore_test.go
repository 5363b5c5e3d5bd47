package train

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/galore"
)

// galoreCheckpoint holds a GaLore state: a 2×3 projection at rank 1 (left:
// P 2×1, moments 1×3) beside a plain AdamW state.
func galoreCheckpoint() *Checkpoint {
	return &Checkpoint{
		Step: 4,
		Params: map[string][]float32{
			"layers.0.q.weight": {1, 2, 3, 4, 5, 6},
			"embed":             {7},
		},
		Adam: map[string]*AdamState{
			"layers.0.q.weight": {M: []float32{0.1, 0.2, 0.3}, V: []float32{1, 2, 3}, Step: 4,
				Proj: &galore.Projector{Left: true, Rows: 2, Cols: 3, Rank: 1, P: []float32{0.6, -0.8}}},
			"embed": {M: []float32{1}, V: []float32{2}, Step: 4},
		},
	}
}

// A GaLore state survives a save and a load whole: projector, its shape
// and the projected moments.
func TestCheckpointKeepsGaLoreState(t *testing.T) {
	want := galoreCheckpoint()
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, got, want)
	p, w := got.Adam["layers.0.q.weight"].Proj, want.Adam["layers.0.q.weight"].Proj
	if p == nil || !equal(p.P, w.P) || p.Left != w.Left || p.Rows != w.Rows || p.Cols != w.Cols || p.Rank != w.Rank {
		t.Fatalf("projector %+v, want %+v", p, w)
	}
	if got.Adam["embed"].Proj != nil {
		t.Error("a plain AdamW state came back with a projector")
	}
}

// Save refuses a GaLore state that does not fit its parameter, and a load
// refuses a projector whose shape or state went missing, naming what.
func TestCheckpointRefusesABadGaLoreState(t *testing.T) {
	for want, edit := range map[string]func(*AdamState){
		"is for a 3×3 gradient":   func(s *AdamState) { s.Proj.Rows = 3 },
		"has rank 3":              func(s *AdamState) { s.Proj.Rank = 3 },
		"on the right":            func(s *AdamState) { s.Proj.Left = false },
		"has 3 values, want 2":    func(s *AdamState) { s.Proj.P = []float32{1, 2, 3} },
		"projected gradient of 3": func(s *AdamState) { s.M = s.M[:2] },
	} {
		ck := galoreCheckpoint()
		edit(ck.Adam["layers.0.q.weight"])
		if err := ck.Save(filepath.Join(t.TempDir(), "ck")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one saying %q", err, want)
		}
	}
	b, err := galoreCheckpoint().encode()
	if err != nil {
		t.Fatal(err)
	}
	for want, edit := range map[string][2]string{
		"has no shape in metadata galore": {`"galore":`, `"galorx":`},
		// The projector's tensor and its shape entry no longer name each other.
		"galore.p.layers.0.q.weigh": {`"galore.p.layers.0.q.weight"`, `"galore.p.layers.0.q.weighx"`},
	} {
		bad := bytes.Replace(b, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(bad, b) {
			t.Fatalf("%q is not in the file", edit[0])
		}
		if _, err := decodeCheckpoint(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one saying %q", err, want)
		}
	}
}
