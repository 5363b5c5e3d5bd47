package experiments

import (
	"testing"

	"github.com/relorago/harness/train"
)

// Every other seed found for a row joins the table, after the asked-for
// ones are merged in, seeds ascending within each row and rows in order.
func TestWithSeedsAddsFoundSeedsRowByRow(t *testing.T) {
	p, err := Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	p.Seeds = []uint64{4}
	runs := AblationOf(p, AblationRows[:2]) // LoRA, +R at seed 4
	found := map[string][]uint64{"LoRA": {1, 4, 2}, "+R": nil}
	rowOf := map[string]string{}
	for _, r := range runs {
		rowOf[r.Config.ReLoRA.Method+boolKey(r.Config)] = r.Row
	}
	out := WithSeeds(runs, func(c train.Config) []uint64 { return found[rowOf[c.ReLoRA.Method+boolKey(c)]] })
	var got []string
	for _, r := range out {
		if r.Config.Seed != r.Seed {
			t.Fatalf("run %s: config seed %d, label %d", r.Row, r.Config.Seed, r.Seed)
		}
		got = append(got, r.Row+"/"+string(rune('0'+r.Seed)))
	}
	want := []string{"LoRA/1", "LoRA/2", "LoRA/4", "+R/4"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func boolKey(c train.Config) string {
	if c.ReLoRA.Restarts {
		return "R"
	}
	return ""
}
