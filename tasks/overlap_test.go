package tasks

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The rolling hash of each window is the hash computed from scratch.
func TestWindowsRollHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	n := 0
	windows(b, func(at int, h uint64) {
		var want uint64
		for _, c := range b[at : at+overlapSpan] {
			want = want*rkBase + uint64(c)
		}
		if h != want {
			t.Fatalf("window at %d: hash %x, from scratch %x", at, h, want)
		}
		n++
	})
	if n != len(b)-overlapSpan+1 {
		t.Fatalf("%d windows of %d bytes", n, len(b))
	}
	windows(b[:overlapSpan-1], func(int, uint64) { t.Fatal("a window in a text shorter than the span") })
}

// A shared span of overlapSpan bytes drops an example, one byte shorter
// does not; A and B both count; test is checked against train and dev,
// dev against train only.
func TestFilterOverlapDropsSharedSpans(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	letters := func(n int, first byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = first + byte(r.IntN(26))
		}
		return b
	}
	// Fresh text is upper case, the shared text lower case, so no match
	// runs on past the bytes a case shares.
	text := func(n int) []byte { return letters(n, 'A') }
	shared := letters(200, 'a')
	with := func(lo, n int) []byte { // fresh text around shared[lo:lo+n]
		return bytes.Join([][]byte{text(20), shared[lo : lo+n], text(20)}, nil)
	}
	train := []Example{{A: shared[:100], B: text(80)}, {A: text(90)}}
	dev := []Example{
		{A: with(10, overlapSpan)},             // dropped: 50 bytes of train's A
		{A: with(10, overlapSpan-1)},           // kept: 49
		{A: text(60), B: with(30, 60)},         // dropped: by its B
		{A: with(120, 70)},                     // kept: shared[120:] is not train's
		{A: bytes.Clone(train[0].B[5:70])},     // dropped: train's B
		{A: append(text(10), shared[150:]...)}, // kept here, and shares 50 with test's last
	}
	test := []Example{
		{A: with(40, overlapSpan)},    // dropped: train
		{A: with(125, 60)},            // dropped: the kept dev example shared[120:190]
		{A: text(100)},                // kept
		{A: with(100, overlapSpan-1)}, // kept: 29 bytes of dev's shared[120:190]
		{A: shared[150:200]},          // dropped: dev's shared[150:]
	}
	var f Filtered
	keptDev, keptTest := filterOverlap(train, dev, test, &f)
	if len(keptDev) != 3 || !bytes.Equal(keptDev[0].A, dev[1].A) || !bytes.Equal(keptDev[1].A, dev[3].A) || !bytes.Equal(keptDev[2].A, dev[5].A) {
		t.Errorf("kept dev %q", texts(keptDev))
	}
	if len(keptTest) != 2 || !bytes.Equal(keptTest[0].A, test[2].A) || !bytes.Equal(keptTest[1].A, test[3].A) {
		t.Errorf("kept test %q", texts(keptTest))
	}
	if f.DevOverlap != 3 || f.TestOverlap != 1 || f.TestDevOverlap != 2 {
		t.Errorf("counts %+v, want 3 dev, 1 test with train, 2 test with dev", f)
	}
}

// spanSet is every overlapSpan-byte window of the examples' inputs: a
// check that shares no code with the filter.
func spanSet(exs []Example) map[string]bool {
	set := map[string]bool{}
	for _, ex := range exs {
		for _, b := range [][]byte{ex.A, ex.B} {
			for i := 0; i+overlapSpan <= len(b); i++ {
				set[string(b[i:i+overlapSpan])] = true
			}
		}
	}
	return set
}

// sharingSet counts the examples with a window in set.
func sharingSet(exs []Example, set map[string]bool) int {
	n := 0
	for _, ex := range exs {
		found := false
		for _, b := range [][]byte{ex.A, ex.B} {
			for i := 0; !found && i+overlapSpan <= len(b); i++ {
				found = set[string(b[i:i+overlapSpan])]
			}
		}
		if found {
			n++
		}
	}
	return n
}

// overlaps counts the examples of dev and test sharing a span with train,
// and of test sharing one with dev.
func overlaps(train, dev, test []Example) (devTrain, testTrain, testDev int) {
	trainSet, devSet := spanSet(train), spanSet(dev)
	return sharingSet(dev, trainSet), sharingSet(test, trainSet), sharingSet(test, devSet)
}

// No dev or test input shares a span of overlapSpan bytes with a training
// input, nor a test input with a dev one, on every task: on the synthetic
// corpus and on the toolchain.
func TestNoOverlapBetweenSplits(t *testing.T) {
	check := func(corpus string, task *Task) {
		t.Helper()
		if a, b, c := overlaps(task.Train, task.Dev, task.Test); a+b+c > 0 {
			t.Errorf("%s %s: %d dev and %d test examples share a %d-byte span with train, %d test examples with dev",
				corpus, task.Name, a, b, overlapSpan, c)
		}
	}
	for _, name := range Names {
		task, err := buildSpec(small(t, name), synthSources(), 1)
		if err != nil {
			t.Fatal(err)
		}
		check("synthetic", task)
	}
	src := toolchain(t)
	for _, name := range Names {
		task, err := Generate(name, 1)
		if err != nil {
			t.Fatal(err)
		}
		check("toolchain", task)
		f := task.Filtered
		fileDev, fileTest := src.TrainFileOverlap(task)
		t.Logf("%-10s train/dev/test %d/%d/%d; dropped for a shared span: dev %d (train), test %d (train) + %d (dev); past the cap: %v; sharing a span with a train-split file, not filtered: dev %d, test %d",
			name, len(task.Train), len(task.Dev), len(task.Test), f.DevOverlap, f.TestOverlap, f.TestDevOverlap, f.Capped, fileDev, fileTest)
	}
}

// The check above is not vacuous: before the filter, the toolchain's
// splits do share spans.
func TestOverlapCheckSeesUnfilteredSplits(t *testing.T) {
	src := toolchain(t)
	total := 0
	for _, name := range []string{"family", "books"} {
		spec, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		splits, err := spec.build(src, 1, spec)
		if err != nil {
			t.Fatal(err)
		}
		a, b, c := overlaps(splits[inTrain], splits[inDev], splits[inTest])
		t.Logf("%s unfiltered: %d dev and %d test examples share a span with train, %d test with dev", name, a, b, c)
		total += a + b + c
	}
	if total == 0 {
		t.Error("no overlap before the filter: the check cannot tell the filter works")
	}
}
