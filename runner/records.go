package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/relorago/harness/train"
)

// A run record is the small part of a finished run (config.json,
// result.json, metrics.jsonl and the analyses Record is given as extras, never
// weights) kept under results/ beside the tables it backs, in a folder named
// by the run's hash like the cache's. Tables render from records where the
// local run cache lacks a run, so a fresh clone re-renders every table
// without training; a run trained again is checked against its record.

// RecordFiles are copied into every record.
var RecordFiles = []string{train.ConfigFile, train.ResultFile, train.MetricsFile}

// RecordDir returns the record folder of cfg under recordsDir.
func RecordDir(recordsDir string, cfg train.Config) string {
	return filepath.Join(recordsDir, Hash(cfg))
}

// Verdict is what recording a run found.
type Verdict int

// Verdicts of Record, per run.
const (
	FromRecord Verdict = iota // the run came from its record (not trained here)
	NewRecord                 // no record existed: one was written
	Reproduced                // trained here, same numbers as its record to the last digit
	Differs                   // trained here, numbers differ from the record (the record was updated)
	OtherText                 // trained here on another corpus text than its record's: not compared, the record kept
)

// RecordCheck is one run's verdict.
type RecordCheck struct {
	Dir     string // the record folder
	Verdict Verdict
	Detail  string // for Differs: what differs; for OtherText: the two texts
	Trained bool   // trained by this Execute (else found in the run cache)
}

// Record writes a record for every finished run of outs that came from the
// run cache, checks runs that already had one, and points every outcome at
// its record folder, so tables render from the same files whether the cache
// is there or not. Runs that differ from their record are re-recorded with
// the new numbers (git shows the change) and reported. extras are the
// names of small per-run analyses a record keeps when the run folder has
// them (the spectra of the run's weight updates): the tables that make
// them say which (cmd/relora collects them from its table registry).
func Record(outs []Outcome, recordsDir string, extras ...string) ([]RecordCheck, error) {
	var checks []RecordCheck
	seen := map[string]bool{}
	var errs []error
	lock, err := lockRecords(recordsDir)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	sweepStaging(recordsDir)
	for i := range outs {
		o := &outs[i]
		if o.Result == nil {
			continue
		}
		rec := RecordDir(recordsDir, o.Config)
		if o.Dir == rec {
			if !seen[rec] {
				checks = append(checks, RecordCheck{Dir: rec, Verdict: FromRecord})
			}
			seen[rec] = true
			continue
		}
		c := RecordCheck{Dir: rec, Trained: !o.Cached}
		if seen[rec] {
			o.Dir = rec
			continue
		}
		seen[rec] = true
		c.Verdict, c.Detail, err = record(o.Dir, rec, extras)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := train.ReadResult(rec)
		if err != nil {
			errs = append(errs, fmt.Errorf("record %s: %w", rec, err))
			continue
		}
		o.Dir, o.Result = rec, res
		checks = append(checks, c)
	}
	// Duplicates of a run in one matrix point at its record too.
	for i := range outs {
		if rec := RecordDir(recordsDir, outs[i].Config); outs[i].Result != nil && seen[rec] && outs[i].Dir != rec {
			if res, err := train.ReadResult(rec); err == nil {
				outs[i].Dir, outs[i].Result = rec, res
			}
		}
	}
	return checks, errors.Join(errs...)
}

// record copies run folder src into record folder dst, or compares them
// when dst exists. A record that does not verify is replaced by the run's
// files (the run was trained, by this process or an earlier one; the record
// can no longer be trusted) and reported as differing.
func record(src, dst string, extras []string) (Verdict, string, error) {
	_, err := os.Stat(dst)
	if errors.Is(err, os.ErrNotExist) {
		files, err := runRecordFiles(src, extras)
		if err != nil {
			return 0, "", err
		}
		return NewRecord, "", writeRecord(dst, files, Manifest{Commit: codeCommit()})
	}
	if err != nil {
		return 0, "", err
	}
	detail := ""
	if verr := VerifyRecord(dst); verr != nil {
		detail = fmt.Sprintf("the record did not verify (%v)", verr)
	} else {
		ra, err := train.ReadResult(src)
		if err != nil {
			return 0, "", err
		}
		rb, err := train.ReadResult(dst)
		if err != nil {
			return 0, "", fmt.Errorf("record %s: %w", dst, err)
		}
		if other := otherText(ra.Corpus, rb.Corpus); other != "" {
			// The run cannot have the record's numbers: keep the record.
			return OtherText, other, nil
		}
		if detail, err = compareRecord(src, dst, ra, rb); err != nil {
			return 0, "", err
		}
	}
	if detail != "" {
		files, err := runRecordFiles(src, extras)
		if err != nil {
			return 0, "", err
		}
		return Differs, detail, writeRecord(dst, files, Manifest{Commit: codeCommit()})
	}
	// Same numbers: the committed record stays as it is (its timings
	// included); analyses are brought up to date (they are functions of
	// the run, so a reproduced run changes them only when their format
	// changed), and then the record is sealed again.
	files, changed, err := withNewExtras(src, dst, extras)
	if err != nil || !changed {
		return Reproduced, "", err
	}
	return Reproduced, "", writeRecord(dst, files, Manifest{Commit: codeCommit()})
}

