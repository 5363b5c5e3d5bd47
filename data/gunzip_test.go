package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A damaged .gz corpus is reported as a damaged gzip file naming it, not as
// malformed JSON or text.
func TestTruncatedOrCorruptGzipIsNamed(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := range 2000 {
		zw.Write([]byte(`{"text": "line ` + strings.Repeat("x", i%50) + `"}` + "\n"))
	}
	zw.Close()
	whole := buf.Bytes()
	corrupt := bytes.Clone(whole)
	corrupt[len(corrupt)/2] ^= 0xff
	for _, c := range []struct {
		name, file string
		b          []byte
		want       string
	}{
		{"whole", "c.jsonl.gz", whole, ""},
		{"cut in the middle", "c.jsonl.gz", whole[:len(whole)/2], "gzip stream is truncated"},
		{"cut in the header", "c.jsonl.gz", whole[:5], "gzip stream is truncated"},
		{"cut text file", "c.txt.gz", whole[:len(whole)/2], "gzip stream is truncated"},
		{"a flipped byte", "c.jsonl.gz", corrupt, "gzip stream is"},
		{"not gzip", "c.jsonl.gz", []byte("plain text, not gzip"), "not a valid gzip stream"},
	} {
		path := filepath.Join(t.TempDir(), c.file)
		if err := os.WriteFile(path, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := loadFile(path)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "JSON")):
			t.Errorf("%s: error %v, want one naming %s and saying %q (not a JSON error)", c.name, err, path, c.want)
		}
	}
}
