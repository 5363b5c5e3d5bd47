package runner

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relorago/harness/train"
)

// recordOf trains cfg into a fresh cache and records it; it returns the
// records folder and the record.
func recordOf(t *testing.T, cfg train.Config) (records, rec string) {
	t.Helper()
	records = t.TempDir()
	out, err := Execute([]train.Config{cfg}, Options{RunsDir: t.TempDir(), Log: &bytes.Buffer{}, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Record(out, records); err != nil {
		t.Fatal(err)
	}
	return records, RecordDir(records, cfg)
}

// Every way of changing a record after its run wrote it is refused by the
// reader, naming the file and what differs; nothing is trained instead and
// the record is left as it is.
func TestEditedRecordsAreRefusedNotRenderedNorRetrained(t *testing.T) {
	cfg := nano(t, 1, 3e-3)
	replace := func(name, old, new string) func(t *testing.T, rec string) {
		return func(t *testing.T, rec string) {
			t.Helper()
			path := filepath.Join(rec, name)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("%s lacks %q", name, old)
			}
			if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write := func(name, content string) func(t *testing.T, rec string) {
		return func(t *testing.T, rec string) {
			if err := os.WriteFile(filepath.Join(rec, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name   string
		edit   func(t *testing.T, rec string)
		errHas []string
	}{
		{"val loss edited in result.json", replace(train.ResultFile, `"final_val": {`+"\n"+`    "step": 12,`+"\n"+`    "loss": `, `"final_val": {`+"\n"+`    "step": 12,`+"\n"+`    "loss": 1`),
			[]string{"result.json: sha256", "changed after the run recorded it"}},
		{"a line of metrics.jsonl edited", replace(train.MetricsFile, `"step":3,"loss":`, `"step":3,"loss":9`),
			[]string{"metrics.jsonl: sha256"}},
		{"result.json is {}", write(train.ResultFile, "{}"), []string{"result.json"}},
		{"result.json is status ok alone", write(train.ResultFile, `{"status":"ok"}`), []string{"result.json"}},
		{"result.json is unreadable", write(train.ResultFile, `{"status":`), []string{"result.json"}},
		{"config changed", replace(train.ConfigFile, `"seed": 1`, `"seed": 2`), []string{"config.json"}},
		{"file added", write("notes.txt", "hello"), []string{"notes.txt: not in manifest.json"}},
		{"file removed", func(t *testing.T, rec string) { os.Remove(filepath.Join(rec, train.MetricsFile)) },
			[]string{"metrics.jsonl: missing, but manifest.json lists it"}},
		{"no manifest", func(t *testing.T, rec string) { os.Remove(filepath.Join(rec, ManifestFile)) },
			[]string{"manifest.json is missing", "-verify"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			records, rec := recordOf(t, cfg)
			c.edit(t, rec)
			before := readAll(t, rec)
			runs := filepath.Join(t.TempDir(), "runs")
			out, err := Execute([]train.Config{cfg}, Options{RunsDir: runs, Log: &bytes.Buffer{}, Quiet: true, RecordsDir: records})
			if !errors.Is(err, ErrBadRecord) {
				t.Fatalf("reading the edited record: error %v, want one wrapping ErrBadRecord", err)
			}
			for _, want := range c.errHas {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if out[0].Result != nil {
				t.Error("the edited record's result was returned")
			}
			if _, err := os.Stat(runs); !errors.Is(err, os.ErrNotExist) {
				t.Error("an edited record made the runner train the run")
			}
			if !equalFiles(readAll(t, rec), before) {
				t.Error("reading the record changed it")
			}
		})
	}
}

// A record whose files agree with each other but not with the run is
// refused by the cross-checks before any manifest could seal it.
func TestResultMustAgreeWithMetrics(t *testing.T) {
	cfg := nano(t, 1, 3e-3)
	_, rec := recordOf(t, cfg)
	res, err := train.ReadResult(rec)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := train.ReadMetrics(filepath.Join(rec, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	shifted := *res
	shifted.FinalVal.Loss += 1e-9
	short := *res
	short.Steps = cfg.Steps - 1
	merged := *res
	merged.Merges = 1
	for _, c := range []struct {
		name string
		res  train.Result
		ms   []train.StepMetrics
		want string
	}{
		{"the same", *res, ms, ""},
		{"final val loss off in the last digits", shifted, ms, "final_val is loss"},
		{"fewer steps than the config", short, ms, "status ok after 11 steps"},
		{"metrics cut short", *res, ms[:len(ms)-1], "status ok after 12 steps, but the config has 12 and metrics.jsonl ends at step 11"},
		{"no metrics", *res, nil, "logged no step"},
		{"a merge the metrics do not log", merged, ms, "merges 1, but metrics.jsonl logs 0 merge events"},
	} {
		err := resultMatchesMetrics("r/result.json", &c.res, cfg, c.ms)
		if got := fmt.Sprint(err); (c.want == "") != (err == nil) || !strings.Contains(got, c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// -verify trains an edited record's run again and seals the record anew.
func TestVerifyReplacesAnEditedRecord(t *testing.T) {
	cfg := nano(t, 1, 3e-3)
	records, rec := recordOf(t, cfg)
	good := readAll(t, rec)
	if err := os.WriteFile(filepath.Join(rec, train.ResultFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := Options{RunsDir: t.TempDir(), Log: &bytes.Buffer{}, Quiet: true, RecordsDir: records, Verify: func(train.Config) bool { return true }}
	out, err := Execute([]train.Config{cfg}, opt)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := Record(out, records)
	if err != nil {
		t.Fatal(err)
	}
	if s := Summary(checks); !strings.Contains(s, "the record did not verify") {
		t.Errorf("summary %q does not say the record did not verify", s)
	}
	if err := VerifyRecord(rec); err != nil {
		t.Fatal(err)
	}
	now := readAll(t, rec)
	if !bytes.Equal(now[train.MetricsFile], good[train.MetricsFile]) {
		t.Error("the re-sealed record's metrics differ from the run's")
	}
}

// Two writers recording the same runs at once: each record appears whole
// (never half copied), the second writer waits for the first and says who
// holds the lock, and both end with the same sealed records.
func TestConcurrentRecordWritersSerialise(t *testing.T) {
	configs := []train.Config{nano(t, 1, 3e-3), nano(t, 2, 3e-3), nano(t, 3, 3e-3)}
	records := t.TempDir()
	var outs [2][]Outcome
	for i := range outs {
		var err error
		if outs[i], err = Execute(configs, Options{RunsDir: t.TempDir(), Log: &bytes.Buffer{}, Quiet: true}); err != nil {
			t.Fatal(err)
		}
	}
	// Hold the lock as another process would, so the writers queue.
	held, err := lockRecords(records)
	if err != nil {
		t.Fatal(err)
	}
	var log safeBuffer
	LockWaitLog = &log
	defer func() { LockWaitLog = os.Stderr }()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range outs {
		wg.Go(func() { _, errs[i] = Record(outs[i], records) })
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(log.String(), fmt.Sprintf("pid %d", os.Getpid())); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no writer said who holds the lock: %q", log.String())
		}
	}
	for _, c := range configs {
		if _, err := os.Stat(RecordDir(records, c)); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("a record was written while another process held the lock")
		}
	}
	held.Close()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range configs {
		if err := VerifyRecord(RecordDir(records, c)); err != nil {
			t.Error(err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(records, ".*.tmp*")); len(left) > 0 {
		t.Errorf("staging folders left: %v", left)
	}
}

// A writer killed while staging leaves a hidden folder, never a half
// record; the next writer removes it.
func TestStagingDebrisIsSweptAndNeverRead(t *testing.T) {
	cfg := nano(t, 1, 3e-3)
	records := t.TempDir()
	half := filepath.Join(records, "."+Hash(cfg)+".tmp123")
	if err := os.MkdirAll(half, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(half, train.ResultFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := Missing([]train.Config{cfg}, t.TempDir(), records); n != 1 {
		t.Fatalf("a staging folder counted as the record (%d missing)", n)
	}
	out, err := Execute([]train.Config{cfg}, Options{RunsDir: t.TempDir(), Log: &bytes.Buffer{}, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Record(out, records); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !errors.Is(err, os.ErrNotExist) {
		t.Error("the staging folder of a killed writer was not swept")
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Every committed record verifies: its files are the ones sealed, its
// config hashes to its folder and its result agrees with its metrics.
func TestCommittedRecordsVerify(t *testing.T) {
	dir := filepath.Join("..", "results", "runs")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		n++
		if err := VerifyRecord(filepath.Join(dir, e.Name())); err != nil {
			t.Error(err)
		}
	}
	if n == 0 {
		t.Fatal("no committed records found")
	}
}
