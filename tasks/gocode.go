package tasks

import (
	"bytes"
	"fmt"
	"go/scanner"
	"go/token"
	"slices"
)

// eachSplit draws the three splits of a task, each with its own size and
// random stream (named by the split).
func eachSplit(spec Spec, gen func(split, n int) ([]Example, error)) (out [3][]Example, err error) {
	for s, n := range spec.sizes() {
		if out[s], err = gen(s, n); err != nil {
			return out, fmt.Errorf("%s split: %w", splitNames[s], err)
		}
	}
	return out, nil
}

// lineStart returns a random line start in [lo, hi) of text: a uniform
// offset moved forward to the next line start.
func (r *rng) lineStart(text []byte, lo, hi int) (int, bool) {
	if hi <= lo {
		return 0, false
	}
	p := lo + r.intn(hi-lo)
	if p > 0 && text[p-1] != '\n' {
		k := bytes.IndexByte(text[p:hi], '\n')
		if k < 0 {
			return 0, false
		}
		p += k + 1
	}
	return p, p < hi
}

// excerpt returns up to n bytes of text from start, cut after the last
// whole line when that keeps at least half of them; ok is false for an
// excerpt that is mostly blank.
func excerpt(text []byte, start, n int) (b []byte, ok bool) {
	end := min(len(text), start+n)
	if end-start == n {
		if k := bytes.LastIndexByte(text[start:end], '\n'); k+1 >= n/2 {
			end = start + k + 1
		}
	}
	b = text[start:end]
	ink := 0
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' {
			ink++
		}
	}
	return b, ink >= n/4
}

// tries bounds the redraws of an excerpt that does not qualify.
const tries = 100

// excerptOf draws an excerpt of n bytes from file i of the pool.
func (p *pool) excerptOf(r *rng, i, n int) ([]byte, int, bool) {
	text := p.files[i].Text
	for range tries {
		s, ok := r.lineStart(text, p.body[i], len(text)-n/2)
		if !ok {
			continue
		}
		if b, ok := excerpt(text, s, n); ok {
			return b, s, true
		}
	}
	return nil, 0, false
}

// familyExcerpt is the family task's excerpt length.
const familyExcerpt = 96

func buildFamily(src *Sources, seed uint64, spec Spec) ([3][]Example, error) {
	pools := splitFiles(src, seed)
	return eachSplit(spec, func(split, n int) ([]Example, error) {
		p, r, caps := pools[split], newRNG(seed, spec.Name, splitNames[split]), newCapper(n)
		var out []Example
		for c, fam := range Families {
			// The family's files not yet at the cap: a family may have
			// few files in dev or test, and a redraw of a full one would
			// mostly find another full one.
			open := slices.Clone(p.byFamily[fam])
			for range n / len(Families) {
				for k := 0; ; k++ {
					if k == tries || len(open) == 0 {
						return nil, fmt.Errorf("no excerpt found in %s files (%d of them, at most %d excerpts each)", fam, len(p.byFamily[fam]), caps.limit)
					}
					j := r.intn(len(open))
					f := p.files[open[j]]
					b, _, ok := p.excerptOf(r, open[j], familyExcerpt)
					if !ok {
						continue
					}
					out = append(out, Example{A: b, Label: c, from: [2]string{f.Path, f.Path}})
					if caps.add(f.Path); caps.full(f.Path) {
						open = slices.Delete(open, j, j+1)
					}
					break
				}
			}
		}
		shuffle(r, out)
		return out, nil
	})
}

// pairExcerpt is the length of each side of the pair tasks' excerpts.
const pairExcerpt = 60

// disjoint reports whether two excerpts of one file do not overlap.
func disjoint(s1 int, a []byte, s2 int, b []byte) bool {
	return s1+len(a) <= s2 || s2+len(b) <= s1
}

func buildSameFile(src *Sources, seed uint64, spec Spec) ([3][]Example, error) {
	pools := splitFiles(src, seed)
	return eachSplit(spec, func(split, n int) ([]Example, error) {
		p, r, caps := pools[split], newRNG(seed, spec.Name, splitNames[split]), newCapper(n)
		var out []Example
		for i := 0; len(out) < n; i++ {
			if i > n*tries {
				return nil, fmt.Errorf("cannot draw %d pairs", n)
			}
			label := len(out) % 2
			f := r.intn(len(p.files))
			a, sa, ok := p.excerptOf(r, f, pairExcerpt)
			if !ok {
				continue
			}
			g := f
			for label == 0 && g == f {
				g = r.intn(len(p.files)) // any other file of the split
			}
			var b []byte
			var sb int
			if label == 1 {
				// Nearby in the same file, as a paraphrase shares most of
				// its words: the excerpts share the code's local names.
				b, sb, ok = nearbyExcerpt(r, p, f, sa)
			} else {
				b, sb, ok = p.excerptOf(r, g, pairExcerpt)
			}
			from := [2]string{p.files[f].Path, p.files[g].Path}
			if !ok || (g == f && !disjoint(sa, a, sb, b)) || caps.full(from[:]...) {
				continue
			}
			caps.add(from[:]...)
			out = append(out, Example{A: a, B: b, Label: label, from: from})
		}
		shuffle(r, out)
		return out, nil
	})
}

