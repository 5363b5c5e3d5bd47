package data

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// seqBytes returns n bytes whose value at i is i%mod, so a window's first
// byte tells where it starts (for n <= mod).
func seqBytes(n, mod int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % mod)
	}
	return b
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		frac    float64
		wantVal int
	}{
		{"5% of 100", 100, 0.05, 5},
		{"opticks rounds 28359.9 up", 567198, ValFrac, 28360},
		{"half rounds away from zero", 10, 0.05, 1}, // 0.5 -> 1
		{"just under half rounds down", 9, 0.05, 0}, // 0.45 -> 0
		{"float noise does not truncate", 100, 0.29, 29},
		{"zero fraction", 100, 0, 0},
		{"whole corpus", 100, 1, 100},
		{"empty corpus", 0, 0.05, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Corpus{Name: "t", Bytes: seqBytes(tt.n, 251)}
			train, val := c.Split(tt.frac)
			if len(val) != tt.wantVal {
				t.Fatalf("len(val) = %d, want %d", len(val), tt.wantVal)
			}
			cut := tt.n - tt.wantVal
			if !bytes.Equal(train, c.Bytes[:cut]) || !bytes.Equal(val, c.Bytes[cut:]) {
				t.Fatal("train/val are not the head/tail of the corpus")
			}
			// Appending to train must not overwrite val.
			if len(val) > 0 {
				before := val[0]
				_ = append(train, ^before)
				if val[0] != before {
					t.Error("append to train clobbered val")
				}
			}
		})
	}
	for _, bad := range []float64{-0.1, 1.5} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Split(%v) did not panic", bad)
				}
			}()
			(&Corpus{Name: "t", Bytes: []byte("abc")}).Split(bad)
		}()
	}
}

