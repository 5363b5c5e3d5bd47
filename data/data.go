// Package data loads byte-level corpora and cuts them into training and
// validation batches for language-model pre-training.
//
// The model's vocabulary is the 256 byte values, so a corpus is just a byte
// slice and a token is a byte widened to int32. There is no tokenizer to keep
// in sync with checkpoints and no on-disk cache to invalidate: every source is
// read from scratch, deterministically, each time it is loaded.
//
// The usual flow is
//
//	c, err := data.Load("opticks")
//	train, val := c.Split(data.ValFrac)
//	s, err := data.NewSampler(c.Name, train, seqLen, batch, seed)
//	v, err := data.NewValidation(c.Name, val, seqLen, batch, maxWindows)
package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// VocabSize is the number of distinct tokens: one per byte value. Models
// size their embedding and output layers from it.
const VocabSize = 256

// ValFrac is the fraction of a corpus held out for validation. It is the tail
// of the corpus (not a random sample) so that validation text never overlaps
// training windows and stays the same across seeds.
const ValFrac = 0.05

// Built-in source names accepted by Load. They take precedence over files of
// the same name in the working directory; write "./opticks" to load such a
// file instead.
const (
	// SourceOpticks is Newton's Opticks as shipped in GOROOT/src/testdata
	// (567,198 bytes): small, English, and present wherever Go is installed,
	// which makes it the default smoke-test corpus.
	SourceOpticks = "opticks"
	// SourceGoStd is the Go standard library's non-test source (~71 MB), a
	// larger corpus that is also available offline on any Go machine.
	SourceGoStd = "gostd"
)

// Corpus is a loaded source: its whole text as one byte slice, because the
// model is byte-level and windows are sampled at arbitrary offsets.
type Corpus struct {
	// Name is the source name ("opticks", "gostd") or the path as given to
	// Load; it is used to label errors, logs and results.
	Name string
	// Bytes is the corpus text. Documents and files are joined with a single
	// "\n" separator (see Load).
	Bytes []byte
}

