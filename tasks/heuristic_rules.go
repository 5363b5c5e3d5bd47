package tasks

import (
	"bytes"
	"go/scanner"
	"go/token"
	"slices"
)

// The text features the heuristics' rules read (heuristics.go).

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lexeme is one token as go/scanner reads it.
type lexeme struct {
	tok token.Token
	lit string
}

// scan lists b's tokens, without the semicolons go/scanner inserts at line
// ends (they are not in the text) and without comments.
func scan(b []byte) []lexeme {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", fset.Base(), len(b)), b, func(token.Position, string) {}, 0)
	var out []lexeme
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return out
		}
		if tok != token.SEMICOLON || lit != "\n" {
			out = append(out, lexeme{tok, lit})
		}
	}
}

// closes maps each closing bracket to its opening one.
var closes = map[token.Token]token.Token{token.RPAREN: token.LPAREN, token.RBRACK: token.LBRACK, token.RBRACE: token.LBRACE}

func opening(tok token.Token) bool {
	return tok == token.LPAREN || tok == token.LBRACK || tok == token.LBRACE
}

// bracketsBalance reports whether b's bracket tokens nest and all close
// (brackets inside strings and comments are not tokens).
func bracketsBalance(b []byte) bool {
	var open []token.Token
	for _, l := range scan(b) {
		if opening(l.tok) {
			open = append(open, l.tok)
		} else if want, ok := closes[l.tok]; ok {
			if len(open) == 0 || open[len(open)-1] != want {
				return false
			}
			open = open[:len(open)-1]
		}
	}
	return len(open) == 0
}

// doubledToken reports whether a token other than a bracket comes twice
// in a row with the same text ("x x", ", ,"): what duplicating a token
// makes, and rare in valid Go (a doubled unary operator, "**p").
// Brackets double legitimately ("f((a))", "}}").
func doubledToken(b []byte) bool {
	ls := scan(b)
	for i := 1; i < len(ls); i++ {
		_, closing := closes[ls[i].tok]
		if ls[i] == ls[i-1] && !opening(ls[i].tok) && !closing {
			return true
		}
	}
	return false
}

// familyNamed is the family task's rule (Families is its class order).
func familyNamed(ex Example, majority int) int {
	ids := Identifiers(ex.A)
	for c, fam := range Families {
		if _, ok := slices.BinarySearch(ids, fam); ok {
			return c
		}
	}
	return majority
}

// trigramJaccard is the Jaccard index of a's and b's sets of 3-byte
// substrings: character overlap, blind to what the bytes mean.
func trigramJaccard(a, b []byte) float64 {
	set := func(s []byte) map[[3]byte]bool {
		m := map[[3]byte]bool{}
		for i := 0; i+3 <= len(s); i++ {
			m[[3]byte(s[i:i+3])] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	inter := 0
	for g := range sa {
		if sb[g] {
			inter++
		}
	}
	if union := len(sa) + len(sb) - inter; union > 0 {
		return float64(inter) / float64(union)
	}
	return 0
}

// tabs counts a line's leading tabs.
func tabs(line []byte) int {
	return len(line) - len(bytes.TrimLeft(line, "\t"))
}

func firstLine(b []byte) []byte {
	if k := bytes.IndexByte(b, '\n'); k >= 0 {
		return b[:k]
	}
	return b
}

// lastLine is b's last line, the line break that ends it aside.
func lastLine(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return b[bytes.LastIndexByte(b, '\n')+1:]
}
