package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A write in progress when the process is told to stop loses its temporary
// file, and its rename then fails instead of leaving debris or a file.
func TestRemovePendingRemovesWritesInProgress(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.safetensors")
	err := WriteStream(path, func(w io.Writer) error {
		left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
		if len(left) != 1 {
			t.Fatalf("%d temporary files during the write, want 1", len(left))
		}
		RemovePending() // the signal arrives mid-write
		if _, err := os.Stat(left[0]); !errors.Is(err, os.ErrNotExist) {
			t.Error("RemovePending left the temporary file")
		}
		_, err := w.Write([]byte("data"))
		return err
	})
	if err == nil {
		t.Error("the interrupted write reported success")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the folder holds %d files after an interrupted write", len(entries))
	}
}
