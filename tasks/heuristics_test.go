package tasks

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

func TestBracketsAndDoubledTokens(t *testing.T) {
	for s, want := range map[string]bool{
		"f(a[1], g{2})": true, "f(a[1)]": false, "f(a": false, "x)": false,
		`x := "(" + ")("`: true, "if ok {\n\tf()\n}": true, "// (\nf()": true,
	} {
		if got := bracketsBalance([]byte(s)); got != want {
			t.Errorf("bracketsBalance(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{
		"x := f(a, , b)": true, "x x := 1": true, "return err err": true,
		"f((a))": false, "}}": false, "var x int": false, "a, b = b, a": false,
	} {
		if got := doubledToken([]byte(s)); got != want {
			t.Errorf("doubledToken(%q) = %v", s, got)
		}
	}
}

func TestTrigramsAndLines(t *testing.T) {
	if got := trigramJaccard([]byte("abcd"), []byte("bcde")); got != 1.0/3 { // {bcd} of {abc, bcd, cde}
		t.Errorf("trigramJaccard = %v, want 1/3", got)
	}
	if got := trigramJaccard([]byte("ab"), []byte("ab")); got != 0 {
		t.Errorf("trigramJaccard of inputs too short for a trigram = %v", got)
	}
	if a, b := lastLine([]byte("\tx := 1\n\t\tif y {\n")), firstLine([]byte("\t\t\treturn\n\t\t}\n")); tabs(a) != 2 || tabs(b) != 3 {
		t.Errorf("last line %q (%d tabs), first line %q (%d tabs)", a, tabs(a), b, tabs(b))
	}
}

// A hand-made pair task: same pairs share most bytes, different ones
// share none. The trigram rule's threshold, fit on train, separates dev
// and test perfectly; the identifier rule, which these pairs give little to,
// stays below it; and the best heuristic is the one that wins on train.
func TestHeuristicsOnAHandMadeTask(t *testing.T) {
	pair := func(i, label int) Example {
		a := []byte("alpha beta gamma " + string(rune('a'+i%26)))
		b := []byte("omega psi chi " + string(rune('a'+i%26)))
		if label == 1 {
			b = append([]byte("alpha beta "), a[11:]...)
		}
		return Example{A: a, B: b, Label: label}
	}
	task := &Task{Spec: Spec{Name: "samefile", Classes: []string{"different", "same"}, Pair: true, Metrics: []string{Accuracy, F1}}}
	for i := range 40 {
		task.Train = append(task.Train, pair(i, i%2))
		if i < 10 {
			task.Dev = append(task.Dev, pair(i+7, i%2))
			task.Test = append(task.Test, pair(i+13, i%2))
		}
	}
	hs := task.Heuristics(0)
	if len(hs) != 2 || hs[0].Name != "trigram overlap ≥ θ" {
		t.Fatalf("heuristics %+v", hs)
	}
	if hs[0].Dev.Score != 100 || hs[0].Train.Score != 100 || hs[0].Test.Score != 100 {
		t.Errorf("trigram overlap: train %.1f, dev %.1f, test %.1f, want 100", hs[0].Train.Score, hs[0].Dev.Score, hs[0].Test.Score)
	}
	if best, ok := BestHeuristic(hs); !ok || best.Name != hs[0].Name {
		t.Errorf("best %q", best.Name)
	}
	// The choice is by training score: a heuristic better on dev or test
	// only does not win.
	hs[1].Dev.Score, hs[1].Test.Score = 101, 101
	if best, _ := BestHeuristic(hs); best.Name != hs[0].Name {
		t.Errorf("best by dev or test score: %q", best.Name)
	}
}

// The threshold sweep finds the cut that a brute force over every
// candidate finds, scored by the same metrics as predictions are.
func TestFitThresholdIsTheBestCut(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	task := &Task{Spec: Spec{Classes: []string{"n", "y"}, Metrics: []string{Matthews}}}
	var exs []Example
	var xs []float64
	for range 200 {
		label := r.IntN(2)
		exs = append(exs, Example{Label: label})
		xs = append(xs, math.Round(10*(r.NormFloat64()+float64(label)))/10) // ties included
	}
	cutScore := func(theta float64) float64 {
		p := make([]int, len(xs))
		for i, x := range xs {
			p[i] = b2i(x >= theta)
		}
		return task.ScoreClassesOn(exs, p).Score
	}
	best := cutScore(math.Inf(1))
	for _, x := range xs {
		best = math.Max(best, cutScore(x))
	}
	theta := task.fitThreshold(xs, exs)
	if got := cutScore(theta); math.Abs(got-best) > 1e-9 {
		t.Fatalf("θ = %g scores %.6f, the best cut %.6f", theta, got, best)
	}
}

func TestFitLine(t *testing.T) {
	exs := []Example{{Target: 1}, {Target: 3}, {Target: 5}}
	if a, b := fitLine([]float64{0, 1, 2}, exs); a != 1 || b != 2 {
		t.Errorf("line %g + %g·x, want 1 + 2·x", a, b)
	}
	if a, b := fitLine([]float64{4, 4, 4}, exs); a != 3 || b != 0 {
		t.Errorf("constant feature: %g + %g·x, want the mean", a, b)
	}
}

// A rule reads the input as the model sees it: a '?' past the context is
// not there.
func TestHeuristicsSeeTheModelsView(t *testing.T) {
	long := append(bytes.Repeat([]byte("x"), 200), '?')
	task := &Task{Spec: Spec{Name: "books", Classes: []string{"Book I", "Book II", "Book III"}, Metrics: []string{Accuracy}},
		Train: []Example{{A: []byte("a"), Label: 0}, {A: []byte("b?"), Label: 2}, {A: []byte("c"), Label: 0}},
		Dev:   []Example{{A: long, Label: 2}}, Test: []Example{{A: long, Label: 2}}}
	if h := task.Heuristics(0)[0]; h.Dev.Score != 100 || h.Test.Score != 100 {
		t.Errorf("whole input: dev %.1f, test %.1f, want 100", h.Dev.Score, h.Test.Score)
	}
	if h := task.Heuristics(128)[0]; h.Dev.Score != 0 || h.Test.Score != 0 {
		t.Errorf("cut to 128 bytes: dev %.1f, test %.1f, want 0 (the '?' is cut off)", h.Dev.Score, h.Test.Score)
	}
}

// Every task of the suite declares a rule, each of one kind, and none
// computes its label: the rules run on every task without error.
func TestEveryTaskHasHeuristics(t *testing.T) {
	for _, name := range Names {
		for _, h := range heuristicSets[name] {
			if (h.rule == nil) == (h.feature == nil) || h.Name == "" || h.About == "" {
				t.Errorf("%s: heuristic %+v must set a name, an about and one of rule and feature", name, h.Name)
			}
		}
		task, err := buildSpec(small(t, name), synthSources(), 1)
		if err != nil {
			t.Fatal(err)
		}
		hs := task.Heuristics(128)
		if _, ok := BestHeuristic(hs); !ok {
			t.Errorf("%s declares no heuristic", name)
		}
		// Fit on train alone: swapping dev and test swaps their scores
		// and changes no fit.
		swapped := *task
		swapped.Dev, swapped.Test = task.Test, task.Dev
		for i, h := range swapped.Heuristics(128) {
			if h.Fit != hs[i].Fit || h.Train.Score != hs[i].Train.Score || h.Dev.Score != hs[i].Test.Score || h.Test.Score != hs[i].Dev.Score {
				t.Errorf("%s, %s: with dev and test swapped %+v, before %+v", name, h.Name, h, hs[i])
			}
		}
	}
	if len(heuristicSets) != len(Names) {
		t.Errorf("heuristics for %d tasks, the suite has %d", len(heuristicSets), len(Names))
	}
}
