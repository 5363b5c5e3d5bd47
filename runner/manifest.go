package runner

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"

	"github.com/relorago/harness/atomicfile"
	"github.com/relorago/harness/train"
)

// ManifestFile seals a run record: the sha256 of every other file in the
// record, the run's config hash and the code commit that recorded it. The
// tables are rendered from records, so a record whose files were edited
// after the run wrote them must be refused, not rendered: every reader of a
// record verifies the manifest first (VerifyRecord).
const ManifestFile = "manifest.json"

// ErrBadRecord marks a record that fails verification: an error to stop
// at, never a reason to train the run or to render a table without it.
var ErrBadRecord = errors.New("run record does not verify")

// Manifest is the content of ManifestFile.
type Manifest struct {
	ConfigHash string `json:"config_hash"`
	// Commit is the harness commit whose binary recorded the run
	// (vcs.revision of its build, "unknown" when it was built without
	// version control information, as `go test` builds are).
	Commit string `json:"commit"`
	// SealedBy is set only on records that were made before manifests
	// existed: the commit that checked and sealed them (their Commit is
	// then "unknown").
	SealedBy string            `json:"sealed_by,omitempty"`
	Files    map[string]string `json:"files"` // file name → sha256 (hex)
}

// linkedCommit is the commit given at link time
// (-ldflags "-X github.com/relorago/harness/runner.linkedCommit=<rev>") for
// builds that Go does not stamp with version control information (GOFLAGS
// -buildvcs=false, or a checkout Go's VCS probe does not recognise).
var linkedCommit string

// codeCommit is the commit this binary was built from, "unknown" without
// build information, with "+modified" when the tree had uncommitted changes.
func codeCommit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return cmp.Or(linkedCommit, "unknown")
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return cmp.Or(linkedCommit, "unknown")
	}
	if modified {
		rev += "+modified"
	}
	return rev
}

// seal checks the files in dir as the record named name (config hash,
// result against metrics) and writes their manifest. Only recording a run
// calls it, so a record is sealed by the run that made it, never by hand.
func seal(dir, name string, m Manifest) error {
	hash, err := checkRecordContent(dir, name)
	if err != nil {
		return err
	}
	files, err := hashFiles(dir)
	if err != nil {
		return err
	}
	m.ConfigHash, m.Files = hash, files
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, ManifestFile), append(b, '\n'))
}

// hashFiles returns the sha256 of every file in dir but the manifest.
func hashFiles(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", dir, err)
	}
	files := map[string]string{}
	for _, e := range entries {
		if e.Name() == ManifestFile {
			continue
		}
		if !e.Type().IsRegular() {
			return nil, fmt.Errorf("record %s: %s is not a regular file", dir, e.Name())
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", dir, err)
		}
		sum := sha256.Sum256(b)
		files[e.Name()] = hex.EncodeToString(sum[:])
	}
	return files, nil
}

// VerifyRecord refuses a record whose files are not the ones its manifest
// sealed, whose config does not hash to its folder's name, or whose result
// disagrees with its metrics. The error wraps ErrBadRecord and names the
// file and what differs.
func VerifyRecord(dir string) error {
	if err := verifyRecord(dir); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return nil
}

func verifyRecord(dir string) error {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s is missing: the record was not sealed by recording a run (-verify trains it again and records it)", path)
	}
	if err != nil {
		return err
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if m.ConfigHash == "" || m.Commit == "" || len(m.Files) == 0 {
		return fmt.Errorf("%s: config_hash, commit and files must all be set", path)
	}
	got, err := hashFiles(dir)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		want, ok := m.Files[name]
		switch {
		case !ok:
			return fmt.Errorf("%s: not in %s (a file added to the record after it was sealed)", filepath.Join(dir, name), ManifestFile)
		case want != got[name]:
			return fmt.Errorf("%s: sha256 %s, %s says %s (the file was changed after the run recorded it)",
				filepath.Join(dir, name), shortSum(got[name]), ManifestFile, shortSum(want))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.Files)) {
		if _, ok := got[name]; !ok {
			return fmt.Errorf("%s: missing, but %s lists it", filepath.Join(dir, name), ManifestFile)
		}
	}
	hash, err := checkRecordContent(dir, filepath.Base(dir))
	if err != nil {
		return err
	}
	if hash != m.ConfigHash {
		return fmt.Errorf("%s: config_hash %s, but %s hashes to %s", path, m.ConfigHash, train.ConfigFile, hash)
	}
	return nil
}

func shortSum(sum string) string { return sum[:min(12, len(sum))] }
