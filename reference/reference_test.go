package reference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The reference's hand-written backward pass is checked here against
// central finite differences of its own float64 loss, independently of the
// fast model: together with model/reference_test.go this pins both.

func testConfig() Config {
	return Config{Vocab: 11, Dim: 8, Layers: 2, Heads: 2, FFN: 12, SeqLen: 5, NormEps: 1e-5, RopeBase: 10000, LoRAScale: 1.5}
}

// randomParams draws every parameter N(0, 0.3²) (norm gains around 1), with
// LoRA factors of rank 2 on the projections in lora.
func randomParams(c Config, lora map[string]bool, seed uint64) Params {
	rng := rand.New(rand.NewPCG(seed, 1))
	draw := func(n int, mean float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = mean + 0.3*rng.NormFloat64()
		}
		return v
	}
	D, F := c.Dim, c.FFN
	p := Params{"embed": draw(c.Vocab*D, 0), "head": draw(c.Vocab*D, 0), "norm": draw(D, 1)}
	shapes := map[string][2]int{"q": {D, D}, "k": {D, D}, "v": {D, D}, "o": {D, D}, "gate": {F, D}, "up": {F, D}, "down": {D, F}}
	for l := 0; l < c.Layers; l++ {
		pre := fmt.Sprintf("layers.%d.", l)
		p[pre+"attn_norm"], p[pre+"ffn_norm"] = draw(D, 1), draw(D, 1)
		for _, name := range ProjNames {
			out, in := shapes[name][0], shapes[name][1]
			p[pre+name+".weight"] = draw(out*in, 0)
			if lora[name] {
				p[pre+name+".lora_a"], p[pre+name+".lora_b"] = draw(2*in, 0), draw(out*2, 0)
			}
		}
	}
	return p
}

// factorParams replaces the weights of the named projections of every
// layer with rank-2 factors factor_a [2×in] and factor_b [out×2], N(0, 0.5²).
func factorParams(c Config, p Params, names []string, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	draw := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = 0.5 * rng.NormFloat64()
		}
		return v
	}
	D, F := c.Dim, c.FFN
	shapes := map[string][2]int{"q": {D, D}, "k": {D, D}, "v": {D, D}, "o": {D, D}, "gate": {F, D}, "up": {F, D}, "down": {D, F}}
	for l := 0; l < c.Layers; l++ {
		for _, name := range names {
			pre := fmt.Sprintf("layers.%d.%s.", l, name)
			delete(p, pre+"weight")
			p[pre+"factor_a"], p[pre+"factor_b"] = draw(2*shapes[name][1]), draw(shapes[name][0]*2)
		}
	}
}

func TestBackwardMatchesFiniteDifferences(t *testing.T) {
	c := testConfig()
	rng := rand.New(rand.NewPCG(3, 4))
	inputs, targets := make([]int32, 2*c.SeqLen), make([]int32, 2*c.SeqLen)
	for i := range inputs {
		inputs[i], targets[i] = int32(rng.IntN(c.Vocab)), int32(rng.IntN(c.Vocab))
	}
	for _, tc := range []struct {
		name     string
		lora     map[string]bool
		factored []string
	}{
		{"full rank", nil, nil},
		{"LoRA on q, v, up, down", map[string]bool{"q": true, "v": true, "up": true, "down": true}, nil},
		{"factored q, k, gate, down", nil, []string{"q", "k", "gate", "down"}},
	} {
		p := randomParams(c, tc.lora, 5)
		factorParams(c, p, tc.factored, 6)
		res, err := LossAndGrads(c, p, inputs, targets)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Grads) != len(p) {
			t.Fatalf("%s: %d gradients for %d parameters", tc.name, len(res.Grads), len(p))
		}
		loss := func() float64 {
			r, err := LossAndGrads(c, p, inputs, targets)
			if err != nil {
				t.Fatal(err)
			}
			return r.Loss
		}
		const h = 1e-5
		for _, name := range sortedNames(p) {
			v, g := p[name], res.Grads[name]
			var diff, norm float64
			for s := 0; s < 6; s++ {
				i := rng.IntN(len(v))
				orig := v[i]
				v[i] = orig + h
				lp := loss()
				v[i] = orig - h
				lm := loss()
				v[i] = orig
				numeric := (lp - lm) / (2 * h)
				diff += (numeric - g[i]) * (numeric - g[i])
				norm += numeric * numeric
			}
			// float64 central differences: truncation ~h²·|f'''| ≈ 1e-10,
			// cancellation ~1e-16·loss/h ≈ 1e-11; the gradients are ~1e-3 to 1.
			if rel := math.Sqrt(diff / math.Max(norm, 1e-12)); !(rel <= 1e-6) {
				t.Errorf("%s: gradient of %s differs from finite differences by %.3g (norm-relative)", tc.name, name, rel)
			}
		}
	}
}

