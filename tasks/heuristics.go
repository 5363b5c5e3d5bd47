package tasks

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
)

// A fine-tuned model has learnt something worth comparing methods on only
// where it beats what a rule of thumb gets from the same input. Each task
// declares a few such rules here, chosen for what the task asks, not
// learnt: their free parameters (a threshold, a line, the fallback class)
// are fit on the training split alone, the rule with the best training
// score is the task's heuristic, and it is scored on dev and test like
// the runs.
// No rule computes a label's own definition (go/parser for cola, the
// identifier Jaccard index for similarity, which file or Book a text is
// from): that would be the answer, not a heuristic. The rules were written
// after a first look at their dev scores, so the sets are not blind to
// dev; they are kept to what each task's question suggests.

// Heuristic is one declared rule of a task.
type Heuristic struct {
	Name  string // short, for the table
	About string // what it predicts and what is fit on train
	// Exactly one is set. rule maps an input to a class, given the
	// training set's most frequent class to fall back on (fallsBack says
	// whether it does). feature is thresholded on a binary task (class 1
	// iff feature ≥ θ, or ≤ θ when below, θ maximising the training
	// score), or fit by a least-squares line on the regression task.
	rule      func(ex Example, majority int) int
	fallsBack bool
	feature   func(ex Example) float64
	below     bool
}

// HeuristicScore is a heuristic fitted on a task's training split.
type HeuristicScore struct {
	Name  string `json:"name"`
	About string `json:"about"`
	Fit   string `json:"fit"` // what was fit on train, e.g. "θ = 0.031"
	Train Scores `json:"train"`
	Dev   Scores `json:"dev"`
	Test  Scores `json:"test"`
}

// Classes of the books task, for its rules.
const (
	bookII  = 1
	bookIII = 2
)

// heuristicSets are the rules declared per task.
var heuristicSets = map[string][]Heuristic{
	"cola": {
		{Name: "brackets balance", About: "valid iff the statement's (), [] and {} tokens (go/scanner) nest and close",
			rule: func(ex Example, _ int) int { return b2i(bracketsBalance(ex.A)) }},
		{Name: "brackets balance, no doubled token", About: "valid iff the brackets balance and no token but a bracket comes twice in a row",
			rule: func(ex Example, _ int) int { return b2i(bracketsBalance(ex.A) && !doubledToken(ex.A)) }},
	},
	"family": {
		{Name: "family named", About: "the family whose name is an identifier of the excerpt (math.Sqrt → math), else the training set's most frequent",
			rule: familyNamed, fallsBack: true},
	},
	"samefile": {
		{Name: "trigram overlap ≥ θ", About: "same iff the Jaccard index of the two inputs' sets of 3-byte substrings is ≥ θ",
			feature: func(ex Example) float64 { return trigramJaccard(ex.A, ex.B) }},
		{Name: "identifier overlap ≥ θ", About: "same iff the Jaccard index of the two inputs' identifier sets (go/scanner) is ≥ θ",
			feature: func(ex Example) float64 { return Jaccard(Identifiers(ex.A), Identifiers(ex.B)) }},
	},
	"similarity": {
		{Name: "trigram overlap, linear", About: "a least-squares line in the Jaccard index of the two inputs' sets of 3-byte substrings",
			feature: func(ex Example) float64 { return trigramJaccard(ex.A, ex.B) }},
		{Name: "length gap, linear", About: "a least-squares line in |len A − len B|",
			feature: func(ex Example) float64 { return math.Abs(float64(len(ex.A) - len(ex.B))) }},
	},
	"next": {
		{Name: "trigram overlap ≥ θ", About: "continues iff the Jaccard index of the two inputs' sets of 3-byte substrings is ≥ θ",
			feature: func(ex Example) float64 { return trigramJaccard(ex.A, ex.B) }},
		{Name: "indentation step ≤ θ", About: "continues iff B's first line is indented within θ tabs of A's last line",
			feature: func(ex Example) float64 { return math.Abs(float64(tabs(firstLine(ex.B)) - tabs(lastLine(ex.A)))) }, below: true},
	},
	"books": {
		{Name: "question → III", About: "Book III (which ends in the Queries) for a shown '?', else the training set's most frequent",
			rule: func(ex Example, majority int) int {
				if bytes.IndexByte(ex.A, '?') >= 0 {
					return bookIII
				}
				return majority
			}, fallsBack: true},
		{Name: "question → III, Rings or Plates → II", About: "as question → III, then Book II (thin plates, Newton's rings) for a shown \"Ring\" or \"Plate\"",
			rule: func(ex Example, majority int) int {
				switch {
				case bytes.IndexByte(ex.A, '?') >= 0:
					return bookIII
				case bytes.Contains(ex.A, []byte("Ring")) || bytes.Contains(ex.A, []byte("Plate")):
					return bookII
				}
				return majority
			}, fallsBack: true},
	},
}

