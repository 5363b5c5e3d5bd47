package report

import (
	"encoding/json"
	"path/filepath"
)

// WriteDocument writes a result's two text forms into dir: v as indented
// JSON (every number, for scripts) and markdown (for people), each
// atomically, so a reader never sees half a file.
func WriteDocument(dir, jsonName string, v any, markdownName, markdown string) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, jsonName), append(b, '\n')); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, markdownName), []byte(markdown))
}
