//go:build !purego

package vecmath

// prefetchLines issues a PREFETCHT0 for each of the lines 64-byte steps
// from p (lines >= 1); see prefetch_amd64.s.
//
//go:noescape
func prefetchLines(p *float32, lines int)
