//go:build !race

package gemm

// raceEnabled reports a -race build; see race_test.go.
const raceEnabled = false
