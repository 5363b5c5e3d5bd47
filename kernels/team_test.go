package kernels

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestForEachRunsEveryTaskOnce drives forEach from several goroutines at
// once, as spago's concurrent backward does, and checks that every task of
// every call ran exactly once before its call returned.
func TestForEachRunsEveryTaskOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		c := NewCtx(threads)
		var wg sync.WaitGroup
		for caller := 0; caller < 4; caller++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(caller), 1))
				for call := 0; call < 200; call++ {
					tasks := 1 + rng.IntN(9)
					runs := make([]atomic.Int32, tasks)
					c.forEach(tasks, func(i int) { runs[i].Add(1) })
					for i := range runs {
						if n := runs[i].Load(); n != 1 {
							t.Errorf("threads %d: task %d of %d ran %d times", threads, i, tasks, n)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
	}
}

// TestHelpersLeaveWhenIdle checks that a Ctx's helpers exit once no work
// comes, so a Ctx that is dropped leaks no spinning goroutine.
func TestHelpersLeaveWhenIdle(t *testing.T) {
	c := NewCtx(2)
	c.forEach(4, func(int) { time.Sleep(100 * time.Microsecond) })
	deadline := time.Now().Add(5 * time.Second)
	for c.team.alive.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d helpers still alive 5 s after the last task", c.team.alive.Load())
		}
		time.Sleep(helperIdle)
	}
}

// TestGemmSplitIsBitIdentical checks the Go backend's claim that cutting a
// GEMM by rows or columns, in any number of tasks, leaves every element as
// the uncut product computes it. (OpenBLAS blocks by the sizes it is
// given, so a cut may change its rounding.)
func TestGemmSplitIsBitIdentical(t *testing.T) {
	if GemmBackend != "go" {
		t.Skip("only the Go backend keeps elements bit-identical under a cut")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := []struct {
		transA, transB bool
		m, n, k        int
	}{
		{false, true, 300, 72, 128},  // forward, cut by rows
		{true, false, 40, 88, 2048},  // weight gradient, cut by columns
		{false, false, 257, 40, 350}, // dX with edge tiles
	}
	for _, s := range shapes {
		a := make([]float32, s.m*s.k)
		b := make([]float32, s.k*s.n)
		for i := range a {
			a[i] = rng.Float32() - 0.5
		}
		for i := range b {
			b[i] = rng.Float32() - 0.5
		}
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		want := make([]float32, s.m*s.n)
		NewCtx(1).gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, want, s.n)
		for _, threads := range []int{2, 3, 8} {
			got := make([]float32, s.m*s.n)
			NewCtx(threads).gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, got, s.n)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%+v, %d threads: element %d is %v, uncut %v", s, threads, i, got[i], want[i])
				}
			}
		}
	}
}
