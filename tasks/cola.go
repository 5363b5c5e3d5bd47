package tasks

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"slices"
)

// CoLA: units of 12–100 bytes from the statement lists of {…} blocks.
// Most are statements; a switch's or a select's block lists its case and
// default clauses, and those are taken whole as well.
const (
	minStmt = 12
	maxStmt = 100
)

// unit is a statement or clause and the file it was cut from.
type unit struct{ text, path string }

// statements returns the distinct units of the pool's files that are not
// in skip, in file and source order.
func statements(p *pool, skip map[string]bool) []unit {
	var out []unit
	seen := map[string]bool{}
	for _, f := range p.files {
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, f.Path, f.Text, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		tf := fset.File(file.Pos())
		ast.Inspect(file, func(n ast.Node) bool {
			block, ok := n.(*ast.BlockStmt)
			if !ok {
				return true
			}
			for _, st := range block.List {
				lo, hi := tf.Offset(st.Pos()), tf.Offset(st.End())
				if hi-lo < minStmt || hi-lo > maxStmt {
					continue
				}
				s := string(f.Text[lo:hi])
				if !seen[s] && !skip[s] {
					seen[s] = true
					out = append(out, unit{s, f.Path})
				}
			}
			return true
		})
	}
	return out
}

// unitContexts are the places a unit can stand, as the text before and
// after it: a function body (statements), a switch body (case and default
// clauses; go/parser reads an expression switch's and a type switch's
// alike) and a select body (clauses that send or receive).
var unitContexts = [][2]string{
	{"package p\nfunc _() {\n", "\n}\n"},
	{"package p\nfunc _() {\nswitch {\n", "\n}\n}\n"},
	{"package p\nfunc _() {\nselect {\n", "\n}\n}\n"},
}

// Valid reports whether go/parser accepts b as one of the units the CoLA
// task cuts, each in its own context: a statement list in a function
// body, or clauses in a switch or a select. It is the task's label, a
// function of the text shown alone: "case x:" is valid, and so is "x:"
// (a labelled statement) that deleting its "case" leaves.
func Valid(b []byte) bool {
	for _, c := range unitContexts {
		if parses(c, b) {
			return true
		}
	}
	return false
}

// validStatements is the label before switch and select clauses were
// read in their context: a statement list in a function body only.
func validStatements(b []byte) bool { return parses(unitContexts[0], b) }

func parses(context [2]string, b []byte) bool {
	src := slices.Concat([]byte(context[0]), b, []byte(context[1]))
	_, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	return err == nil
}

// tokenSpan is one token's byte range.
type tokenSpan struct {
	lo, hi int
	word   bool // an identifier, keyword or literal (needs a space next to another)
}

// tokens lists b's tokens (comments and inserted semicolons left out).
func tokens(b []byte) []tokenSpan {
	var s scanner.Scanner
	fset := token.NewFileSet()
	tf := fset.AddFile("", fset.Base(), len(b))
	s.Init(tf, b, func(token.Position, string) {}, 0)
	var out []tokenSpan
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue
		}
		text := lit
		if text == "" {
			text = tok.String()
		}
		lo := tf.Offset(pos)
		hi := min(len(b), lo+len(text))
		out = append(out, tokenSpan{lo, hi, tok.IsLiteral() || tok.IsKeyword()})
	}
	return out
}

// Corrupt deletes, swaps (with its successor) or duplicates one token of
// a statement, chosen by r; nil when the statement has under two tokens.
// The result may still be valid Go (swapping two operands), which is why
// labels come from Valid.
func corrupt(r *rng, b []byte) []byte {
	ts := tokens(b)
	if len(ts) < 2 {
		return nil
	}
	switch r.intn(3) {
	case 0: // delete
		t := ts[r.intn(len(ts))]
		lo, hi := t.lo, t.hi
		if lo > 0 && hi < len(b) && b[lo-1] == ' ' && b[hi] == ' ' {
			hi++ // keep single spacing
		}
		return slices.Concat(b[:lo], b[hi:])
	case 1: // swap with the next token
		i := r.intn(len(ts) - 1)
		x, y := ts[i], ts[i+1]
		return slices.Concat(b[:x.lo], b[y.lo:y.hi], b[x.hi:y.lo], b[x.lo:x.hi], b[y.hi:])
	default: // duplicate
		t := ts[r.intn(len(ts))]
		sep := []byte{}
		if t.word {
			sep = []byte{' '}
		}
		return slices.Concat(b[:t.hi], sep, b[t.lo:t.hi], b[t.hi:])
	}
}

func buildCoLA(src *Sources, seed uint64, spec Spec) ([3][]Example, error) {
	pools := splitFiles(src, seed)
	// No unit of a later split is one of an earlier split's files (the
	// overlap filter only sees the units drawn, and of 50 bytes or more).
	seen := map[string]bool{}
	var units [3][]unit
	for s, p := range pools {
		units[s] = statements(p, seen)
		for _, u := range units[s] {
			seen[u.text] = true
		}
	}
	return eachSplit(spec, func(split, n int) ([]Example, error) {
		r, caps := newRNG(seed, spec.Name, splitNames[split]), newCapper(n)
		us := units[split]
		shuffle(r, us)
		var out []Example
		for _, u := range us {
			if len(out) == n {
				break
			}
			if caps.full(u.path) {
				continue
			}
			caps.add(u.path)
			b := []byte(u.text)
			if len(out)%2 == 1 {
				if c := corrupt(r, b); c != nil {
					b = c
				}
			}
			out = append(out, Example{A: b, Label: b2i(Valid(b)), from: [2]string{u.path, u.path}})
		}
		if len(out) < n {
			return nil, fmt.Errorf("%d units (%d within the cap of %d per file), want %d", len(us), len(out), caps.limit, n)
		}
		return out, nil
	})
}
