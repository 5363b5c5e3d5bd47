package data

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// gostdOnce shares one gostd load between tests, since it is the slowest
// thing the package does.
var gostdOnce = sync.OnceValues(func() (*Corpus, error) { return Load(SourceGoStd) })

func TestLoadOpticks(t *testing.T) {
	c, err := Load(SourceOpticks)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "opticks" {
		t.Errorf("Name = %q, want opticks", c.Name)
	}
	if got, want := len(c.Bytes), 567198; got != want {
		t.Errorf("opticks has %d bytes, want %d", got, want)
	}
	if !bytes.HasPrefix(c.Bytes, []byte("Produced by Suzanne Lybarger")) {
		t.Errorf("opticks starts with %q, not the Gutenberg header", c.Bytes[:min(40, len(c.Bytes))])
	}
}

// gorootSrc returns GOROOT/src, skipping the test when it is absent (the
// only condition under which gostd may be skipped).
func gorootSrc(t *testing.T) string {
	t.Helper()
	root, err := GoRoot()
	if err != nil {
		t.Skipf("no GOROOT: %v", err)
	}
	src := filepath.Join(root, "src")
	if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
		t.Skipf("GOROOT/src missing: %v", err)
	}
	return src
}

func TestLoadGoStd(t *testing.T) {
	src := gorootSrc(t)
	start := time.Now()
	c, err := gostdOnce()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gostd: %d bytes in %v", len(c.Bytes), time.Since(start))
	if len(c.Bytes) <= 10<<20 {
		t.Errorf("gostd has %d bytes, want > 10 MB", len(c.Bytes))
	}

	// Each needle is checked against the file that holds it first, so the
	// test cannot pass vacuously if the Go tree changes.
	tests := []struct {
		name    string
		file    string // relative to GOROOT/src
		needle  string
		present bool
	}{
		{"ordinary source included", "strings/strings.go", "func IndexRune(s string, r rune) int {", true},
		{"_test.go excluded", "strings/strings_test.go", "func TestIndexRune(t *testing.T)", false},
		{"testdata .go excluded", "runtime/testdata/testgoroutineleakprofile/goker/cockroach7504.go", "LeaseManager_cockroach7504", false},
		{"testdata text excluded", "testdata/Isaac.Newton-Opticks.txt", "Distributed Proofreading Team", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(tt.file)))
			if err != nil || !bytes.Contains(b, []byte(tt.needle)) {
				t.Skipf("needle %q not in %s in this Go tree (err=%v)", tt.needle, tt.file, err)
			}
			if got := bytes.Contains(c.Bytes, []byte(tt.needle)); got != tt.present {
				t.Errorf("gostd contains %q = %v, want %v", tt.needle, got, tt.present)
			}
		})
	}
}

// TestLoadGoStdExact rebuilds gostd sequentially, independently of the
// parallel loader, to pin the file set, the global sorted order and the
// "\n" separator. Loading twice also shows the result is deterministic.
func TestLoadGoStdExact(t *testing.T) {
	src := gorootSrc(t)
	c, err := gostdOnce()
	if err != nil {
		t.Fatal(err)
	}
	var rels []string
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return fs.SkipDir
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			rel, _ := filepath.Rel(src, p)
			rels = append(rels, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rels)
	var want []byte
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			continue
		}
		if len(want) > 0 {
			want = append(want, '\n')
		}
		want = append(want, b...)
	}
	if !bytes.Equal(c.Bytes, want) {
		t.Fatalf("gostd (%d bytes) differs from the sequential rebuild (%d bytes)", len(c.Bytes), len(want))
	}

	again, err := Load(SourceGoStd)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Bytes, again.Bytes) {
		t.Error("two gostd loads differ")
	}
}

