package tasks

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// synthSources is a small corpus built here, so the golden hashes below do
// not depend on the Go version's test files: synthFiles files of 8 funcs
// per family (and cmd), each its own package. Built once: a Sources
// memoises its lineage groups and splits.
var synthSources = sync.OnceValue(func() *Sources {
	var files []File
	for _, fam := range append([]string{"cmd"}, Families...) {
		for i := range synthFiles {
			var b strings.Builder
			fmt.Fprintf(&b, "package %s%d\n\nimport \"testing\"\n", fam, i)
			for k := range 8 {
				v := fmt.Sprintf("%s%dv%d", fam, i, k)
				fmt.Fprintf(&b, "\nfunc Test%s%d_%d(t *testing.T) {\n\t%s := compute(%d, %q)\n\tif %s != %d {\n\t\tt.Errorf(\"%s = %%d\", %s)\n\t}\n\tfor j := range %s {\n\t\tsum%d += j * %d\n\t}\n}\n",
					fam, i, k, v, k*i, fam, v, k+i, v, v, v, k, i+1)
			}
			files = append(files, File{Path: fmt.Sprintf("%s/p%d/x%d_test.go", fam, i, i), Text: []byte(b.String())})
		}
	}
	var op strings.Builder
	op.WriteString("Front matter. Not in any Book at all, this sentence.\n\n")
	for book, ord := range bookOrdinals {
		fmt.Fprintf(&op, "THE\n\n%s BOOK\n\nOF\n\nOPTICKS\n\n", ord)
		for k := range 60 {
			fmt.Fprintf(&op, "Sentence number %d of the book %d speaks of light and colours.\n", k, book+1)
		}
	}
	return &Sources{Go: files, Opticks: []byte(op.String())}
})

// synthFiles is the synthetic corpus's files per family: enough for dev
// and test of small's sizes within the per-file cap.
const synthFiles = 120

// small is a task's spec with sizes the synthetic corpus can fill.
func small(t *testing.T, name string) Spec {
	t.Helper()
	s, err := Get(name)
	if err != nil {
		t.Fatal(err)
	}
	s.Train, s.Dev, s.Test = 400, 200, 200
	return s
}

