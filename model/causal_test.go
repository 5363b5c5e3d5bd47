package model_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
)

// logitsOf returns a copy of the model's logits for ids.
func logitsOf(t *testing.T, m *model.Model, threads int, ids []int32) []float32 {
	t.Helper()
	c := kernels.NewCtx(threads)
	out, err := m.Forward(c, ids)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), kernels.Data(out.Value())...)
}

// TestNoInformationFromTheFuture is independent of the reference: changing
// the tokens after position t of one sequence must leave the logits at
// positions ≤ t of that sequence, and every logit of the other sequences,
// bit-identical (each row's arithmetic depends only on the rows it may see),
// while the logits after t do change. The nano preset's 32-token sequences
// make the attention GEMMs' 6×16 tiles straddle the diagonal, where a
// triangular kernel could read a score above it. Full rank, LoRA
// (composed and fused) with non-zero B, and prefix tuning; 1 and 2 threads.
func TestNoInformationFromTheFuture(t *testing.T) {
	cfg, err := model.Preset("nano")
	if err != nil {
		t.Fatal(err)
	}
	cfg.InitStd = 0.08 // sharper attention than the 0.02 default: a leak shows more
	T, V := cfg.SeqLen, cfg.Vocab
	const seqs = 3
	rng := rand.New(rand.NewPCG(21, 22))
	ids := make([]int32, seqs*T)
	for i := range ids {
		ids[i] = int32(rng.IntN(V))
	}
	for _, variant := range []string{"full rank", "LoRA composed", "LoRA fused", "prefix"} {
		m, err := model.New(cfg, 8)
		if err != nil {
			t.Fatal(err)
		}
		if variant == "prefix" {
			// Prefix slots are visible to every position, but they are the
			// same for every sequence: they carry nothing from one to another.
			if err := m.AddPrefixes(5, ids[:T]); err != nil {
				t.Fatal(err)
			}
		} else if variant != "full rank" {
			relora.Wrap(m, 4, 8, 1)
			randomizeB(m, 9, 0.1)
			for _, l := range relora.LoRAs(m) {
				l.Fused = variant == "LoRA fused"
			}
		}
		for _, threads := range []int{1, 2} {
			base := logitsOf(t, m, threads, ids)
			for _, tc := range []struct{ seq, pos int }{{0, 0}, {1, 5}, {1, 14}, {2, 15}, {0, 16}, {2, T - 2}} {
				changed := append([]int32(nil), ids...)
				for j := tc.pos + 1; j < T; j++ {
					i := tc.seq*T + j
					changed[i] = (changed[i] + 1 + int32(rng.IntN(V-1))) % int32(V) // a different token
				}
				got := logitsOf(t, m, threads, changed)
				label := fmt.Sprintf("%s, %d threads, tokens after position %d of sequence %d changed", variant, threads, tc.pos, tc.seq)
				for row := 0; row < seqs*T; row++ {
					seq, pos := row/T, row%T
					mustChange := seq == tc.seq && pos > tc.pos
					same := true
					for j := row * V; j < (row+1)*V; j++ {
						if math.Float32bits(base[j]) != math.Float32bits(got[j]) {
							same = false
							break
						}
					}
					if !mustChange && !same {
						t.Fatalf("%s: logits of sequence %d at position %d changed: information leaks from future tokens (or across sequences)", label, seq, pos)
					}
					if mustChange && same {
						t.Fatalf("%s: logits at position %d did not change although its own input token did", label, pos)
					}
				}
			}
		}
	}
}
