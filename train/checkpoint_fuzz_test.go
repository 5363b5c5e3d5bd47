package train

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
)

// allocBudget is how much decoding an n-byte input may allocate: the
// decoders are meant to need a small multiple of their input, never an
// amount the input merely declares (the gob checkpoints of earlier
// versions let a 455-byte file ask for 2.3 GB).
func allocBudget(n int) uint64 { return 2<<20 + 200*uint64(n) }

// allocated runs f and returns the bytes allocated meanwhile.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzDecodeCheckpoint: any bytes give an error or a checkpoint, never a
// panic; decoding allocates within allocBudget; the tensors decoded fit in
// the input; and a decoded checkpoint saves to a file that decodes to the
// same checkpoint (byte-identical when saved again).
func FuzzDecodeCheckpoint(f *testing.F) {
	small := &Checkpoint{
		Step:   3,
		Params: map[string][]float32{"w": {1, 2}, "b": nil},
		Adam:   map[string]*AdamState{"w": {M: []float32{0.5, 0}, V: []float32{1, 1}, Step: 3}},
	}
	empty := &Checkpoint{Params: map[string][]float32{}, Adam: map[string]*AdamState{}}
	for _, ck := range []*Checkpoint{fullCheckpoint(), small, empty} {
		b, err := ck.encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])                               // truncated in the data or the header
		f.Add(b[:8+binary.LittleEndian.Uint64(b)-1])      // truncated in the header
		f.Add(append(append([]byte(nil), b...), 1, 2, 3)) // trailing bytes
	}
	f.Add(oldGobCheckpoint(f))
	f.Add([]byte(nil))
	f.Add([]byte("1234567"))
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 1<<62), "{}"...))
	f.Add(craft(`{`+okMeta+`,"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"-1"}}`, nil))
	f.Add(craft(`{"__metadata__":{"checkpoint_format":"relora-harness-checkpoint/1","step":"2","adam_steps":"{\"w\":-1}","evals":"[{\"step\":1,\"perplexity\":\"+Inf\"}]"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"adam.m.w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"adam.v.w":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)))
	f.Add(craft(`{`+okMeta+`,"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))

	f.Fuzz(func(t *testing.T, b []byte) {
		var ck *Checkpoint
		var err error
		if n := allocated(func() { ck, err = decodeCheckpoint(b) }); n > allocBudget(len(b)) {
			t.Fatalf("decoding %d bytes allocated %d (error %v)", len(b), n, err)
		}
		if err != nil {
			return
		}
		size := 0
		for _, v := range ck.Params {
			size += 4 * len(v)
		}
		for _, s := range ck.Adam {
			size += 4 * (len(s.M) + len(s.V))
		}
		if size > len(b) {
			t.Fatalf("%d bytes decoded to %d bytes of tensors", len(b), size)
		}
		again, err := ck.encode()
		if err != nil {
			t.Fatalf("a decoded checkpoint does not save: %v", err)
		}
		ck2, err := decodeCheckpoint(again)
		if err != nil {
			t.Fatalf("a saved checkpoint does not load: %v", err)
		}
		sameCheckpoint(t, ck2, ck)
		third, err := ck2.encode()
		if err != nil || !bytes.Equal(third, again) {
			t.Fatalf("saving the checkpoint again gave other bytes (%v)", err)
		}
	})
}
