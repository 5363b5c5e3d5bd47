package runner

import (
	"fmt"
	"os"
	"path/filepath"
)

// SealLegacyRecord seals a record made before records carried manifests.
// It is a one-off for the records committed then: it refuses a record that
// already has a manifest (a sealed record is sealed again only by recording
// its run), and it writes the manifest only after the record's files pass
// the cross-checks (config hash, result against metrics). The manifest
// says the commit that trained the record is unknown and names the commit
// that sealed it.
func SealLegacyRecord(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return fmt.Errorf("record %s is sealed already: only recording its run (-verify) seals it again", dir)
	}
	return seal(dir, filepath.Base(dir), Manifest{Commit: "unknown", SealedBy: codeCommit()})
}