// Rotary layout, spelled out: at position p, pair i of a head rotates
// dimensions i and i + hd/2 by p·base^(−2i/hd).
func TestRotaryLayout(t *testing.T) {
	c := Config{Dim: 8, Heads: 2, SeqLen: 4, RopeBase: 100}
	x := zeros(4, 8)
	for n := range x {
		x[n][4+1] = 1 // head 1, dimension 1: the "lo" half of pair 1
	}
	y := c.rope(x, false)
	for pos := 0; pos < 4; pos++ {
		theta := float64(pos) * math.Pow(100, -2.0/4) // i = 1, hd = 4
		for j, want := range []float64{0, math.Cos(theta), 0, math.Sin(theta)} {
			if got := y[pos][4+j]; math.Abs(got-want) > 1e-15 {
				t.Errorf("pos %d, head 1, dim %d: got %g, want %g", pos, j, got, want)
			}
		}
		for j := 0; j < 4; j++ {
			if y[pos][j] != 0 {
				t.Errorf("pos %d: head 0 dim %d = %g, want 0", pos, j, y[pos][j])
			}
		}
	}
}

func TestAdamWByHand(t *testing.T) {
	// β1 = 0.5, β2 = 0.75, ε = 0, λ = 0.1, lr = 0.1, p₀ = 2, g = 1 then 3.
	// Step 1: p = 2·0.99 = 1.98; m = 0.5, v = 0.25; m̂ = 1, v̂ = 1; p = 1.98 − 0.1 = 1.88.
	// Step 2: p = 1.88·0.99 = 1.8612; m = 0.25 + 1.5 = 1.75, v = 0.1875 + 2.25 = 2.4375;
	//         m̂ = 1.75/0.75, v̂ = 2.4375/0.4375; p = 1.8612 − 0.1·(7/3)/√(39/7).
	o := NewAdamW(0.5, 0.75, 0, 0.1)
	p := Params{"w": {2}}
	o.Step(p, Params{"w": {1}}, 0.1)
	if math.Abs(p["w"][0]-1.88) > 1e-15 {
		t.Fatalf("step 1: %v, want 1.88", p["w"][0])
	}
	o.Step(p, Params{"w": {3}}, 0.1)
	if want := 1.8612 - 0.1*(7.0/3)/math.Sqrt(39.0/7); math.Abs(p["w"][0]-want) > 1e-15 {
		t.Fatalf("step 2: %v, want %v", p["w"][0], want)
	}
}

func TestClipGradNormByHand(t *testing.T) {
	g := Params{"a": {3}, "b": {0, 4}}
	if n := ClipGradNorm(g, 1); n != 5 {
		t.Fatalf("norm %v, want 5", n)
	}
	if math.Abs(g["a"][0]-3/(5+1e-6)) > 1e-15 || math.Abs(g["b"][1]-4/(5+1e-6)) > 1e-15 {
		t.Fatalf("clipped to %v, want (3, 0, 4)/(5 + 1e-6)", g)
	}
}