// Identifiers returns the set of identifiers go/scanner finds in b, sorted
// (a name cut by the excerpt's end counts as what is shown).
func Identifiers(b []byte) []string {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", fset.Base(), len(b)), b, func(token.Position, string) {}, 0)
	var out []string
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.IDENT && !slices.Contains(out, lit) {
			out = append(out, lit)
		}
	}
	slices.Sort(out)
	return out
}

// Jaccard is |a ∩ b| / |a ∪ b| of two sorted sets (0 for two empty sets).
func Jaccard(a, b []string) float64 {
	inter := 0
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); ok {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

func buildSimilarity(src *Sources, seed uint64, spec Spec) ([3][]Example, error) {
	pools := splitFiles(src, seed)
	return eachSplit(spec, func(split, n int) ([]Example, error) {
		p, r, caps := pools[split], newRNG(seed, spec.Name, splitNames[split]), newCapper(n)
		var out []Example
		for i := 0; len(out) < n; i++ {
			if i > n*tries {
				return nil, fmt.Errorf("cannot draw %d pairs", n)
			}
			// A third of the pairs each: nearby in one file (the most
			// shared names), anywhere in one file, any two files.
			mode := len(out) % 3
			f := r.intn(len(p.files))
			g := f
			if mode == 2 {
				g = r.intn(len(p.files)) // mostly another file
			}
			a, sa, ok := p.excerptOf(r, f, pairExcerpt)
			if !ok {
				continue
			}
			var b []byte
			var sb int
			if mode == 0 {
				b, sb, ok = nearbyExcerpt(r, p, f, sa)
			} else {
				b, sb, ok = p.excerptOf(r, g, pairExcerpt)
			}
			from := [2]string{p.files[f].Path, p.files[g].Path}
			if !ok || (g == f && !disjoint(sa, a, sb, b)) || caps.full(from[:]...) {
				continue
			}
			ia, ib := Identifiers(a), Identifiers(b)
			if len(ia) == 0 || len(ib) == 0 {
				continue
			}
			caps.add(from[:]...)
			out = append(out, Example{A: a, B: b, Target: 5 * Jaccard(ia, ib), from: from})
		}
		shuffle(r, out)
		return out, nil
	})
}

// nearbyExcerpt draws an excerpt of file f that starts within nearby
// bytes of offset sa.
func nearbyExcerpt(r *rng, p *pool, f, sa int) ([]byte, int, bool) {
	text := p.files[f].Text
	sb, ok := r.lineStart(text, max(p.body[f], sa-nearby), min(len(text)-pairExcerpt/2, sa+nearby))
	if !ok {
		return nil, 0, false
	}
	b, ok := excerpt(text, sb, pairExcerpt)
	return b, sb, ok
}

// nearby is how far (bytes) the similarity task's nearby excerpt may
// start from the first.
const nearby = 400

func buildNext(src *Sources, seed uint64, spec Spec) ([3][]Example, error) {
	pools := splitFiles(src, seed)
	return eachSplit(spec, func(split, n int) ([]Example, error) {
		p, r, caps := pools[split], newRNG(seed, spec.Name, splitNames[split]), newCapper(n)
		var out []Example
		for i := 0; len(out) < n; i++ {
			if i > n*tries {
				return nil, fmt.Errorf("cannot draw %d pairs", n)
			}
			label := 1 - len(out)%2
			f := r.intn(len(p.files))
			text, body := p.files[f].Text, p.body[f]
			at, ok := r.lineStart(text, body+pairExcerpt, len(text)-pairExcerpt)
			if !ok {
				continue
			}
			// A: up to 60 bytes before the line start, from a line start
			// when one leaves at least 20 of them.
			a0 := at - pairExcerpt
			if k := bytes.IndexByte(text[a0:at-20], '\n'); k >= 0 {
				a0 += k + 1
			}
			a, okA := excerpt(text, a0, at-a0)
			b, okB := excerpt(text, at, pairExcerpt)
			g := f
			if label == 0 {
				// The alternative: an excerpt of another file of the same
				// part of the library (samefile's negatives are of any file).
				mates := p.byFamily[p.files[f].Family()]
				if len(mates) < 2 {
					continue
				}
				for g == f {
					g = mates[r.intn(len(mates))]
				}
				b, _, okB = p.excerptOf(r, g, pairExcerpt)
			}
			from := [2]string{p.files[f].Path, p.files[g].Path}
			if !okA || !okB || len(a) < 20 || caps.full(from[:]...) {
				continue
			}
			caps.add(from[:]...)
			out = append(out, Example{A: a, B: b, Label: label, from: from})
		}
		shuffle(r, out)
		return out, nil
	})
}
