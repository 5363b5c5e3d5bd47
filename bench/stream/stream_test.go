package stream

import "testing"

// TestPasses checks what copy and triad compute, over a length that is not
// a multiple of the 8 lanes or of the thread count: c = a, a = b + 3·c.
func TestPasses(t *testing.T) {
	const n = 1003
	for threads := 1; threads <= 3; threads++ {
		s := newArrays(n)
		for i := range n {
			s.a[i], s.b[i] = float32(i), float32(2*i+1)
		}
		s.run(threads, s.copyPass)
		s.run(threads, s.triadPass)
		for i := range n {
			if s.c[i] != float32(i) {
				t.Fatalf("threads %d: copy: c[%d] = %v, want %v", threads, i, s.c[i], i)
			}
			if want := float32(2*i+1) + 3*float32(i); s.a[i] != want {
				t.Fatalf("threads %d: triad: a[%d] = %v, want %v", threads, i, s.a[i], want)
			}
		}
	}
}

// TestMeasure runs a short measurement on small arrays: it checks the
// rounds and their order, not the rates (the machine may be busy).
func TestMeasure(t *testing.T) {
	r, err := Measure(1<<16, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range [][]float64{r.Copy, r.Triad} {
		if len(rs) != 3 || rs[0] <= 0 || rs[0] > rs[2] || Best(rs) != rs[2] {
			t.Fatalf("Measure = %+v, want 3 sorted positive rates a kernel", r)
		}
	}
	if _, err := Measure(1, 2, 1); err == nil {
		t.Error("Measure(1, 2, 1): no error for fewer floats than threads")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"32768K": 32 << 20, "1M": 1 << 20, "512": 512, "2G": 2 << 30} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "K", "-1K", "x"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q): no error", bad)
		}
	}
}
