package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relorago/harness/atomicfile"
	"golang.org/x/sys/unix"
)

// writeRecord makes record folder dst hold exactly the given files (record
// file name → the file to copy), sealed by a manifest, all at once: the
// files are staged in a temporary folder beside dst, checked and sealed
// there, and the folder takes dst's place in one rename. A reader sees the
// old record or the new one, never half of either, and a writer killed
// part-way leaves only a hidden staging folder (removed by the next writer).
func writeRecord(dst string, files map[string]string, m Manifest) error {
	parent, name := filepath.Dir(dst), filepath.Base(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("record %s: %w", dst, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+name+".tmp")
	if err != nil {
		return fmt.Errorf("record %s: %w", dst, err)
	}
	defer os.RemoveAll(tmp) // after the swap it holds the old record
	defer atomicfile.Track(tmp)()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("record %s: %w", dst, err)
	}
	for to, from := range files {
		b, err := os.ReadFile(from)
		if err != nil {
			return fmt.Errorf("record %s: %w", dst, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, to), b, 0o644); err != nil {
			return fmt.Errorf("record %s: %w", dst, err)
		}
	}
	if err := seal(tmp, name, m); err != nil {
		return fmt.Errorf("record %s: %w", dst, err)
	}
	if err := swapInto(tmp, dst); err != nil {
		return fmt.Errorf("record %s: %w", dst, err)
	}
	return nil
}

// swapInto puts folder tmp at dst; an existing dst ends up at tmp. Linux
// exchanges the two in one step; where the file system cannot, the old
// record is moved aside first (a reader may then briefly find no record).
func swapInto(tmp, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE)
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrNotExist) {
		return os.Rename(tmp, dst) // no record yet: a plain rename
	}
	old := tmp + ".old"
	if err := os.Rename(dst, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Rename(old, dst)
		return err
	}
	return os.Rename(old, tmp)
}

// sweepStaging removes staging folders that a killed writer left behind;
// the caller holds the records lock, so no other writer is using them.
func sweepStaging(recordsDir string) {
	left, _ := filepath.Glob(filepath.Join(recordsDir, ".*.tmp*"))
	for _, dir := range left {
		os.RemoveAll(dir)
	}
}