// Heuristics fits every declared rule of the task on its training split
// and scores it on train, dev and test. Each example is shown as a model with a
// context of seq bytes sees it (Encode; seq ≤ 0: whole), so a rule reads
// no text the runs could not: most books sentences are cut, and their '?'
// with them.
func (t *Task) Heuristics(seq int) []HeuristicScore {
	train, dev, test := viewAll(t.Train, seq), viewAll(t.Dev, seq), viewAll(t.Test, seq)
	var out []HeuristicScore
	for _, h := range heuristicSets[t.Name] {
		var s HeuristicScore
		switch {
		case h.rule != nil:
			s = t.scoreRule(h, train, dev, test)
		case t.Regression():
			s = t.scoreLine(h, train, dev, test)
		default:
			s = t.scoreCut(h, train, dev, test)
		}
		s.Name, s.About = h.Name, h.About
		out = append(out, s)
	}
	return out
}

// scoreRule scores a rule; only its fallback class comes from train.
func (t *Task) scoreRule(h Heuristic, train, dev, test []Example) HeuristicScore {
	maj := t.majorityClass()
	predict := func(exs []Example) []int {
		p := make([]int, len(exs))
		for i, ex := range exs {
			p[i] = h.rule(ex, maj)
		}
		return p
	}
	fit := "nothing (a fixed rule)"
	if h.fallsBack {
		fit = "fallback " + t.Classes[maj]
	}
	return HeuristicScore{Fit: fit, Train: t.scoreClasses(train, predict(train)),
		Dev: t.scoreClasses(dev, predict(dev)), Test: t.scoreClasses(test, predict(test))}
}

// scoreLine fits a line in the feature to the training targets.
func (t *Task) scoreLine(h Heuristic, train, dev, test []Example) HeuristicScore {
	a, b := fitLine(features(h, train), train)
	line := func(exs []Example) []float64 {
		p := features(h, exs)
		for i := range p {
			p[i] = a + b*p[i]
		}
		return p
	}
	sign := "+"
	if b < 0 {
		sign = "−"
	}
	return HeuristicScore{Fit: fmt.Sprintf("ŷ = %.3g %s %.3g·x", a, sign, math.Abs(b)),
		Train: t.scoreRegression(train, line(train)), Dev: t.scoreRegression(dev, line(dev)), Test: t.scoreRegression(test, line(test))}
}

// scoreCut fits the threshold on the training split. A feature read from
// below is negated, so one sweep serves both directions.
func (t *Task) scoreCut(h Heuristic, train, dev, test []Example) HeuristicScore {
	sign := 1.0
	if h.below {
		sign = -1
	}
	signed := func(exs []Example) []float64 {
		xs := features(h, exs)
		for i := range xs {
			xs[i] *= sign
		}
		return xs
	}
	theta := t.fitThreshold(signed(train), train)
	cut := func(exs []Example) []int {
		p := make([]int, len(exs))
		for i, x := range signed(exs) {
			p[i] = b2i(x >= theta)
		}
		return p
	}
	return HeuristicScore{Fit: fmt.Sprintf("θ = %.3g", sign*theta), Train: t.scoreClasses(train, cut(train)),
		Dev: t.scoreClasses(dev, cut(dev)), Test: t.scoreClasses(test, cut(test))}
}