// Load resolves a source name ("opticks", "gostd") or a filesystem path and
// returns its bytes.
//
// Paths may name:
//   - a text file, used verbatim;
//   - a JSON Lines file (.jsonl or .json) whose lines are objects with a
//     string "text" field, as C4 ships; the texts are joined with "\n";
//   - any of the above compressed with gzip (a further ".gz" suffix, e.g.
//     c4-train.00000-of-01024.json.gz);
//   - a directory, walked recursively; every regular file whose name does not
//     start with "." (and that is not inside a directory starting with ".")
//     is loaded as above, in sorted slash-separated relative path order, and
//     the results are joined with "\n".
//
// "gostd" is every .go file under GOROOT/src that does not end in _test.go
// and is not inside a directory named testdata, in sorted path order, joined
// with "\n" (files already end in a newline, so files are separated by one
// blank line, a visible document boundary for the model). Files under
// vendor/ directories are included: they are ordinary non-test Go source.
//
// Empty documents and empty files are dropped rather than joined, so the
// separator always sits between two non-empty pieces. An empty result is an
// error, because nothing can be trained on it.
func Load(source string) (*Corpus, error) {
	var (
		b   []byte
		err error
	)
	switch source {
	case SourceOpticks:
		var root string
		if root, err = GoRoot(); err == nil {
			b, err = os.ReadFile(filepath.Join(root, "src", "testdata", "Isaac.Newton-Opticks.txt"))
		}
	case SourceGoStd:
		b, err = loadGoStd()
	case "":
		return nil, errors.New("data: empty source name (want \"opticks\", \"gostd\" or a path)")
	default:
		b, err = loadPath(source)
	}
	if err != nil {
		return nil, fmt.Errorf("data: load %s: %w", source, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("data: load %s: corpus is empty", source)
	}
	return &Corpus{Name: source, Bytes: b}, nil
}

// Split returns the train part and the validation part, which is the last
// valFrac of the bytes. The validation length is len(Bytes)*valFrac rounded
// to the nearest integer (halves away from zero), so e.g. opticks' 567,198
// bytes give a 28,360-byte validation part (28,359.9 rounded) rather than
// being at the mercy of float error under truncation. Both results alias
// Bytes. It panics if valFrac is not in [0, 1], which is a programming error.
func (c *Corpus) Split(valFrac float64) (train, val []byte) {
	if !(valFrac >= 0 && valFrac <= 1) { // also rejects NaN
		panic(fmt.Sprintf("data: %s: Split fraction %v not in [0, 1]", c.Name, valFrac))
	}
	n := len(c.Bytes)
	nVal := min(int(math.Round(float64(n)*valFrac)), n)
	cut := n - nVal
	return c.Bytes[:cut:cut], c.Bytes[cut:]
}

// GoRoot finds the Go installation whose sources provide the built-in
// corpora (and the fine-tuning tasks). runtime.GOROOT is free but may be empty (binaries built with
// -trimpath) or stale (a binary copied to another machine), so the go
// command is asked when it does not point at an existing src directory.
func GoRoot() (string, error) {
	//lint:ignore SA1019 the running toolchain's root is the cheapest answer; `go env` is the fallback.
	if r := runtime.GOROOT(); r != "" {
		if fi, err := os.Stat(filepath.Join(r, "src")); err == nil && fi.IsDir() {
			return r, nil
		}
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("cannot find GOROOT: runtime.GOROOT() is unusable and `go env GOROOT` failed: %w", err)
	}
	r := strings.TrimSpace(string(out))
	if r == "" {
		return "", errors.New("cannot find GOROOT: `go env GOROOT` printed nothing")
	}
	return r, nil
}

// srcFile is a file to concatenate, with the size seen when it was listed so
// its slot in the output can be reserved before reading.
type srcFile struct {
	key  string // slash-separated path relative to the walk root; sort key
	path string
	size int64
}

// loadGoStd concatenates GOROOT/src's non-test Go files. It lists and stats
// every file first, allocates the output once and reads files in parallel
// straight into their slots: ~71 MB in ~5k files loads in well under a
// second from the page cache, with no second copy.
func loadGoStd() ([]byte, error) {
	root, err := GoRoot()
	if err != nil {
		return nil, err
	}
	src := filepath.Join(root, "src")
	files, err := listGoFiles(src)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no non-test .go files under %s", src)
	}
	buf, offs := layOut(files)
	if err := readInto(buf, files, offs); err != nil {
		return nil, err
	}
	return buf, nil
}