// runRecordFiles lists what a record of run folder src holds: every
// RecordFiles file (each must exist) and the extras it has.
func runRecordFiles(src string, extras []string) (map[string]string, error) {
	files := map[string]string{}
	for _, name := range RecordFiles {
		path := filepath.Join(src, name)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("run %s cannot be recorded: %w", src, err)
		}
		files[name] = path
	}
	for _, name := range extras {
		if path := filepath.Join(src, name); fileExists(path) {
			files[name] = path
		}
	}
	return files, nil
}

// withNewExtras lists record dst's files with the analyses of src that dst
// lacks or holds other bytes of, and says whether there were any.
func withNewExtras(src, dst string, extras []string) (map[string]string, bool, error) {
	entries, err := os.ReadDir(dst)
	if err != nil {
		return nil, false, err
	}
	files := map[string]string{}
	for _, e := range entries {
		if e.Name() != ManifestFile {
			files[e.Name()] = filepath.Join(dst, e.Name())
		}
	}
	changed := false
	for _, name := range extras {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			continue
		}
		if old, err := os.ReadFile(filepath.Join(dst, name)); err == nil && bytes.Equal(old, b) {
			continue
		}
		files[name], changed = filepath.Join(src, name), true
	}
	return files, changed, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// otherText describes how a run's corpus ca differs from its record's cb,
// or is "" when they trained on the same text (or the record does not
// say). The corpora are read from the Go installation, so another Go
// version can hold another text (the records name theirs): such a run
// differs from its record for that reason alone, and replacing the record
// with it would lose the record.
func otherText(ca, cb train.Corpus) string {
	if cb.SHA256 == "" || ca.SHA256 == cb.SHA256 {
		return ""
	}
	return fmt.Sprintf("corpus %s here is %d bytes, sha256 %s (%s); the record's %d bytes, sha256 %s (%s)",
		ca.Source, ca.Bytes, ca.SHA256, ca.GoVersion, cb.Bytes, cb.SHA256, cb.GoVersion)
}

// compareRecord says how a run folder's numbers differ from a record's, or
// "" when every logged number and every result field but the wall-clock ones
// are the same; ra and rb are their results.
func compareRecord(run, rec string, ra, rb *train.Result) (string, error) {
	var diffs []string
	a, err := os.ReadFile(filepath.Join(run, train.MetricsFile))
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(rec, train.MetricsFile))
	if err != nil {
		return "", fmt.Errorf("record %s: %w", rec, err)
	}
	if !bytes.Equal(a, b) {
		diffs = append(diffs, firstDifferentLine(a, b))
	}
	ja, jb := resultNumbers(*ra), resultNumbers(*rb)
	if !bytes.Equal(ja, jb) {
		diffs = append(diffs, fmt.Sprintf("final validation loss %.17g, recorded %.17g", ra.FinalVal.Loss, rb.FinalVal.Loss))
	}
	return strings.Join(diffs, "; "), nil
}

// resultNumbers is the result without what no rerun repeats: timings and
// the machine.
func resultNumbers(r train.Result) []byte {
	r.TokensPerSec, r.ExamplesPerSec, r.TrainSeconds, r.WallSeconds = 0, 0, 0, 0
	r.Threads, r.CPU, r.FinishedAt = 0, "", ""
	b, _ := json.Marshal(r)
	return b
}

func firstDifferentLine(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range max(len(la), len(lb)) {
		if i >= len(la) || i >= len(lb) || !bytes.Equal(la[i], lb[i]) {
			return fmt.Sprintf("metrics.jsonl differs from line %d", i+1)
		}
	}
	return "metrics.jsonl differs"
}

// Summary says in one line how the runs trained here compare with their
// records, e.g. "8/8 runs trained here reproduce their committed records to
// the last digit"; "" when no run was both trained and recorded.
func Summary(checks []RecordCheck) string {
	var same, differ, cachedSame, cachedDiffer, added, from int
	var details, others []string
	for _, c := range checks {
		switch {
		case c.Verdict == Reproduced && c.Trained:
			same++
		case c.Verdict == Reproduced:
			cachedSame++
		case c.Verdict == Differs:
			if c.Trained {
				differ++
			} else {
				cachedDiffer++
			}
			details = append(details, fmt.Sprintf("%s: %s", c.Dir, c.Detail))
		case c.Verdict == OtherText:
			others = append(others, fmt.Sprintf("%s: %s", c.Dir, c.Detail))
		case c.Verdict == NewRecord:
			added++
		case c.Verdict == FromRecord:
			from++
		}
	}
	var parts []string
	if same+differ > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d runs trained here reproduce their committed records to the last digit", same, same+differ))
	}
	if cachedSame+cachedDiffer > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d runs of the local cache match their records", cachedSame, cachedSame+cachedDiffer))
	}
	if differ+cachedDiffer > 0 {
		parts = append(parts, fmt.Sprintf("%d differ (records updated): %s", differ+cachedDiffer, strings.Join(details, "; ")))
	}
	if len(others) > 0 {
		parts = append(parts, fmt.Sprintf("%d trained on other text than their records (records kept, not compared; another Go version's source tree can hold other text): %s", len(others), strings.Join(others, "; ")))
	}
	if added > 0 {
		parts = append(parts, fmt.Sprintf("%d new run records", added))
	}
	if from > 0 {
		parts = append(parts, fmt.Sprintf("%d runs read from their records (not trained here; -verify trains them again)", from))
	}
	return strings.Join(parts, "; ")
}