// BestHeuristic is the rule with the best training score (a tie to the one
// declared first): chosen without looking at dev or test; false when the
// task declares none.
func BestHeuristic(hs []HeuristicScore) (HeuristicScore, bool) {
	if len(hs) == 0 {
		return HeuristicScore{}, false
	}
	best := hs[0]
	for _, h := range hs[1:] {
		if h.Train.Score > best.Train.Score {
			best = h
		}
	}
	return best, true
}

// scoreClasses and scoreRegression score a split that may be empty (a
// Task made by hand without a test split) as zero, not a panic.
func (t *Task) scoreClasses(exs []Example, preds []int) Scores {
	if len(exs) == 0 {
		return Scores{}
	}
	return t.ScoreClassesOn(exs, preds)
}

func (t *Task) scoreRegression(exs []Example, preds []float64) Scores {
	if len(exs) == 0 {
		return Scores{}
	}
	return t.ScoreRegressionOn(exs, preds)
}

// viewAll returns the examples as a model of context seq sees them.
func viewAll(exs []Example, seq int) []Example {
	if seq <= 0 {
		return exs
	}
	ids := make([]int32, seq)
	out := make([]Example, len(exs))
	for i, ex := range exs {
		n, a := Encode(ex, ids)
		v := ex
		v.A = int32Bytes(ids[:a])
		if ex.B != nil {
			v.B = int32Bytes(ids[a+1 : n])
		}
		out[i] = v
	}
	return out
}

func int32Bytes(ids []int32) []byte {
	b := make([]byte, len(ids))
	for i, id := range ids {
		b[i] = byte(id)
	}
	return b
}

func features(h Heuristic, exs []Example) []float64 {
	xs := make([]float64, len(exs))
	for i, ex := range exs {
		xs[i] = h.feature(ex)
	}
	return xs
}

// fitThreshold returns the θ among the training features (or +Inf: no
// example is class 1) whose cut "class 1 iff x ≥ θ" scores best on exs, a
// tie to the higher θ. One sweep down the sorted features updates the
// confusion counts, so every cut is scored.
func (t *Task) fitThreshold(xs []float64, exs []Example) float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(xs[b], xs[a]) })
	var pos float64
	for _, ex := range exs {
		pos += float64(ex.Label)
	}
	neg := float64(len(exs)) - pos
	score := func(tp, fp float64) float64 {
		fn, tn := pos-tp, neg-fp
		return t.scores(map[string]float64{Accuracy: (tp + tn) / (pos + neg), F1: f1(tp, fp, fn, tn), Matthews: matthews(tp, fp, fn, tn)}).Score
	}
	theta, best := math.Inf(1), score(0, 0)
	var tp, fp float64
	for i := 0; i < len(idx); {
		x := xs[idx[i]]
		for ; i < len(idx) && xs[idx[i]] == x; i++ {
			tp += float64(exs[idx[i]].Label)
			fp += float64(1 - exs[idx[i]].Label)
		}
		if s := score(tp, fp); s > best {
			theta, best = x, s
		}
	}
	return theta
}

// fitLine is the least-squares line y ≈ a + b·x of the targets on xs (a
// flat line at their mean when x does not vary).
func fitLine(xs []float64, exs []Example) (a, b float64) {
	n := float64(len(xs))
	var mx, my float64
	for i, x := range xs {
		mx += x / n
		my += exs[i].Target / n
	}
	var sxy, sxx float64
	for i, x := range xs {
		sxy += (x - mx) * (exs[i].Target - my)
		sxx += (x - mx) * (x - mx)
	}
	if sxx > 0 {
		b = sxy / sxx
	}
	return my - b*mx, b
}
