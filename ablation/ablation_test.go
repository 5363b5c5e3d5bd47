package ablation

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// fakeOutcomes gives each row a final validation loss (per seed, loss+0.01·seed)
// and writes a short metrics.jsonl per run, as a finished matrix would have.
func fakeOutcomes(t *testing.T, runs []experiments.Run, loss map[string]float64, diverged string) []runner.Outcome {
	t.Helper()
	outs := make([]runner.Outcome, len(runs))
	for i, r := range runs {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		l := loss[r.Row] + 0.01*float64(r.Seed)
		var lines strings.Builder
		for s := 1; s <= 4; s++ {
			fmt.Fprintf(&lines, `{"step":%d,"loss":%g,"lr":0.001,"grad_norm":1,"val_loss":%g}`+"\n", s, l+1, l)
		}
		if err := os.WriteFile(filepath.Join(dir, train.MetricsFile), []byte(lines.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		res := &train.Result{Status: train.StatusOK, FinalVal: train.Eval{Loss: l, Perplexity: train.Number(math.Exp(l))}}
		if r.Row == diverged {
			res.Status, res.DivergedReason = train.StatusDiverged, "training loss NaN at step 3"
		}
		outs[i] = runner.Outcome{Config: r.Config, Dir: dir, Result: res}
	}
	return outs
}

func TestBuildAndWrite(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	p.Seeds = []uint64{1, 2}
	runs := experiments.Ablation(p)
	// The paper's ordering: full < ReLoRA < LoRA+WS < R+O+J < LoRA < R+J ≈ R, R+O diverges.
	loss := map[string]float64{
		experiments.RowFull: 3.0, experiments.RowReLoRA: 3.1, experiments.RowLoRAWS: 3.2,
		"+R+O+J": 3.3, "LoRA": 3.4, "+R+J": 3.45, "+R": 3.45, "+R+O": 3.5,
	}
	tab, err := Build(p, runs, fakeOutcomes(t, runs, loss, "+R+O"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, tab); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil || !strings.Contains(string(md), "diverged in 2/2") {
		t.Fatalf("ablation.md lacks the diverged row (%v):\n%s", err, md)
	}
	for _, f := range []string{JSONFile, ValFigure + ".png", TrainFigure + ".svg", LRFigure + ".png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestSubsetOfRowsBuildsAPartialTable(t *testing.T) {
	p, _ := experiments.Get("quick")
	rows, err := experiments.AblationRowsNamed([]string{"LoRA", experiments.RowReLoRA})
	if err != nil {
		t.Fatal(err)
	}
	runs := experiments.AblationOf(p, rows)
	tab, err := Build(p, runs, fakeOutcomes(t, runs, map[string]float64{"LoRA": 3.4, experiments.RowReLoRA: 3.1}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(tab.Rows))
	}
	if err := Write(t.TempDir(), tab); err != nil {
		t.Fatalf("writing a partial table: %v", err)
	}
	if _, err := experiments.AblationRowsNamed([]string{"LoRA", "nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown row: %v", err)
	}
}

// A row that diverged before its first evaluation (so it has no validation
// point, and here no logged step at all) still renders: the table says
// "diverged" and the figures keep it in the legend.
func TestRowDivergedBeforeItsFirstEvaluationRenders(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	runs := experiments.Ablation(p)
	loss := map[string]float64{experiments.RowFull: 3.0, experiments.RowReLoRA: 3.1, experiments.RowLoRAWS: 3.2,
		"+R+O+J": 3.3, "LoRA": 3.4, "+R+J": 3.45, "+R": 3.45, "+R+O": 3.5}
	outs := fakeOutcomes(t, runs, loss, "LoRA")
	for i, r := range runs {
		if r.Row == "LoRA" {
			if err := os.WriteFile(filepath.Join(outs[i].Dir, train.MetricsFile), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			// Its last finite evaluation is the untrained model's.
			outs[i].Result.FinalVal = train.Eval{Loss: math.Log(256), Perplexity: 256}
		}
	}
	tab, err := Build(p, runs, outs)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, tab); err != nil {
		t.Fatalf("a row diverged before its first evaluation stops the table: %v", err)
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "diverged") {
		t.Errorf("ablation.md does not say the row diverged:\n%s", md)
	}
}

// Build reads the runs' metrics; Write only writes: with the run folders
// gone, the table still renders, and a Table decoded from its JSON (which
// has no curves) is refused rather than drawn empty.
func TestWriteReadsNothing(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	runs := experiments.Ablation(p)
	loss := map[string]float64{experiments.RowFull: 3.0, experiments.RowReLoRA: 3.1, experiments.RowLoRAWS: 3.2,
		"+R+O+J": 3.3, "LoRA": 3.4, "+R+J": 3.45, "+R": 3.45, "+R+O": 3.5}
	outs := fakeOutcomes(t, runs, loss, "")
	tab, err := Build(p, runs, outs)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if err := os.RemoveAll(o.Dir); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := Write(dir, tab); err != nil {
		t.Fatalf("Write needs the run folders: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "trainY") || len(b) > 20000 {
		t.Errorf("ablation.json carries the curves (%d bytes)", len(b))
	}
	var decoded Table
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	if err := Write(t.TempDir(), &decoded); err == nil {
		t.Error("wrote figures from a Table without curves")
	}
}

// Every row of Table 1 has its method's fixed style, so its colour is the
// same here as in the other tables' figures.
func TestEveryRowHasAMethodStyle(t *testing.T) {
	for _, r := range experiments.AblationRows {
		if _, ok := report.MethodStyle(r.Name); !ok {
			t.Errorf("row %q has no method style", r.Name)
		}
	}
	full, _ := report.MethodStyle(experiments.RowFull)
	relora, _ := report.MethodStyle(experiments.RowReLoRA)
	if full.Color == relora.Color {
		t.Error("full-rank and ReLoRA share a colour")
	}
}

// The training-loss axis fits the curves after the first steps: its top is
// the largest value any row reaches from trainCut of training on, far
// below the initial ln 256.
func TestTrainingLossAxisSkipsTheInitialDrop(t *testing.T) {
	tab := &Table{curves: map[string]curve{
		"a": {trainX: []float64{1, 10, 50, 100}, trainY: []float64{5.5, 4, 2.2, 2.0}, trainLo: []float64{5.5, 4, 2.1, 1.9}, trainHi: []float64{5.5, 4, 2.3, 2.1}},
		"b": {trainX: []float64{1, 10, 50, 100}, trainY: []float64{5.5, 4.5, 2.5, 2.4}, trainLo: []float64{5.5, 4.5, 2.5, 2.4}, trainHi: []float64{5.5, 4.5, 2.5, 2.4},
			strays: map[uint64][]float64{2: {5.5, 4.5, 2.9, 2.4}}},
	}}
	r, ok := tab.trainYRange()
	if !ok || r.step != 12 {
		t.Fatalf("range %+v (%v), want one from step 12", r, ok)
	}
	if r.hi < 2.9 || r.hi > 3.0 || r.lo > 1.9 || r.lo < 1.8 {
		t.Errorf("range [%g, %g], want about [1.9, 2.9] padded (the straying seed's 2.9 included)", r.lo, r.hi)
	}
}
