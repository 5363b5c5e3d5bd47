package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// RecordsLockFile serialises the processes that write records into one
// records folder: two table commands over the same results used to copy a
// record file by file at the same time and leave it half written.
const RecordsLockFile = ".lock"

// LockWaitLog is where a writer says whom it waits for (stderr; tests
// replace it).
var LockWaitLog io.Writer = os.Stderr

type recordsLock struct{ f *os.File }

// lockRecords takes the records folder's lock, waiting for another writer
// if there is one (and saying on LockWaitLog which process holds it). The
// lock file holds the holder's pid; the kernel drops the lock when the
// holder dies, so a killed writer never wedges the next one.
func lockRecords(recordsDir string) (*recordsLock, error) {
	if err := os.MkdirAll(recordsDir, 0o755); err != nil {
		return nil, fmt.Errorf("records %s: %w", recordsDir, err)
	}
	path := filepath.Join(recordsDir, RecordsLockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		fmt.Fprintf(LockWaitLog, "relora: waiting for %s: another process (%s) is writing run records\n", path, lockHolder(path))
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &recordsLock{f: f}, nil
}

// lockHolder names the process that wrote its pid into the lock file.
func lockHolder(path string) string {
	b, err := os.ReadFile(path)
	if pid := strings.TrimSpace(string(b)); err == nil && pid != "" {
		return "pid " + pid
	}
	return "pid unknown"
}

func (l *recordsLock) Close() {
	if l != nil && l.f != nil {
		l.f.Close()
	}
}
