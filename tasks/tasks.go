// Package tasks builds the GLUE-like fine-tuning suite of Table 5 from text
// that ships with the Go toolchain: five tasks on Go code (the standard
// library's _test.go files, which the pre-training corpus gostd leaves out)
// and one on English (Newton's Opticks, which the default preset never
// trains on). Every task is a pure function of its sources and a seed:
// fixed train, dev and test splits, the same examples on every run (golden
// hashes in the tests), labels computed from the text (go/parser,
// go/scanner, the file an excerpt came from), never from how an example
// was made.
//
// The splits are kept apart three ways: the Go files are grouped by
// lineage (a package with its versions, copies and twins) and a whole
// group goes to one split (lineage.go, assign.go); after generation, a dev
// or test example sharing a span of 50 bytes with a training example, and
// a test example sharing one with a dev example, is dropped (overlap.go);
// and no file is in more than 2% of a split's examples (caps.go).
// Learning rates are chosen on dev; test is reported.
//
// Inputs are bytes (the models' vocabulary); Encode lays an example out in a
// model's context: a single input truncated to the sequence length, a pair
// as A, the separator byte, B, each side truncated to half the context,
// then zero padding. The model is causal, so the padding after an input
// changes nothing at the input's positions.
package tasks

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// Version numbers the generators' output. Fine-tuning configs carry it, so
// bump it when a change alters the examples of a (task, seed): the runs of
// the old examples are then not mistaken for runs of the new ones.
//
// Version 2: three splits (train, dev, test) of whole lineage groups, the
// overlap filter, the per-file cap, generated files left out, cola's
// clauses labelled in a switch or select, Book headings cut from books and
// sentences split on whole runes.
const Version = 2

// Separator joins the two inputs of a pair task (ASCII record separator: a
// byte no corpus here contains).
const Separator = 0x1e

// Pad fills the context after an input; pooling ignores those positions.
const Pad = 0

// Example is one labelled input. B is nil for single-input tasks.
type Example struct {
	A, B   []byte
	Label  int     // class, for classification tasks
	Target float64 // score, for the regression task
	// from are the paths of the files A and B were cut from ("" for none:
	// books, or an example made elsewhere), for the per-file cap.
	from [2]string
}

// Task is a generated task: its examples and how it is scored.
type Task struct {
	Spec
	Seed uint64
	// Train fits; Dev chooses (learning rates, heuristics' reports); Test
	// is reported. Each may hold fewer than its Spec size: Filtered says
	// how many examples were dropped after generation.
	Train, Dev, Test []Example
	Filtered         Filtered
}

// Filtered counts the examples dropped after generation.
type Filtered struct {
	DevOverlap     int    // dev examples sharing a 50-byte span with a training example
	TestOverlap    int    // test examples sharing one with a training example
	TestDevOverlap int    // test examples sharing one with a kept dev example
	Capped         [3]int // train, dev and test examples past the per-file cap of the kept split
}

// Spec describes a task.
type Spec struct {
	Name    string   // e.g. "cola"
	Like    string   // the GLUE task it stands in for, e.g. "CoLA"
	About   string   // one line: the question the task asks
	Source  string   // where its text comes from
	Classes []string // class names; nil for regression
	Pair    bool     // two inputs joined by Separator
	Metrics []string // GLUE's metrics for it, in its order (the score is their mean)
	// Train, Dev and Test are the sizes generated (the books task takes
	// every sentence, and leaves them 0); the filters then drop some.
	Train, Dev, Test int
	build            func(src *Sources, seed uint64, spec Spec) ([3][]Example, error)
}

// sizes are the three splits' sizes.
func (s Spec) sizes() [3]int { return [3]int{s.Train, s.Dev, s.Test} }

// Outputs is the head's width: the number of classes, or 1 for regression.
func (s Spec) Outputs() int {
	if s.Regression() {
		return 1
	}
	return len(s.Classes)
}

// Regression reports whether the task predicts a score instead of a class.
func (s Spec) Regression() bool { return len(s.Classes) == 0 }

// Metric names.
const (
	Accuracy = "accuracy"
	F1       = "f1"
	Matthews = "matthews"
	Pearson  = "pearson"
	Spearman = "spearman"
)

// Names lists the tasks in the order tables show them.
var Names = []string{"cola", "family", "samefile", "similarity", "next", "books"}