// listGoFiles returns the non-empty, non-test .go files under src outside
// testdata, in path order so that the corpus is the same on every machine.
func listGoFiles(src string) ([]srcFile, error) {
	var files []srcFile
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if name == "testdata" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() == 0 {
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		files = append(files, srcFile{key: filepath.ToSlash(rel), path: p, size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	// WalkDir's per-directory order is not global path order ("a/x.go" is
	// visited before "a.go"), so sort explicitly.
	slices.SortFunc(files, func(a, b srcFile) int { return strings.Compare(a.key, b.key) })
	return files, nil
}

// layOut allocates the whole corpus at once and returns each file's offset
// in it, with the "\n" separators between files already written, so that
// readers can fill their slots independently.
func layOut(files []srcFile) (buf []byte, offs []int64) {
	offs = make([]int64, len(files))
	var total int64
	for i, f := range files {
		if i > 0 {
			total++ // "\n" separator
		}
		offs[i] = total
		total += f.size
	}
	buf = make([]byte, total)
	for i := 1; i < len(files); i++ {
		buf[offs[i]-1] = '\n'
	}
	return buf, offs
}

// readInto reads every file into its slot of buf, a few at a time: the
// reads are independent, and parallel reads hide the per-file open cost.
func readInto(buf []byte, files []srcFile, offs []int64) error {
	workers := min(runtime.GOMAXPROCS(0), 16, len(files))
	next := make(chan int)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if errs[w] != nil {
					continue // drain
				}
				errs[w] = readExact(files[i].path, buf[offs[i]:offs[i]+files[i].size])
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// readExact fills dst with the whole file at path and fails if the file's
// size no longer matches, since a changed file would corrupt the
// preallocated layout.
func readExact(path string, dst []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.ReadFull(f, dst); err != nil {
		return fmt.Errorf("%s: changed while reading (expected %d bytes): %w", path, len(dst), err)
	}
	var one [1]byte
	if n, _ := f.Read(one[:]); n != 0 {
		return fmt.Errorf("%s: changed while reading (grew beyond %d bytes)", path, len(dst))
	}
	return nil
}

// loadPath loads a user-supplied file or directory.
func loadPath(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err // *PathError already names the path and says "no such file or directory"
	}
	if !fi.IsDir() {
		return loadFile(path)
	}
	var files []srcFile
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == path {
			return nil // the root itself may be hidden; the user asked for it
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			// Follow symlinks to files (common for dataset shards), but not
			// to directories, which could loop.
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		files = append(files, srcFile{key: filepath.ToSlash(rel), path: p})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("directory %s has no (non-hidden) files", path)
	}
	slices.SortFunc(files, func(a, b srcFile) int { return strings.Compare(a.key, b.key) })
	var out []byte
	for _, f := range files {
		b, err := loadFile(f.path)
		if err != nil {
			return nil, err
		}
		out = joinPiece(out, b)
	}
	return out, nil
}

// joinPiece appends piece to out with a "\n" separator, dropping empty
// pieces so that separators never pile up.
func joinPiece[T string | []byte](out []byte, piece T) []byte {
	if len(piece) == 0 {
		return out
	}
	if len(out) > 0 {
		out = append(out, '\n')
	}
	return append(out, piece...)
}

// loadFile loads one file, decompressing a ".gz" suffix and decoding JSON
// Lines by extension. Errors name the file.
func loadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	name := strings.ToLower(filepath.Base(path))
	if base, ok := strings.CutSuffix(name, ".gz"); ok {
		// Decompressed whole before parsing: a truncated stream would
		// otherwise hand the parser a cut last line and be reported as
		// malformed JSON, not as the damaged file it is.
		b, err := gunzip(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r, name = bytes.NewReader(b), base
	}
	if strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".json") {
		return readJSONL(path, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkText(b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// checkText refuses a file that is not text: a byte-level language model
// would train on it without complaint and report a meaningless loss. Text
// has no NUL bytes and is (almost all) valid UTF-8; the check reads the
// first 64 KiB.
func checkText(b []byte) error {
	head := b[:min(len(b), 64<<10)]
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return fmt.Errorf("looks binary (a NUL byte at offset %d), not text: give a text, JSON Lines or gzip file", i)
	}
	bad := 0
	for len(head) > 0 {
		r, n := utf8.DecodeRune(head)
		if r == utf8.RuneError && n == 1 && len(head) >= utf8.UTFMax {
			bad++
		}
		head = head[n:]
	}
	if bad*100 > min(len(b), 64<<10) {
		return fmt.Errorf("looks binary (%d invalid UTF-8 bytes in its first %d), not text", bad, min(len(b), 64<<10))
	}
	return nil
}

// readJSONL extracts the "text" field of every line. Blank lines are
// skipped (trailing newlines are common); anything else that is not an
// object with a string "text" field is an error naming path and the 1-based
// line number, because silently skipping bad records would change the
// corpus without anyone noticing.
func readJSONL(path string, r io.Reader) ([]byte, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), math.MaxInt) // C4 documents can be long
	var out []byte
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		// A *string distinguishes a missing or null field (nil) from "",
		// and a non-string value fails with a type error, in one decode.
		var rec struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				return nil, fmt.Errorf("%s:%d: malformed JSON: %v", path, line, err)
			}
			return nil, fmt.Errorf("%s:%d: want a JSON object with a string \"text\" field: %v", path, line, err)
		}
		if rec.Text == nil {
			return nil, fmt.Errorf("%s:%d: no string \"text\" field", path, line)
		}
		text := *rec.Text
		out = joinPiece(out, text)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return out, nil
}