func TestSpaced(t *testing.T) {
	tests := []struct {
		n, m int
		want []int // nil: only check the invariants
	}{
		{10, 0, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{10, 10, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{10, 20, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{10, 1, []int{0}},
		{10, 2, []int{0, 9}},
		{10, 3, []int{0, 5, 9}}, // 4.5 rounds up
		{10, 4, []int{0, 3, 6, 9}},
		{10, 9, nil},
		{1000003, 7, nil},
		{1 << 40, 1 << 10, nil}, // would overflow 64-bit k*(n-1)*2 without 128-bit math
	}
	for _, tt := range tests {
		got := spaced(tt.n, tt.m)
		if tt.want != nil && !slices.Equal(got, tt.want) {
			t.Errorf("spaced(%d, %d) = %v, want %v", tt.n, tt.m, got, tt.want)
			continue
		}
		wantLen := tt.n
		if tt.m > 0 && tt.m < tt.n {
			wantLen = tt.m
		}
		if len(got) != wantLen {
			t.Errorf("spaced(%d, %d) has %d indices, want %d", tt.n, tt.m, len(got), wantLen)
			continue
		}
		if got[0] != 0 || (wantLen > 1 && got[len(got)-1] != tt.n-1) {
			t.Errorf("spaced(%d, %d) does not cover both ends: first %d, last %d", tt.n, tt.m, got[0], got[len(got)-1])
		}
		// Strictly increasing, with gaps that differ by at most one: evenly spaced.
		lo, hi := tt.n, 0
		for i := 1; i < len(got); i++ {
			g := got[i] - got[i-1]
			lo, hi = min(lo, g), max(hi, g)
		}
		if len(got) > 1 && (lo < 1 || hi-lo > 1) {
			t.Errorf("spaced(%d, %d): gaps range over [%d, %d], want strictly increasing and even", tt.n, tt.m, lo, hi)
		}
	}
}

func TestValidationWindows(t *testing.T) {
	const seqLen = 9
	val := seqBytes(105, 251) // 10 whole windows of 10 bytes, 5 bytes unused
	tests := []struct {
		name       string
		batch, max int
		wantStarts []int
		wantRows   []int
	}{
		{"all windows", 4, 0, []int{0, 10, 20, 30, 40, 50, 60, 70, 80, 90}, []int{4, 4, 2}},
		{"cap above count", 10, 50, []int{0, 10, 20, 30, 40, 50, 60, 70, 80, 90}, []int{10}},
		{"evenly spaced subset", 2, 3, []int{0, 50, 90}, []int{2, 1}},
		{"single window", 8, 1, []int{0}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewValidation("t", val, seqLen, tt.batch, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(v.Starts(), tt.wantStarts) {
				t.Fatalf("Starts = %v, want %v", v.Starts(), tt.wantStarts)
			}
			for i := 1; i < len(v.Starts()); i++ {
				if v.Starts()[i] < v.Starts()[i-1]+seqLen+1 {
					t.Errorf("windows at %d and %d overlap", v.Starts()[i-1], v.Starts()[i])
				}
			}
			if got := v.NumBatches(); got != len(tt.wantRows) {
				t.Fatalf("NumBatches = %d, want %d", got, len(tt.wantRows))
			}
			in := make([]int32, tt.batch*seqLen)
			tg := make([]int32, tt.batch*seqLen)
			w := 0
			for b := range v.NumBatches() {
				rows := v.Batch(b, in, tg)
				if rows != tt.wantRows[b] {
					t.Errorf("batch %d has %d rows, want %d", b, rows, tt.wantRows[b])
				}
				for r := range rows {
					start := tt.wantStarts[w]
					w++
					for j := range seqLen {
						if in[r*seqLen+j] != int32(val[start+j]) || tg[r*seqLen+j] != int32(val[start+j+1]) {
							t.Fatalf("batch %d row %d pos %d: input %d target %d, want window at %d",
								b, r, j, in[r*seqLen+j], tg[r*seqLen+j], start)
						}
					}
				}
			}
			if w != len(tt.wantStarts) {
				t.Errorf("batches covered %d windows, want %d", w, len(tt.wantStarts))
			}
		})
	}
}

func TestConstructorErrors(t *testing.T) {
	train := make([]byte, 100)
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"sampler seqLen 0", second(NewSampler("src1", train, 0, 4, 1)), []string{"src1", "seqLen = 0"}},
		{"sampler batch 0", second(NewSampler("src2", train, 8, 0, 1)), []string{"src2", "batch size = 0"}},
		{"sampler train too short", second(NewSampler("src3", train[:10], 10, 4, 1)), []string{"src3", "10 bytes", "seqLen+1 = 11"}},
		{"validation seqLen -1", second(NewValidation("src4", train, -1, 4, 0)), []string{"src4", "seqLen = -1"}},
		{"validation batch 0", second(NewValidation("src5", train, 8, 0, 0)), []string{"src5", "batch size = 0"}},
		{"validation maxWindows -1", second(NewValidation("src6", train, 8, 4, -1)), []string{"src6", "maxWindows = -1"}},
		{"no validation window", second(NewValidation("src7", train[:50], 50, 4, 0)), []string{"src7", "50 bytes", "seqLen+1 = 51", "no validation window"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(tt.err.Error(), w) {
					t.Errorf("error %q does not contain %q", tt.err, w)
				}
			}
		})
	}
	// The boundary cases succeed: exactly one window.
	if _, err := NewSampler("ok", train[:11], 10, 1, 0); err != nil {
		t.Error(err)
	}
	if _, err := NewValidation("ok", train[:11], 10, 1, 0); err != nil {
		t.Error(err)
	}
}

func second[T any](_ T, err error) error { return err }

// draws returns n batches from a fresh sampler, starting at step from.
func draws(t *testing.T, train []byte, seqLen, batch int, seed uint64, from, n int) [][]int32 {
	t.Helper()
	s, err := NewSampler("t", train, seqLen, batch, seed)
	if err != nil {
		t.Fatal(err)
	}
	s.SetStep(from)
	out := make([][]int32, n)
	for i := range out {
		in := make([]int32, batch*seqLen)
		tg := make([]int32, batch*seqLen)
		s.Next(in, tg)
		for j := range in {
			if j%seqLen != seqLen-1 && tg[j] != in[j+1] {
				t.Fatalf("step %d: targets are not inputs shifted by one", from+i)
			}
		}
		out[i] = append(in, tg...)
	}
	if s.Step() != from+n {
		t.Errorf("Step() = %d after %d draws from %d", s.Step(), n, from)
	}
	return out
}

