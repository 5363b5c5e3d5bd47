package tasks

import (
	"fmt"
	"math"
	"sort"
)

// Scores are a task's metrics on a split (fractions in [0, 1] or correlations in
// [−1, 1]) and Score, the GLUE-style task score: the mean of the task's
// metrics × 100 (MRPC's accuracy and F1, STS-B's Pearson and Spearman).
type Scores struct {
	Metrics map[string]float64 `json:"metrics"`
	Score   float64            `json:"score"`
}

func (t *Task) scores(m map[string]float64) Scores {
	var sum float64
	for _, name := range t.Metrics {
		sum += m[name]
	}
	return Scores{Metrics: m, Score: 100 * sum / float64(len(t.Metrics))}
}

// ScoreClasses scores class predictions for the dev set, in its order.
func (t *Task) ScoreClasses(preds []int) Scores { return t.ScoreClassesOn(t.Dev, preds) }

// ScoreRegression scores predicted scores for the dev set, in its order.
func (t *Task) ScoreRegression(preds []float64) Scores { return t.ScoreRegressionOn(t.Dev, preds) }

// ScoreTestClasses scores class predictions for the test set, in its order.
func (t *Task) ScoreTestClasses(preds []int) Scores { return t.ScoreClassesOn(t.Test, preds) }

// ScoreTestRegression scores predicted scores for the test set, in its
// order.
func (t *Task) ScoreTestRegression(preds []float64) Scores {
	return t.ScoreRegressionOn(t.Test, preds)
}

// ScoreClassesOn scores class predictions for any of the task's splits,
// in its order: heuristics are chosen by their training score, and runs
// and heuristics alike are reported on dev and test.
func (t *Task) ScoreClassesOn(exs []Example, preds []int) Scores {
	labels := make([]int, len(exs))
	for i, ex := range exs {
		labels[i] = ex.Label
	}
	m := map[string]float64{Accuracy: AccuracyOf(preds, labels)}
	if len(t.Classes) == 2 {
		m[F1] = F1Of(preds, labels)
		m[Matthews] = MatthewsOf(preds, labels)
	}
	return t.scores(m)
}

// ScoreRegressionOn is ScoreClassesOn for the regression task.
func (t *Task) ScoreRegressionOn(exs []Example, preds []float64) Scores {
	targets := make([]float64, len(exs))
	for i, ex := range exs {
		targets[i] = ex.Target
	}
	return t.scores(map[string]float64{Pearson: PearsonOf(preds, targets), Spearman: SpearmanOf(preds, targets)})
}

// AccuracyOf is the fraction of predictions equal to their label.
func AccuracyOf(preds, labels []int) float64 {
	mustSameLen(len(preds), len(labels))
	n := 0
	for i := range preds {
		if preds[i] == labels[i] {
			n++
		}
	}
	return float64(n) / float64(len(preds))
}

// confusion counts a binary task's outcomes with class 1 as positive.
func confusion(preds, labels []int) (tp, fp, fn, tn float64) {
	mustSameLen(len(preds), len(labels))
	for i := range preds {
		switch {
		case preds[i] == 1 && labels[i] == 1:
			tp++
		case preds[i] == 1:
			fp++
		case labels[i] == 1:
			fn++
		default:
			tn++
		}
	}
	return
}

// F1Of is the F1 score of class 1 (0 when nothing is predicted or labelled
// positive, as scikit-learn's zero_division=0).
func F1Of(preds, labels []int) float64 { return f1(confusion(preds, labels)) }

// f1 and matthews are F1Of and MatthewsOf from the confusion counts, so a
// threshold sweep can score every cut without rebuilding predictions.
func f1(tp, fp, fn, _ float64) float64 {
	if tp == 0 {
		return 0
	}
	return 2 * tp / (2*tp + fp + fn)
}

// MatthewsOf is the Matthews correlation coefficient of a binary task
// (CoLA's metric): 0 when a row or column of the confusion matrix is empty,
// as scikit-learn returns for a constant prediction.
func MatthewsOf(preds, labels []int) float64 { return matthews(confusion(preds, labels)) }

func matthews(tp, fp, fn, tn float64) float64 {
	den := math.Sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
	if den == 0 {
		return 0
	}
	return (tp*tn - fp*fn) / den
}

// PearsonOf is the Pearson correlation (0 when either side is constant: a
// constant prediction carries no ranking).
func PearsonOf(x, y []float64) float64 {
	mustSameLen(len(x), len(y))
	if constant(x) || constant(y) {
		return 0
	}
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

func constant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

// SpearmanOf is the Spearman rank correlation: Pearson's on ranks, ties
// given their average rank (as scipy.stats.spearmanr).
func SpearmanOf(x, y []float64) float64 {
	return PearsonOf(ranks(x), ranks(y))
}

// ranks returns 1-based ranks with ties averaged.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	out := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		r := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			out[idx[k]] = r
		}
		i = j + 1
	}
	return out
}

func mustSameLen(a, b int) {
	if a != b || a == 0 {
		panic(fmt.Sprintf("tasks: scoring %d predictions against %d labels", a, b))
	}
}
