package tasks

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

func TestValidStatements(t *testing.T) {
	for _, s := range []string{"x := f(a, b)", "if err != nil {\n\treturn err\n}", "for i := range 10 {\n}", "a, b = b, a", "defer mu.Unlock()"} {
		if !Valid([]byte(s)) {
			t.Errorf("%q should be valid", s)
		}
	}
	for _, s := range []string{"x := f(a, b", "if err != nil {\n\treturn err\n", "x := := 1", "for i := range {", "a, = b"} {
		if Valid([]byte(s)) {
			t.Errorf("%q should be invalid", s)
		}
	}
}

// CoLA's labels come from the parser, not from whether an example was
// corrupted: every example's label is Valid of its text, and both labels
// occur among the corrupted ones (a swap of two operands stays valid).
func TestCoLALabelsComeFromTheParser(t *testing.T) {
	task, err := buildSpec(small(t, "cola"), synthSources(), 1)
	if err != nil {
		t.Fatal(err)
	}
	count := [2]int{}
	for _, ex := range append(append(task.Train, task.Dev...), task.Test...) {
		want := 0
		if Valid(ex.A) {
			want = 1
		}
		if ex.Label != want {
			t.Fatalf("%q labelled %d, the parser says %d", ex.A, ex.Label, want)
		}
		count[ex.Label]++
	}
	if count[0] == 0 || count[1] == 0 {
		t.Fatalf("labels %v: want both classes", count)
	}
	r := newRNG(1, "test", "corrupt")
	changed := 0
	for range 50 {
		c := corrupt(r, []byte("x := f(a, b)"))
		if !bytes.Equal(c, []byte("x := f(a, b)")) {
			changed++
		}
	}
	if changed < 40 {
		t.Errorf("corrupt changed the statement %d times in 50", changed)
	}
}

// A switch's or select's clause is the unit the task shows when it cuts
// one from a block: it is valid Go where it stands, and Valid says so;
// read as statements in a function body (the label before), it was not.
func TestValidClauses(t *testing.T) {
	for _, s := range []string{
		"case 1, 2:\n\treturn x", "default:\n\tt.Fatal(err)", "case x > 0:",
		"case []byte, string:\n\tn++", "case v := <-ch:\n\tuse(v)", "case ch <- 1:", "case <-done:\n\treturn",
	} {
		if !Valid([]byte(s)) {
			t.Errorf("%q should be valid", s)
		}
		if validStatements([]byte(s)) {
			t.Errorf("%q parses as statements", s)
		}
	}
	for _, s := range []string{"case 1, 2\n\treturn x", "case case 1:", "default default:", "case v := <-ch\n\tuse(v)", "case 1:\n\tf(}", "case x:\n}\nfunc g() {"} {
		if Valid([]byte(s)) {
			t.Errorf("%q should be invalid", s)
		}
	}
	// Deleting "case" leaves a labelled statement: valid Go, shown alone.
	if !Valid([]byte("x:\n\tf()")) {
		t.Error("a labelled statement should be valid")
	}
}

// The clauses statements cuts from a switch or a select body are labelled
// valid uncorrupted, and each unit is what the parser saw as one node.
func TestCoLAClausesAreValidUncorrupted(t *testing.T) {
	text := []byte(`package p

func TestSwitch(t *testing.T) {
	switch x := f(); x {
	case 1, 2, 3:
		t.Log("small")
	default:
		t.Fatalf("got %d", x)
	}
	switch v := y.(type) {
	case []byte:
		t.Log(len(v))
	}
	select {
	case v := <-ch:
		t.Log(v)
	case out <- 1:
	}
}
`)
	p := &pool{files: []File{{Path: "a/a_test.go", Text: text}}}
	units := statements(p, nil)
	clauses := 0
	for _, u := range units {
		if !Valid([]byte(u.text)) {
			t.Errorf("unit %q of a file that parses is labelled invalid", u.text)
		}
		if bytes.HasPrefix([]byte(u.text), []byte("case ")) || bytes.HasPrefix([]byte(u.text), []byte("default:")) {
			clauses++
		}
	}
	// Five clauses are long enough (12+ bytes); "case out <- 1:" is 14.
	if clauses != 5 {
		t.Errorf("%d clauses among %q", clauses, units)
	}
	// Every clause is a node the parser made: the unit is exact.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", text, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.CaseClause, *ast.CommClause:
			want[string(text[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset])] = true
		}
		return true
	})
	for _, u := range units {
		if (bytes.HasPrefix([]byte(u.text), []byte("case ")) || bytes.HasPrefix([]byte(u.text), []byte("default:"))) && !want[u.text] {
			t.Errorf("clause %q is not a parser node", u.text)
		}
	}
}

// How many of cola's labels the clause contexts change on the toolchain
// (seed 1): the uncorrupted clauses the function-body context called
// invalid.
func TestCoLALabelsChangedByClauseContexts(t *testing.T) {
	toolchain(t)
	task, err := Generate("cola", 1)
	if err != nil {
		t.Fatal(err)
	}
	changed, clauses := 0, 0
	for _, exs := range [][]Example{task.Train, task.Dev, task.Test} {
		for _, ex := range exs {
			if Valid(ex.A) != validStatements(ex.A) {
				changed++
			}
			if bytes.HasPrefix(ex.A, []byte("case ")) || bytes.HasPrefix(ex.A, []byte("default:")) {
				clauses++
			}
		}
	}
	t.Logf("cola, seed 1: %d of %d examples start as a clause; %d labels differ from the function-body-only label", clauses, len(task.Train)+len(task.Dev)+len(task.Test), changed)
	if changed == 0 {
		t.Error("no label changed: are clauses still cut?")
	}
}