func TestSamplerDeterminismAndResume(t *testing.T) {
	train := seqBytes(5000, 251)
	a := draws(t, train, 16, 8, 42, 0, 20)
	tests := []struct {
		name string
		got  [][]int32
		same bool
	}{
		{"same seed", draws(t, train, 16, 8, 42, 0, 20), true},
		{"resumed at step 7", append(draws(t, train, 16, 8, 42, 0, 7), draws(t, train, 16, 8, 42, 7, 13)...), true},
		{"different seed", draws(t, train, 16, 8, 43, 0, 20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			same := slices.EqualFunc(a, tt.got, slices.Equal[[]int32])
			if same != tt.same {
				t.Errorf("batches equal = %v, want %v", same, tt.same)
			}
		})
	}
	// Consecutive batches of one run differ, too.
	if slices.Equal(a[0], a[1]) {
		t.Error("batch 0 equals batch 1")
	}
}

// TestSamplerGolden pins the first window starts for seed 1 so an accidental
// change to the seeding or bounded draw, which would silently change every
// saved run's data order, fails loudly.
func TestSamplerGolden(t *testing.T) {
	s, err := NewSampler("t", make([]byte, 1_000_000), 255, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for step := range 2 {
		s.reseed(step)
		for range 4 {
			got = append(got, s.draw())
		}
	}
	want := []int{274242, 612412, 626774, 828520, 566304, 170116, 979496, 925097}
	if !slices.Equal(got, want) {
		t.Errorf("window starts = %v, want %v", got, want)
	}
}

func TestSamplerStaysInTrain(t *testing.T) {
	// Train is 0,1,...,19 so a window's first input is its start; the
	// validation tail is all 255, which must never be sampled.
	const seqLen, batch = 4, 8
	c := &Corpus{Name: "t", Bytes: append(seqBytes(20, 251), bytes.Repeat([]byte{255}, 5)...)}
	train, _ := c.Split(0.2)
	if len(train) != 20 {
		t.Fatalf("train has %d bytes, want 20", len(train))
	}
	s, err := NewSampler(c.Name, train, seqLen, batch, 7)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]int32, batch*seqLen)
	tg := make([]int32, batch*seqLen)
	seen := map[int32]bool{}
	for range 200 {
		s.Next(in, tg)
		for r := range batch {
			start := in[r*seqLen]
			if start < 0 || int(start) > len(train)-seqLen-1 {
				t.Fatalf("window start %d outside [0, %d]", start, len(train)-seqLen-1)
			}
			seen[start] = true
			for j := range seqLen {
				if in[r*seqLen+j] != start+int32(j) || tg[r*seqLen+j] != start+int32(j)+1 {
					t.Fatalf("row %d is not the contiguous train window at %d", r, start)
				}
			}
		}
	}
	if want := len(train) - seqLen; len(seen) != want {
		t.Errorf("saw %d distinct starts, want all %d (including the last one)", len(seen), want)
	}
}

func TestSamplerBuffers(t *testing.T) {
	s, err := NewSampler("t", seqBytes(10000, 251), 32, 16, 1)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]int32, 16*32)
	tg := make([]int32, 16*32)
	if allocs := testing.AllocsPerRun(100, func() { s.Next(in, tg) }); allocs != 0 {
		t.Errorf("Next allocates %v times per call, want 0", allocs)
	}
	defer func() {
		if recover() == nil {
			t.Error("Next with a short buffer did not panic")
		}
	}()
	s.Next(in[:10], tg)
}

// TestOpticksPipeline runs the whole flow on the real default corpus.
func TestOpticksPipeline(t *testing.T) {
	c, err := Load(SourceOpticks)
	if err != nil {
		t.Fatal(err)
	}
	train, val := c.Split(ValFrac)
	if len(train)+len(val) != len(c.Bytes) || len(val) != 28360 {
		t.Fatalf("split %d + %d", len(train), len(val))
	}
	const seqLen, batch = 256, 16
	v, err := NewValidation(c.Name, val, seqLen, batch, 32)
	if err != nil {
		t.Fatal(err)
	}
	n := len(val) / (seqLen + 1) // 110 windows
	st := v.Starts()
	if len(st) != 32 || st[0] != 0 || st[len(st)-1] != (n-1)*(seqLen+1) {
		t.Errorf("starts %v: want 32 windows from 0 to %d", st, (n-1)*(seqLen+1))
	}
	s, err := NewSampler(c.Name, train, seqLen, batch, 1)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]int32, batch*seqLen)
	tg := make([]int32, batch*seqLen)
	s.Next(in, tg)
	for _, x := range in {
		if x < 0 || x >= VocabSize {
			t.Fatalf("token %d outside vocab", x)
		}
	}
}
