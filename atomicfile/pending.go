package atomicfile

import (
	"os"
	"sync"
)

// The temporary files being written right now, so that a process stopped
// by a signal can remove them before it exits (a SIGKILL cannot be caught:
// the next run in the folder sweeps those).
var pending = struct {
	sync.Mutex
	files map[string]bool
}{files: map[string]bool{}}

func track(tmp string) {
	pending.Lock()
	pending.files[tmp] = true
	pending.Unlock()
}

func untrack(tmp string) {
	pending.Lock()
	delete(pending.files, tmp)
	pending.Unlock()
}

// Track registers a temporary file or staging folder that RemovePending
// should remove if the process is stopped before the returned function is
// called (when the path has been renamed into place or removed).
func Track(path string) (done func()) {
	track(path)
	return func() { untrack(path) }
}

// RemovePending removes the temporary files of writes still in progress.
// It is for a signal handler that is about to exit the process: a write
// that continues afterwards fails at its rename instead of leaving debris.
func RemovePending() {
	pending.Lock()
	defer pending.Unlock()
	for tmp := range pending.files {
		os.RemoveAll(tmp) // a staging folder is tracked like a file
		delete(pending.files, tmp)
	}
}
