package tasks

import (
	"fmt"
	"io/fs"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/relorago/harness/data"
)

// File is one source file: its slash-separated path under GOROOT/src and
// its text.
type File struct {
	Path string
	Text []byte
}

// Family is the first element of the file's path ("crypto" for
// crypto/ecdsa/ecdsa_test.go).
func (f File) Family() string {
	fam, _, _ := strings.Cut(f.Path, "/")
	return fam
}

// Sources is the text the tasks are made of.
type Sources struct {
	// Go holds the Go files, sorted by path: by default every _test.go
	// file under GOROOT/src outside testdata directories, the test code
	// that the pre-training corpus gostd leaves out.
	Go []File
	// Opticks is Newton's Opticks (the corpus "opticks"), which the default
	// preset does not pre-train on.
	Opticks []byte

	linOnce sync.Once // the lineage groups of Go, computed once (lineage.go)
	lin     *lineage
	splitMu sync.Mutex
	splits  map[uint64][]int // seed → each file's split (assign.go), computed once
}

// Families are the family task's classes: the parts of the standard
// library with the most test code (cmd, a mix of tools, is left out).
var Families = []string{"crypto", "encoding", "go", "math", "net", "runtime"}

var (
	sourcesOnce sync.Once
	sources     *Sources
	sourcesErr  error
)

// LoadSources reads the toolchain's sources once per process.
func LoadSources() (*Sources, error) {
	sourcesOnce.Do(func() { sources, sourcesErr = loadSources() })
	return sources, sourcesErr
}

func loadSources() (*Sources, error) {
	root, err := data.GoRoot()
	if err != nil {
		return nil, err
	}
	src := filepath.Join(root, "src")
	var files []File
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		files = append(files, File{Path: filepath.ToSlash(rel), Text: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tasks: read the _test.go files under %s: %w", src, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("tasks: no _test.go files under %s", src)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	op, err := data.Load(data.SourceOpticks)
	if err != nil {
		return nil, err
	}
	return &Sources{Go: files, Opticks: op.Bytes}, nil
}

// rng is a PCG stream with its own bounded draws, so a seed names the same
// examples on every Go version (rand.Rand's helpers may change).
type rng struct{ pcg *rand.PCG }

// newRNG returns the stream of (seed, task, purpose).
func newRNG(seed uint64, task, purpose string) *rng {
	return &rng{rand.NewPCG(mix64(seed^hashString(task)), mix64(hashString(purpose)+0x9e3779b97f4a7c15))}
}

// intn returns a uniform int in [0, n) (Lemire's multiply-and-reject).
func (r *rng) intn(n int) int {
	if n <= 0 {
		panic("tasks: intn of a non-positive bound")
	}
	un := uint64(n)
	hi, lo := bits.Mul64(r.pcg.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.pcg.Uint64(), un)
		}
	}
	return int(hi)
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.pcg.Uint64()>>11) / (1 << 53) }

// shuffle permutes xs (Fisher–Yates).
func shuffle[T any](r *rng, xs []T) {
	for i := len(xs) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		xs[i], xs[j] = xs[j], xs[i]
	}
}

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hashString is FNV-1a.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
