package tasks

import (
	"fmt"
	"testing"
)

func TestTrimToCap(t *testing.T) {
	var exs []Example
	for i := range 100 {
		p := fmt.Sprintf("f%d", i%60) // f0…f39 twice, f40…f59 once
		exs = append(exs, Example{A: []byte{byte(i)}, from: [2]string{p, p}})
	}
	exs = append(exs, Example{A: []byte("x"), from: [2]string{"f1", "f2"}}) // f1, f2 a third time
	kept, dropped := trimToCap(exs)
	// 101 examples: a cap of 2; the pair is dropped, then 100: still 2.
	if dropped != 1 || len(kept) != 100 {
		t.Fatalf("kept %d, dropped %d; want 100, 1", len(kept), dropped)
	}
	// A pair counts once for each of its two files, once for one file.
	c := capAt(1)
	c.add("a", "a")
	if c.n["a"] != 1 || !c.full("b", "a") || c.full("b", "") {
		t.Fatalf("counts %v", c.n)
	}
}

// fileShares returns, per split, the most examples one file is in and the
// cap of that split.
func fileShares(task *Task) (most, limit [3]int) {
	for s, exs := range [][]Example{task.Train, task.Dev, task.Test} {
		n := map[string]int{}
		for _, ex := range exs {
			for _, f := range ex.files() {
				if f != "" {
					n[f]++
					most[s] = max(most[s], n[f])
				}
			}
		}
		limit[s] = max(1, int(0.02*float64(len(exs))))
	}
	return most, limit
}

// No source file is in more than 2% of any split of any task (at least
// one example), on the synthetic corpus and on the toolchain; every
// example of a Go task names the files it was cut from.
func TestNoFileHoldsMoreThanTwoPercentOfASplit(t *testing.T) {
	check := func(corpus string, task *Task) {
		t.Helper()
		most, limit := fileShares(task)
		for s := range most {
			if most[s] > limit[s] {
				t.Errorf("%s %s: a file is in %d of the %s split's examples, the cap is %d", corpus, task.Name, most[s], splitNames[s], limit[s])
			}
		}
		if task.Name != "books" {
			for _, ex := range append(append(task.Train[:len(task.Train):len(task.Train)], task.Dev...), task.Test...) {
				if ex.from[0] == "" || (task.Pair && ex.from[1] == "") {
					t.Fatalf("%s %s: an example names no file", corpus, task.Name)
				}
			}
		}
		t.Logf("%s %-10s most examples from one file: train %d/%d, dev %d/%d, test %d/%d", corpus, task.Name,
			most[0], len(task.Train), most[1], len(task.Dev), most[2], len(task.Test))
	}
	for _, name := range Names {
		task, err := buildSpec(small(t, name), synthSources(), 1)
		if err != nil {
			t.Fatal(err)
		}
		check("synthetic", task)
	}
	toolchain(t)
	for _, name := range Names {
		task, err := Generate(name, 1)
		if err != nil {
			t.Fatal(err)
		}
		check("toolchain", task)
	}
}