// splitsNote is what every Go task's Source adds about its splits.
const splitsNote = "; train, dev and test of whole lineage groups, no file in over 2% of a split, no dev or test input sharing 50 bytes with an earlier split's"

// specs are the tasks. Sizes are examples generated per split.
var specs = map[string]Spec{
	"cola": {Name: "cola", Like: "CoLA", About: "is this Go statement or switch/select clause syntactically valid? (go/parser decides)",
		Source:  "statements and clauses (12–100 bytes) of {…} blocks of the standard library's _test.go files, half of them with a token deleted, swapped or duplicated" + splitsNote,
		Classes: []string{"invalid", "valid"}, Metrics: []string{Matthews}, Train: 8000, Dev: 1000, Test: 1000, build: buildCoLA},
	"family": {Name: "family", Like: "SST-2/MNLI", About: "which part of the standard library is this code from?",
		Source:  "96-byte excerpts (whole lines) of _test.go files after their first func" + splitsNote,
		Classes: Families, Metrics: []string{Accuracy}, Train: 6000, Dev: 1200, Test: 1200, build: buildFamily},
	"samefile": {Name: "samefile", Like: "MRPC/QQP", About: "are these two excerpts from the same file?",
		Source:  "pairs of excerpts (up to 60 bytes, whole lines) of _test.go files: a same pair starts within 400 bytes of each other in one file, a different pair is of two files" + splitsNote,
		Classes: []string{"different", "same"}, Pair: true, Metrics: []string{Accuracy, F1}, Train: 8000, Dev: 1000, Test: 1000, build: buildSameFile},
	"similarity": {Name: "similarity", Like: "STS-B", About: "how similar are these excerpts' identifiers? 5 × Jaccard of their identifier sets",
		Source: "pairs of excerpts (up to 60 bytes, whole lines) of _test.go files: a third each from nearby in one file, anywhere in one file, any two files; identifiers by go/scanner" + splitsNote,
		Pair:   true, Metrics: []string{Pearson, Spearman}, Train: 6000, Dev: 1000, Test: 1000, build: buildSimilarity},
	"next": {Name: "next", Like: "RTE", About: "does B continue A? (small data: 2,000 training examples)",
		Source:  "up to 60 bytes before a line start of a _test.go file, and up to 60 from it or an excerpt of another file of the same family" + splitsNote,
		Classes: []string{"elsewhere", "continues"}, Pair: true, Metrics: []string{Accuracy}, Train: 2000, Dev: 500, Test: 500, build: buildNext},
	"books": {Name: "books", Like: "English, 3 classes", About: "which Book of Newton's Opticks is this sentence from?",
		Source:  "sentences of Opticks (English) of 40 bytes or more, the Books' headings cut out, footnotes left in; dev and test each take a fifth of the runs of 8 consecutive sentences, less any sentence sharing 50 bytes with an earlier split's",
		Classes: []string{"Book I", "Book II", "Book III"}, Metrics: []string{Accuracy}, build: buildBooks},
}

// Get returns a task's spec.
func Get(name string) (Spec, error) {
	s, ok := specs[name]
	if !ok {
		return Spec{}, fmt.Errorf("tasks: unknown task %q (have %s)", name, strings.Join(Names, ", "))
	}
	return s, nil
}

// Build generates a task from sources: a pure function of (sources, seed).
func Build(name string, src *Sources, seed uint64) (*Task, error) {
	spec, err := Get(name)
	if err != nil {
		return nil, err
	}
	return buildSpec(spec, src, seed)
}

// buildSpec generates a task of spec's sizes (tests use smaller ones),
// then filters it: the overlap filter, then the per-file cap.
func buildSpec(spec Spec, src *Sources, seed uint64) (*Task, error) {
	name := spec.Name
	splits, err := spec.build(src, seed, spec)
	if err != nil {
		return nil, fmt.Errorf("tasks: %s: %w", name, err)
	}
	t := &Task{Spec: spec, Seed: seed, Train: splits[inTrain]}
	t.Dev, t.Test = filterOverlap(t.Train, splits[inDev], splits[inTest], &t.Filtered)
	for s, exs := range []*[]Example{&t.Train, &t.Dev, &t.Test} {
		*exs, t.Filtered.Capped[s] = trimToCap(*exs)
	}
	for s, exs := range [][]Example{t.Train, t.Dev, t.Test} {
		if len(exs) == 0 {
			return nil, fmt.Errorf("tasks: %s: the sources give no %s examples", name, splitNames[s])
		}
		for _, ex := range exs {
			if len(ex.A) == 0 || (spec.Pair && len(ex.B) == 0) {
				return nil, fmt.Errorf("tasks: %s: an example has an empty input", name)
			}
		}
	}
	return t, nil
}

