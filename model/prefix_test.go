package model_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/spago/ag"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

func nanoWithTokens(t *testing.T, seed uint64) (*model.Model, []int32) {
	t.Helper()
	cfg, err := model.Preset("nano")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	ids := make([]int32, cfg.SeqLen)
	for i := range ids {
		ids[i] = int32(rng.IntN(cfg.Vocab))
	}
	return m, ids
}

// A prefix is p trainable keys and values per block, listed (and so
// checkpointed and counted) after the block's projections, initialised to
// the model's own rotated keys and values at positions 0..p-1 of the
// sequence given: checked for the first block by hand from the embeddings.
func TestAddPrefixesFromTheModelsOwnKeysAndValues(t *testing.T) {
	m, ids := nanoWithTokens(t, 3)
	cfg := m.Config
	before, _ := m.Count()
	const p = 4
	if err := m.AddPrefixes(p, ids); err != nil {
		t.Fatal(err)
	}
	total, trainable := m.Count()
	if extra := cfg.Layers * 2 * p * cfg.Dim; total != before+extra || trainable != total {
		t.Fatalf("%d params (%d trainable), want %d + %d", total, trainable, before, extra)
	}
	var names []string
	for _, q := range m.Params() {
		names = append(names, q.Name)
	}
	at := slices.Index(names, "layers.0.prefix.key")
	if at < 1 || names[at-1] != "layers.0.down.weight" || names[at+1] != "layers.0.prefix.value" || names[at+2] != "layers.1.attn_norm" ||
		!slices.Contains(names, "layers.1.prefix.value") {
		t.Fatalf("parameter order %v", names)
	}

	d, hd := cfg.Dim, cfg.Dim/cfg.Heads
	emb, wk, wv := m.Embed.Raw(), m.Blocks[0].Proj[model.ProjK].Effective(), m.Blocks[0].Proj[model.ProjV].Effective()
	pk, pv := m.Blocks[0].Prefix.K.Raw(), m.Blocks[0].Prefix.V.Raw()
	for j := 0; j < p; j++ {
		x := emb[int(ids[j])*d : int(ids[j]+1)*d]
		var ss float64
		for _, e := range x {
			ss += float64(e) * float64(e)
		}
		inv := 1 / math.Sqrt(ss/float64(d)+cfg.NormEps)
		k, v := make([]float64, d), make([]float64, d)
		for o := range d {
			for i, e := range x {
				h := float64(e) * inv // the norm's gain is 1 at init
				k[o] += float64(wk[o*d+i]) * h
				v[o] += float64(wv[o*d+i]) * h
			}
		}
		for o := range d {
			if math.Abs(float64(pv[j*d+o])-v[o]) > 1e-5 {
				t.Fatalf("value %d[%d] = %g, the model's is %g", j, o, pv[j*d+o], v[o])
			}
		}
		// Rotary turns each head's key by the position's angles: at
		// position 0 not at all, later ones keep the norm and move it.
		for h := range cfg.Heads {
			var got, want, diff float64
			for o := h * hd; o < (h+1)*hd; o++ {
				got += float64(pk[j*d+o]) * float64(pk[j*d+o])
				want += k[o] * k[o]
				diff = math.Max(diff, math.Abs(float64(pk[j*d+o])-k[o]))
			}
			if math.Abs(math.Sqrt(got)-math.Sqrt(want)) > 1e-5 || (j == 0) != (diff < 1e-5) {
				t.Fatalf("key %d head %d: norm %g, the model's unrotated %g, max difference %g", j, h, math.Sqrt(got), math.Sqrt(want), diff)
			}
		}
	}

	for _, bad := range []struct {
		p   int
		ids []int32
		why string
	}{{0, ids, "prefix length"}, {cfg.SeqLen + 1, ids, "prefix length"}, {2, ids[:5], "one sequence"}, {2, ids, "already has"}} {
		if err := m.AddPrefixes(bad.p, bad.ids); err == nil || !strings.Contains(err.Error(), bad.why) {
			t.Errorf("AddPrefixes(%d, %d ids): %v, want an error about %q", bad.p, len(bad.ids), err, bad.why)
		}
	}
}

// With the model frozen, a backward pass through the hidden states reaches
// every block's prefix and nothing else of the model.
func TestPrefixGetsTheGradient(t *testing.T) {
	m, ids := nanoWithTokens(t, 4)
	c := kernels.NewCtx(1)
	plain, err := m.Hidden(c, ids)
	if err != nil {
		t.Fatal(err)
	}
	plainOut := slices.Clone(kernels.Data(plain.Value()))
	for _, q := range m.Params() {
		q.SetRequiresGrad(false)
	}
	if err := m.AddPrefixes(3, ids); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	h, err := m.Hidden(c, ids)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(plainOut, kernels.Data(h.Value())) {
		t.Fatal("the prefix does not change the hidden states")
	}
	hm := kernels.ValueOf(h)
	g := make([]float32, len(hm.Raw()))
	for i := range g {
		g[i] = float32(i%7) - 3
	}
	h.AccGrad(kernels.NewMat(hm.Rows(), hm.Cols(), g))
	if err := ag.Backward(h); err != nil {
		t.Fatal(err)
	}
	for _, q := range m.Params() {
		isPrefix := strings.Contains(q.Name, ".prefix.")
		if got := q.HasGrad(); got != isPrefix {
			t.Errorf("%s: has a gradient %v, want %v", q.Name, got, isPrefix)
		}
		if isPrefix && !slices.ContainsFunc(q.GradRaw(), func(x float32) bool { return x != 0 }) {
			t.Errorf("%s: zero gradient", q.Name)
		}
	}
}
