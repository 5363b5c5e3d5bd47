package report

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// WriteDocument writes a result's two text forms into dir: v as indented
// JSON (every number, for scripts) and markdown (for people), each
// atomically, so a reader never sees half a file. It creates dir (figures
// create their own folders when saved).
func WriteDocument(dir, jsonName string, v any, markdownName, markdown string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, jsonName), append(b, '\n')); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, markdownName), []byte(markdown))
}