var (
	memoMu sync.Mutex
	memo   = map[string]*Task{}
)

// Generate builds a task from the toolchain's sources (LoadSources),
// memoised per process: a fine-tuning matrix builds each task once.
func Generate(name string, seed uint64) (*Task, error) {
	key := fmt.Sprintf("%s/%d", name, seed)
	memoMu.Lock()
	defer memoMu.Unlock()
	if t := memo[key]; t != nil {
		return t, nil
	}
	src, err := LoadSources()
	if err != nil {
		return nil, err
	}
	t, err := Build(name, src, seed)
	if err != nil {
		return nil, err
	}
	memo[key] = t
	return t, nil
}

// Encode lays ex out in a context of len(ids) tokens and returns how many
// are input, n (the rest is Pad), and how many of those are A's, a (n for
// a single input). A pair is A, Separator, B; when it does not fit, each
// side keeps its first half of the context (a short side gives its room to
// the other).
func Encode(ex Example, ids []int32) (n, a int) {
	seq := len(ids)
	var in []byte
	if ex.B == nil {
		in = ex.A[:min(len(ex.A), seq)]
		a = len(in)
	} else {
		room := seq - 1
		var b int
		a, b = len(ex.A), len(ex.B)
		if a+b > room {
			ha := room / 2
			switch {
			case a <= ha:
				b = room - a
			case b <= room-ha:
				a = room - b
			default:
				a, b = ha, room-ha
			}
		}
		in = slices.Concat(ex.A[:a], []byte{Separator}, ex.B[:b])
	}
	for i := range ids {
		ids[i] = Pad
		if i < len(in) {
			ids[i] = int32(in[i])
		}
	}
	return len(in), a
}

// Fingerprint is the first 16 hex digits of a SHA-256 over the examples
// (train, then dev, then test), which the golden tests and result.json
// record.
func (t *Task) Fingerprint() string {
	h := sha256.New()
	var buf [8]byte
	put := func(b []byte) {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(b)))
		h.Write(buf[:])
		h.Write(b)
	}
	for _, part := range [][]Example{t.Train, t.Dev, t.Test} {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(part)))
		h.Write(buf[:])
		for _, ex := range part {
			put(ex.A)
			put(ex.B)
			binary.LittleEndian.PutUint64(buf[:], uint64(ex.Label))
			h.Write(buf[:])
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(ex.Target))
			h.Write(buf[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Majority is the baseline on dev (MajorityOn).
func (t *Task) Majority() Scores { return t.MajorityOn(t.Dev) }

// MajorityOn is the baseline on any split: the training set's most
// frequent class (ties to the higher class) for every example, or the
// training mean score for the regression task.
func (t *Task) MajorityOn(exs []Example) Scores {
	if t.Regression() {
		var mean float64
		for _, ex := range t.Train {
			mean += ex.Target
		}
		mean /= float64(len(t.Train))
		preds := make([]float64, len(exs))
		for i := range preds {
			preds[i] = mean
		}
		return t.ScoreRegressionOn(exs, preds)
	}
	best := t.majorityClass()
	preds := make([]int, len(exs))
	for i := range preds {
		preds[i] = best
	}
	return t.ScoreClassesOn(exs, preds)
}

// majorityClass is the training set's most frequent class, a tie to the
// higher class.
func (t *Task) majorityClass() int {
	counts := make([]int, t.Outputs())
	for _, ex := range t.Train {
		counts[ex.Label]++
	}
	best := 0
	for c, n := range counts {
		if n >= counts[best] {
			best = c
		}
	}
	return best
}

// ClassShares returns the fraction of dev examples in each class (nil for
// regression).
func (t *Task) ClassShares() []float64 { return t.ClassSharesOn(t.Dev) }

// ClassSharesOn returns the fraction of exs in each class (nil for
// regression).
func (t *Task) ClassSharesOn(exs []Example) []float64 {
	if t.Regression() {
		return nil
	}
	out := make([]float64, t.Outputs())
	for _, ex := range exs {
		out[ex.Label] += 1 / float64(len(exs))
	}
	return out
}
