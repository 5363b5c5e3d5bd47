//go:build race

package gemm

// raceEnabled reports a -race build: sync.Pool then drops items at random
// on purpose, so allocation counts are meaningless.
const raceEnabled = true
