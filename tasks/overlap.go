package tasks

// overlapSpan is the length of the windows text is compared in.
const overlapSpan = 50

// rkBase is the rolling hash's multiplier (odd; arithmetic mod 2^64).
const rkBase = 0x100000001b3

// rkTop is rkBase^(overlapSpan−1): the weight of a window's first byte.
var rkTop = func() uint64 {
	p := uint64(1)
	for range overlapSpan - 1 {
		p *= rkBase
	}
	return p
}()

// windows calls fn with the start and hash of every overlapSpan-byte
// window of b, in order (a Rabin–Karp rolling hash).
func windows(b []byte, fn func(at int, h uint64)) {
	if len(b) < overlapSpan {
		return
	}
	var h uint64
	for _, c := range b[:overlapSpan] {
		h = h*rkBase + uint64(c)
	}
	fn(0, h)
	for i := overlapSpan; i < len(b); i++ {
		h = (h-uint64(b[i-overlapSpan])*rkTop)*rkBase + uint64(b[i])
		fn(i-overlapSpan+1, h)
	}
}