// write creates dir/rel with content, making parent directories.
func write(t *testing.T, dir, rel string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const jsonl = `{"text":"first doc\nline two","url":"http://a","timestamp":"2019-04-25T12:57:54Z"}` + "\n" +
	"\n" + // blank lines are skipped
	`{"url":"http://b","text":"second \u00e9 \"quoted\""}` + "\r\n" + // CRLF tolerated
	`{"text":""}` + "\n" + // empty documents are dropped
	`{"text":"third"}`

const jsonlText = "first doc\nline two\nsecond é \"quoted\"\nthird"

func TestLoadPath(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to load
		want  string
	}{
		{"text file", func(t *testing.T, dir string) string {
			return write(t, dir, "a.txt", []byte("hello\nworld\n"))
		}, "hello\nworld\n"},
		{"gzipped text file", func(t *testing.T, dir string) string {
			return write(t, dir, "a.txt.gz", gz(t, []byte("zipped text")))
		}, "zipped text"},
		{".jsonl", func(t *testing.T, dir string) string {
			return write(t, dir, "d.jsonl", []byte(jsonl))
		}, jsonlText},
		{".jsonl.gz", func(t *testing.T, dir string) string {
			return write(t, dir, "d.jsonl.gz", gz(t, []byte(jsonl)))
		}, jsonlText},
		{"C4 shard name (.json.gz)", func(t *testing.T, dir string) string {
			return write(t, dir, "c4-train.00000-of-01024.json.gz", gz(t, []byte(jsonl+"\n")))
		}, jsonlText},
		{"folder: recursive, sorted by path, hidden skipped, mixed formats", func(t *testing.T, dir string) string {
			root := filepath.Join(dir, "corpus")
			write(t, root, "b/c.txt", []byte("B/C"))
			write(t, root, "b.txt", []byte("B"))   // "b.txt" < "b/c.txt" since '.' < '/'
			write(t, root, "a.txt", []byte("A\n")) // trailing newline kept; separator still added
			write(t, root, "c/d.jsonl", []byte(`{"text":"D1"}`+"\n"+`{"text":"D2"}`))
			write(t, root, "c/empty.txt", nil) // dropped
			write(t, root, ".hidden.txt", []byte("HIDDEN"))
			write(t, root, ".git/config", []byte("HIDDEN DIR"))
			return root
		}, "A\n\nB\nB/C\nD1\nD2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			c, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != path {
				t.Errorf("Name = %q, want %q", c.Name, path)
			}
			if string(c.Bytes) != tt.want {
				t.Errorf("Bytes = %q, want %q", c.Bytes, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string
		want  []string // substrings of the error; "{path}" is replaced by the path
	}{
		{"missing path", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "nope.txt")
		}, []string{"{path}", "no such file"}},
		{"empty file", func(t *testing.T, dir string) string {
			return write(t, dir, "empty.txt", nil)
		}, []string{"{path}", "empty"}},
		{"empty folder", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "empty")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, []string{"{path}", "no (non-hidden) files"}},
		{"folder of empty files", func(t *testing.T, dir string) string {
			write(t, dir, "f/a.txt", nil)
			return filepath.Join(dir, "f")
		}, []string{"{path}", "empty"}},
		{"jsonl with only blank lines", func(t *testing.T, dir string) string {
			return write(t, dir, "blank.jsonl", []byte("\n\n  \n"))
		}, []string{"{path}", "empty"}},
		{"malformed JSON line", func(t *testing.T, dir string) string {
			return write(t, dir, "bad.jsonl", []byte(`{"text":"a"}`+"\n\n"+`{"text": "b"`+"\n"+`{"text":"c"}`))
		}, []string{"bad.jsonl:3:", "malformed JSON"}},
		{"malformed line inside gzip", func(t *testing.T, dir string) string {
			return write(t, dir, "bad.json.gz", gz(t, []byte(`{"text":"a"}`+"\n"+`{"text":"b"}`+"\n"+`not json`)))
		}, []string{"bad.json.gz:3:", "malformed JSON"}},
		{"line without text field", func(t *testing.T, dir string) string {
			return write(t, dir, "notext.jsonl", []byte(`{"text":"a"}`+"\n"+`{"content":"b"}`))
		}, []string{"notext.jsonl:2:", `"text"`}},
		{"non-string text field", func(t *testing.T, dir string) string {
			return write(t, dir, "num.jsonl", []byte(`{"text":42}`))
		}, []string{"num.jsonl:1:", `"text"`}},
		{"null text field", func(t *testing.T, dir string) string {
			return write(t, dir, "null.jsonl", []byte(`{"text":"a"}`+"\n"+`{"text":"b"}`+"\n"+`{"text":null}`))
		}, []string{"null.jsonl:3:", `"text"`}},
		{"line that is not an object", func(t *testing.T, dir string) string {
			return write(t, dir, "arr.jsonl", []byte(`["text"]`))
		}, []string{"arr.jsonl:1:", `"text"`}},
		{"malformed file inside a folder", func(t *testing.T, dir string) string {
			write(t, dir, "f/ok.txt", []byte("fine"))
			write(t, dir, "f/sub/bad.jsonl", []byte(`{"text":"a"}`+"\n"+`{`))
			return filepath.Join(dir, "f")
		}, []string{"bad.jsonl:2:"}},
		{"not gzip", func(t *testing.T, dir string) string {
			return write(t, dir, "fake.txt.gz", []byte("plain"))
		}, []string{"fake.txt.gz", "gzip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%q) = %d bytes, want error", path, len(c.Bytes))
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "{path}", path)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := Load(""); err == nil {
		t.Error(`Load("") succeeded`)
	}
}

// A binary file is refused with its name, not trained on as if it were text.
func TestBinaryFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"nul.bin":    append([]byte("some text"), 0, 1, 2, 3),
		"latin1.bin": bytes.Repeat([]byte{0xff, 0xfe, 'a', 0xc3}, 200),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "binary") {
			t.Errorf("%s: got %v, want an error naming it as binary", name, err)
		}
	}
	text := filepath.Join(dir, "ok.txt")
	if err := os.WriteFile(text, []byte("Ünïcode text is fine.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(text); err != nil {
		t.Errorf("UTF-8 text refused: %v", err)
	}
}
