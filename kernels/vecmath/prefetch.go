package vecmath

// Prefetch asks the CPU to bring x's cache lines into its caches ahead of
// a use that would otherwise wait on memory. It is a hint: it reads and
// writes nothing, so values and results are the same with or without it,
// and where the assembly does not run it does nothing. A line x only
// starts in may be left out.
func Prefetch(x []float32) {
	if useAVX2 && len(x) > 0 {
		prefetchLines(&x[0], (len(x)+15)/16)
	}
}