// The tasks are pure functions of (sources, seed): the same examples every
// time, pinned by a hash; another seed gives other examples.
func TestTasksAreDeterministic(t *testing.T) {
	golden := map[string]string{
		"cola": "08da569358b1feb0", "family": "5b1aa23b700becf4", "samefile": "9236f07238ac3882",
		"similarity": "b6ead4d295dfdcf9", "next": "823a25d1ae3bcb3f", "books": "98a7cd5f2d646317",
	}
	src := synthSources()
	for _, name := range Names {
		a, err := buildSpec(small(t, name), src, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := buildSpec(small(t, name), src, 1)
		if err != nil {
			t.Fatal(err)
		}
		c, err := buildSpec(small(t, name), src, 2)
		if err != nil {
			t.Fatal(err)
		}
		if a.Fingerprint() != b.Fingerprint() {
			t.Errorf("%s: two builds with seed 1 differ", name)
		}
		if a.Fingerprint() == c.Fingerprint() {
			t.Errorf("%s: seeds 1 and 2 give the same examples", name)
		}
		if got := a.Fingerprint(); got != golden[name] {
			t.Errorf("%s: fingerprint %s, golden %s", name, got, golden[name])
		}
	}
}

// goldenVersion is the Go version whose sources the toolchain goldens
// were taken with.
const goldenVersion = "go1.26.8"

// On the toolchain's own sources, for the Go version the goldens were taken
// with (another version ships other test files).
func TestTasksOnTheToolchainAreGolden(t *testing.T) {
	toolchain(t)
	if runtime.Version() != goldenVersion {
		t.Skipf("goldens are for %s, this is %s", goldenVersion, runtime.Version())
	}
	golden := map[string]string{
		"cola": "4d7323a726197ec8", "family": "42a1a397dd4d2cda", "samefile": "f609875715e6b46a",
		"similarity": "24b1e74765fef8f9", "next": "c2beb0f04cfb3c84", "books": "b994c254e2e56660",
	}
	for _, name := range Names {
		task, err := Generate(name, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := task.Fingerprint(); got != golden[name] {
			t.Errorf("%s: fingerprint %s, golden %s", name, got, golden[name])
		}
	}
}

// whichFile returns the index of the one file containing b.
func whichFile(t *testing.T, src *Sources, b []byte) int {
	t.Helper()
	found := -1
	for i, f := range src.Go {
		if bytes.Contains(f.Text, b) {
			if found >= 0 {
				t.Fatalf("%q is in two files", b)
			}
			found = i
		}
	}
	if found < 0 {
		t.Fatalf("%q is in no file", b)
	}
	return found
}

// A same-file pair is labelled same exactly when both excerpts are from one
// file; no file gives excerpts to two splits, and each example names the
// files its excerpts are from.
func TestSameFileLabels(t *testing.T) {
	src := synthSources()
	task, err := buildSpec(small(t, "samefile"), src, 1)
	if err != nil {
		t.Fatal(err)
	}
	splitOf := map[int]int{}
	for split, exs := range [][]Example{task.Train, task.Dev, task.Test} {
		for _, ex := range exs {
			fa, fb := whichFile(t, src, ex.A), whichFile(t, src, ex.B)
			if (fa == fb) != (ex.Label == 1) {
				t.Fatalf("files %d and %d labelled %s", fa, fb, task.Classes[ex.Label])
			}
			if ex.from != [2]string{src.Go[fa].Path, src.Go[fb].Path} {
				t.Fatalf("excerpts of %s and %s said to be from %q", src.Go[fa].Path, src.Go[fb].Path, ex.from)
			}
			for _, f := range []int{fa, fb} {
				if s, ok := splitOf[f]; ok && s != split {
					t.Fatalf("%s gives excerpts to %s and %s", src.Go[f].Path, splitNames[s], splitNames[split])
				}
				splitOf[f] = split
			}
		}
	}
}

func TestFamilyLabelsAreTheFilesFamily(t *testing.T) {
	src := synthSources()
	task, err := buildSpec(small(t, "family"), src, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range append(append(task.Train, task.Dev...), task.Test...) {
		if fam := src.Go[whichFile(t, src, ex.A)].Family(); fam != Families[ex.Label] {
			t.Fatalf("excerpt of %s labelled %s", fam, Families[ex.Label])
		}
		if bytes.Contains(ex.A, []byte("package ")) || bytes.Contains(ex.A, []byte("import ")) {
			t.Fatalf("excerpt shows the package clause or imports: %q", ex.A)
		}
	}
}

func TestIdentifiersAndJaccard(t *testing.T) {
	a := Identifiers([]byte("x := foo(bar, x) // baz"))
	if strings.Join(a, ",") != "bar,foo,x" {
		t.Fatalf("identifiers %v", a)
	}
	b := Identifiers([]byte("if foo != nil { return y }"))
	if got := Jaccard(a, b); got != 1.0/5 { // {foo} of {bar, foo, x, nil, y}
		t.Fatalf("Jaccard %v, want 0.2", got)
	}
	task, err := buildSpec(small(t, "similarity"), synthSources(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range task.Train {
		if want := 5 * Jaccard(Identifiers(ex.A), Identifiers(ex.B)); ex.Target != want {
			t.Fatalf("target %v, want %v", ex.Target, want)
		}
	}
}

// next: a positive B starts where A ends in one file.
func TestNextLabels(t *testing.T) {
	src := synthSources()
	task, err := buildSpec(small(t, "next"), src, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range task.Train {
		joined := bytes.Contains(src.Go[whichFile(t, src, ex.A)].Text, append(append([]byte{}, ex.A...), ex.B...))
		if joined != (ex.Label == 1) {
			t.Fatalf("A+B contiguous %v, labelled %s: %q | %q", joined, task.Classes[ex.Label], ex.A, ex.B)
		}
	}
}

func TestEncode(t *testing.T) {
	ids := make([]int32, 8)
	if n, a := Encode(Example{A: []byte("abc")}, ids); n != 3 || a != 3 || ids[2] != 'c' || ids[3] != Pad {
		t.Fatalf("single: %d %d %v", n, a, ids)
	}
	if n, a := Encode(Example{A: []byte("abcdefgh"), B: []byte("xyz")}, ids); n != 8 || a != 4 || string(int32s(ids[:4])) != "abcd" || ids[4] != Separator || string(int32s(ids[5:])) != "xyz" {
		t.Fatalf("pair, short B: %d %d %v", n, a, ids)
	}
	if n, a := Encode(Example{A: []byte("abcdefgh"), B: []byte("uvwxyz")}, ids); n != 8 || a != 3 || string(int32s(ids[:3])) != "abc" || string(int32s(ids[4:])) != "uvwx" {
		t.Fatalf("pair, both long: %d %d %v", n, a, ids)
	}
	if n, a := Encode(Example{A: []byte("ab"), B: []byte("xy")}, ids); n != 5 || a != 2 || ids[5] != Pad {
		t.Fatalf("pair, short: %d %d %v", n, a, ids)
	}
}

func int32s(x []int32) []byte {
	out := make([]byte, len(x))
	for i, v := range x {
		out[i] = byte(v)
	}
	return out
}

// Metrics against values worked out by hand.
func TestMetrics(t *testing.T) {
	preds, labels := []int{1, 1, 0, 0, 1}, []int{1, 0, 0, 1, 1} // tp 2, fp 1, fn 1, tn 1
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %.15g, want %.15g", name, got, want)
		}
	}
	near("accuracy", AccuracyOf(preds, labels), 3.0/5)
	near("F1", F1Of(preds, labels), 2*2.0/(2*2+1+1))
	near("Matthews", MatthewsOf(preds, labels), (2*1-1*1)/math.Sqrt(3*3*2*2))
	near("Matthews of a constant prediction", MatthewsOf([]int{1, 1, 1}, []int{1, 0, 1}), 0)
	near("Matthews perfect", MatthewsOf([]int{1, 0, 1}, []int{1, 0, 1}), 1)
	x, y := []float64{1, 2, 3, 4}, []float64{2, 4, 5, 4}
	near("Pearson", PearsonOf(x, y), 3.5/math.Sqrt(5*4.75))
	near("Spearman (ties averaged)", SpearmanOf(x, y), 3/math.Sqrt(5*4.5)) // ranks of y: 1, 2.5, 4, 2.5
	near("Pearson of a constant", PearsonOf([]float64{2, 2, 2}, []float64{1, 2, 3}), 0)
	near("Spearman reversed", SpearmanOf([]float64{1, 2, 3}, []float64{30, 20, 10}), -1)
}

// The majority baseline predicts the training set's most frequent class:
// 0 Matthews and accuracy equal to that class's dev share.
func TestMajorityBaseline(t *testing.T) {
	task := &Task{Spec: Spec{Classes: []string{"a", "b"}, Metrics: []string{Accuracy, F1}},
		Train: []Example{{Label: 1}, {Label: 1}, {Label: 0}}, Dev: []Example{{Label: 1}, {Label: 0}, {Label: 0}, {Label: 1}},
		Test: []Example{{Label: 1}, {Label: 1}, {Label: 1}, {Label: 0}}}
	s := task.Majority()
	if s.Metrics[Accuracy] != 0.5 || math.Abs(s.Metrics[F1]-2.0/3) > 1e-12 || s.Metrics[Matthews] != 0 || math.Abs(s.Score-100*(0.5+2.0/3)/2) > 1e-9 {
		t.Fatalf("majority %+v", s)
	}
	// On test, the training set's class still: 3 of 4 right.
	if s := task.MajorityOn(task.Test); s.Metrics[Accuracy] != 0.75 || math.Abs(s.Metrics[F1]-6.0/7) > 1e-12 {
		t.Fatalf("majority on test %+v", s)
	}
	if s := task.ScoreTestClasses([]int{1, 1, 0, 0}); s.Metrics[Accuracy] != 0.75 {
		t.Fatalf("test scored %+v", s)
	}
	if got := task.ClassSharesOn(task.Test); got[1] != 0.75 {
		t.Fatalf("test class shares %v", got)
	}
	reg := &Task{Spec: Spec{Metrics: []string{Pearson, Spearman}},
		Train: []Example{{Target: 1}, {Target: 3}}, Test: []Example{{Target: 0}, {Target: 5}}}
	if s := reg.MajorityOn(reg.Test); s.Score != 0 {
		t.Fatalf("a constant prediction correlates: %+v", s)
	}
	if s := reg.ScoreTestRegression([]float64{1, 2}); s.Score != 100 {
		t.Fatalf("test regression scored %+v", s)
	}
}
