package train

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A checkpoint whose step, merge count or tensors were edited after it was
// saved is refused, naming the file; one saved before checksums existed is
// still read.
func TestEditedCheckpointIsRefused(t *testing.T) {
	ck := tinyCheckpoint(t)
	good, err := ck.encode()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ck.encodeWith(nil)
	if err != nil {
		t.Fatal(err)
	}
	headerEnd := 8 + int(binary.LittleEndian.Uint64(good))
	flipTensor := func(b []byte) []byte { b[headerEnd+100] ^= 1; return b }
	cases := []struct {
		name string
		file []byte
		want string // "" = accepted
	}{
		{"as saved", good, ""},
		{"saved without a checksum (older harness)", plain, ""},
		{"step edited", bytes.Replace(good, []byte(`"step":"100"`), []byte(`"step":"101"`), 1), "checksum mismatch"},
		{"merge count edited", bytes.Replace(good, []byte(`\"merges\":1`), []byte(`\"merges\":2`), 1), "checksum mismatch"},
		{"a weight edited", flipTensor(bytes.Clone(good)), "checksum mismatch"},
		{"checksum replaced by junk", bytes.Replace(good, []byte(`"checksum":"sha256:`), []byte(`"checksum":"md5:xx:`), 1), "is not a sha256 checksum"},
	}
	for _, c := range cases {
		if c.want != "" && bytes.Equal(c.file, good) {
			t.Fatalf("%s: the edit did not apply", c.name)
		}
		path := filepath.Join(t.TempDir(), CheckpointFile)
		if err := os.WriteFile(path, c.file, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCheckpoint(path)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path)):
			t.Errorf("%s: error %v, want one naming %s and saying %q", c.name, err, path, c.want)
		}
	}
}
