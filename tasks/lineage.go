package tasks

import (
	"bytes"
	"path"
	"regexp"
	"slices"
	"strings"
)

// The standard library holds files that are versions of one another:
// math/rand and math/rand/v2, go/types and the compiler's types2 (whose
// tests go/types generates from), encoding/json and its v2 files,
// text/template and html/template, bytes and strings. A file put in dev
// whose twin is in train is a dev example the model has half seen. So the
// files are grouped by lineage first, and a whole group goes to one split
// (split.go). A group is the union of
//
//   - the files of one package, named by its path with a vendor/ or
//     cmd/vendor/ prefix dropped (a vendored copy joins its origin),
//     any /vN element dropped (math/rand/v2 is math/rand), and
//     cmd/compile/internal/types2 read as go/types;
//   - any two files whose bodies are mostly the same text (contentLinks):
//     the copies no path rule names.
//
// Generated files ("Code generated … DO NOT EDIT." before the package
// clause) are left out of every split: their text is a generator's
// output, long runs of one template (a single one held 16% of cola's dev
// statements), and the go/types ones are copies of types2's, which stay.

// lineage is the grouping of a Sources' Go files.
type lineage struct {
	group []int // per file: its group (the index of the group's first file), -1 if left out
}

// lineageOf computes the grouping once per Sources.
func (src *Sources) lineageOf() *lineage {
	src.linOnce.Do(func() { src.lin = groupFiles(src.Go) })
	return src.lin
}

// Groups returns the number of lineage groups the Go files form (the
// generated files, left out, aside).
func (src *Sources) Groups() int {
	n := 0
	for i, g := range src.lineageOf().group {
		if g == i {
			n++
		}
	}
	return n
}

// versionElem matches a major-version path element (math/rand/v2).
var versionElem = regexp.MustCompile(`^v[0-9]+$`)

// lineageKey is the package a file belongs to for grouping.
func lineageKey(p string) string {
	dir := path.Dir(p)
	for _, pre := range []string{"cmd/vendor/", "vendor/"} {
		if strings.HasPrefix(dir, pre) {
			dir = strings.TrimPrefix(dir, pre)
			break
		}
	}
	elems := strings.Split(dir, "/")
	elems = slices.DeleteFunc(elems, versionElem.MatchString)
	dir = strings.Join(elems, "/")
	if dir == "cmd/compile/internal/types2" {
		dir = "go/types"
	}
	return dir
}

// generatedHeader is Go's convention for generated files.
var generatedHeader = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

// generated reports whether a generated-file header comes before the
// package clause (the same words later on are a test's data).
func generated(text []byte) bool {
	for line := range bytes.Lines(text) {
		line = bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(line, []byte("package ")) {
			return false
		}
		if generatedHeader.Match(line) {
			return true
		}
	}
	return false
}

// groupFiles is the union of the package rule and the content links.
func groupFiles(files []File) *lineage {
	uf := newUnionFind(len(files))
	out := &lineage{group: make([]int, len(files))}
	first := map[string]int{}
	gen := make([]bool, len(files))
	for i, f := range files {
		if gen[i] = generated(f.Text); gen[i] {
			continue
		}
		k := lineageKey(f.Path)
		if j, ok := first[k]; ok {
			uf.union(i, j)
		} else {
			first[k] = i
		}
	}
	for _, l := range contentLinks(files, gen) {
		uf.union(l[0], l[1])
	}
	for i := range files {
		out.group[i] = -1
		if !gen[i] {
			out.group[i] = uf.find(i)
		}
	}
	return out
}

// unionFind keeps each set's smallest index as its root, so the groups do
// not depend on the order of the unions.
type unionFind []int

func newUnionFind(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = i
	}
	return u
}

func (u unionFind) find(i int) int {
	for u[i] != i {
		u[i] = u[u[i]]
		i = u[i]
	}
	return i
}

func (u unionFind) union(a, b int) {
	a, b = u.find(a), u.find(b)
	if a > b {
		a, b = b, a
	}
	u[b] = a
}
