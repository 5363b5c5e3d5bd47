package runner

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relorago/harness/train"
)

// The life of a run record: written from the cache, used instead of
// training when the cache is gone, checked digit for digit when trained
// again, and reported (and updated) when the numbers differ.
func TestRecordsStandInForTheCacheAndCheckReruns(t *testing.T) {
	runs, records := t.TempDir(), t.TempDir()
	configs := []train.Config{nano(t, 1, 3e-3), nano(t, 2, 3e-3)}
	opt := Options{RunsDir: runs, Jobs: 2, Log: &bytes.Buffer{}, Quiet: true, RecordsDir: records}
	out, err := Execute(configs, opt)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := Record(out, records)
	if err != nil {
		t.Fatal(err)
	}
	if s := Summary(checks); s != "2 new run records" {
		t.Fatalf("first recording: %q", s)
	}
	for i, o := range out {
		if o.Dir != RecordDir(records, configs[i]) {
			t.Fatalf("outcome %d points at %s, not its record", i, o.Dir)
		}
	}
	committed := readAll(t, RecordDir(records, configs[0]))

	// A fresh clone: no cache. Nothing trains; the outcomes are the records.
	if err := os.RemoveAll(runs); err != nil {
		t.Fatal(err)
	}
	out, err = Execute(configs, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if !o.Cached || o.Dir != RecordDir(records, configs[i]) {
			t.Fatalf("run %d without a cache: cached %v, dir %s", i, o.Cached, o.Dir)
		}
	}
	if _, err := os.Stat(runs); !os.IsNotExist(err) {
		t.Fatal("rendering from records touched the run cache")
	}

	// -verify: train again, compare, leave the records untouched.
	opt.Verify = func(train.Config) bool { return true }
	out, err = Execute(configs, opt)
	if err != nil {
		t.Fatal(err)
	}
	checks, err = Record(out, records)
	if err != nil {
		t.Fatal(err)
	}
	if s := Summary(checks); s != "2/2 runs trained here reproduce their committed records to the last digit" {
		t.Fatalf("verification: %q", s)
	}
	if got := readAll(t, RecordDir(records, configs[0])); !equalFiles(got, committed) {
		t.Fatal("a reproducing rerun rewrote its committed record")
	}

	// A run whose numbers differ from its record (as after a change of the
	// numerics) is reported with the first differing line, and its record
	// is replaced by the run's files.
	rec := RecordDir(records, configs[1])
	m := filepath.Join(Dir(runs, configs[1]), train.MetricsFile)
	b, _ := os.ReadFile(m)
	if err := os.WriteFile(m, bytes.Replace(b, []byte(`"step":3,"loss":`), []byte(`"step":3,"loss":9`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = Execute(configs, opt)
	if err != nil {
		t.Fatal(err)
	}
	checks, err = Record(out, records)
	if err != nil {
		t.Fatal(err)
	}
	s := Summary(checks)
	// The runs are in the cache by now: they are compared, not retrained.
	if !strings.Contains(s, "1/2 runs of the local cache match their records") || !strings.Contains(s, "1 differ (records updated)") ||
		!strings.Contains(s, "metrics.jsonl differs from line 3") {
		t.Fatalf("a differing rerun: %q", s)
	}
	if b2, _ := os.ReadFile(filepath.Join(rec, train.MetricsFile)); !bytes.Contains(b2, []byte(`"loss":9`)) {
		t.Fatal("the differing record was not updated")
	}
	if err := VerifyRecord(rec); err != nil {
		t.Fatalf("the updated record is not sealed: %v", err)
	}
}

// Tables see every seed in the cache and the records.
func TestSeedIndexFindsSeedsInCacheAndRecords(t *testing.T) {
	runs, records := t.TempDir(), t.TempDir()
	opt := Options{RunsDir: runs, Log: &bytes.Buffer{}, Quiet: true}
	if _, err := Execute([]train.Config{nano(t, 1, 3e-3), nano(t, 3, 3e-3), nano(t, 2, 5e-3)}, opt); err != nil {
		t.Fatal(err)
	}
	out, err := Execute([]train.Config{nano(t, 4, 3e-3)}, Options{RunsDir: t.TempDir(), Log: &bytes.Buffer{}, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Record(out, records); err != nil {
		t.Fatal(err)
	}
	idx := IndexSeeds(runs, records, filepath.Join(t.TempDir(), "missing"))
	if got := idx.Seeds(nano(t, 9, 3e-3)); !slices.Equal(got, []uint64{1, 3, 4}) {
		t.Fatalf("seeds of lr 3e-3: %v, want [1 3 4]", got)
	}
	if got := idx.Seeds(nano(t, 1, 5e-3)); !slices.Equal(got, []uint64{2}) {
		t.Fatalf("seeds of lr 5e-3: %v, want [2]", got)
	}
}

// Two matrices over one run folder train each run once: the second waits
// for the first's lock and takes its result.
func TestTwoMatricesOnOneFolderTrainEachRunOnce(t *testing.T) {
	runs := t.TempDir()
	cfg := nano(t, 1, 3e-3)
	cfg.Steps = 60
	results := make(chan []Outcome, 2)
	for range 2 {
		go func() {
			out, err := Execute([]train.Config{cfg}, Options{RunsDir: runs, Log: &bytes.Buffer{}, Quiet: true})
			if err != nil {
				t.Error(err)
			}
			results <- out
		}()
		time.Sleep(20 * time.Millisecond)
	}
	a, b := <-results, <-results
	if a[0].Result == nil || b[0].Result == nil {
		t.Fatal("a matrix got no result")
	}
	metrics, err := train.ReadMetrics(filepath.Join(Dir(runs, cfg), train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(metrics) != cfg.Steps {
		t.Fatalf("metrics.jsonl has %d lines for %d steps: the run was trained twice", len(metrics), cfg.Steps)
	}
	if a[0].Result.FinishedAt != b[0].Result.FinishedAt {
		t.Fatalf("the matrices got two different results (finished %s and %s)", a[0].Result.FinishedAt, b[0].Result.FinishedAt)
	}
}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func equalFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// A run trained on other text than its record (another Go version's
// source tree) cannot match it: it is reported as such and the record is
// kept, neither compared nor replaced.
func TestRerunOnOtherTextKeepsTheRecord(t *testing.T) {
	runs, records := t.TempDir(), t.TempDir()
	configs := []train.Config{nano(t, 1, 3e-3)}
	opt := Options{RunsDir: runs, Jobs: 1, Log: &bytes.Buffer{}, Quiet: true, RecordsDir: records}
	out, err := Execute(configs, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Record(out, records); err != nil {
		t.Fatal(err)
	}
	rec := RecordDir(records, configs[0])
	committed := readAll(t, rec)

	// The cached run as another toolchain would have trained it: other
	// text, other numbers.
	run := Dir(runs, configs[0])
	res, err := train.ReadResult(run)
	if err != nil {
		t.Fatal(err)
	}
	res.Corpus.SHA256, res.Corpus.GoVersion = "00112233aabbccdd", "go9.9.9"
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, train.ResultFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	m := filepath.Join(run, train.MetricsFile)
	mb, _ := os.ReadFile(m)
	if err := os.WriteFile(m, bytes.Replace(mb, []byte(`"step":3,"loss":`), []byte(`"step":3,"loss":9`), 1), 0o644); err != nil {
		t.Fatal(err)
	}

	opt.Verify = func(train.Config) bool { return true }
	out, err = Execute(configs, opt)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := Record(out, records)
	if err != nil {
		t.Fatal(err)
	}
	s := Summary(checks)
	if !strings.Contains(s, "1 trained on other text than their records (records kept") || !strings.Contains(s, "00112233aabbccdd (go9.9.9)") ||
		strings.Contains(s, "differ (records updated)") {
		t.Fatalf("a rerun on other text: %q", s)
	}
	if got := readAll(t, rec); !equalFiles(got, committed) {
		t.Fatal("a rerun on other text replaced its record")
	}
	if out[0].Dir != rec {
		t.Fatalf("the outcome points at %s, not at the kept record", out[0].Dir)
	}
}
