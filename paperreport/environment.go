package paperreport

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/relorago/harness/kernels/gemm"
	"github.com/relorago/harness/runner"
)

// Environment is where the report's numbers come from. Everything in it is
// read from the binary and the run cache, not the clock, so that rendering
// twice gives the same file.
type Environment struct {
	CPU       string // model name of the machine rendering the report
	Cores     int
	GoVersion string // of the rendering binary
	Backend   string // GEMM backend compiled into the rendering binary
	Commit    string // harness commit the binary was built from ("+ changes" if the tree was dirty)

	// Recorded by the runs themselves (result.json): they may have been
	// trained elsewhere, e.g. on a cluster.
	RunGoVersions []string
	RunBackends   []string
	RunsFinished  string // date of the newest result.json
}

// ReadEnvironment describes this machine and binary, and the runs of the
// sections.
func ReadEnvironment(sections []Section) Environment {
	e := Environment{CPU: cpuModel(), Cores: runtime.NumCPU(), GoVersion: runtime.Version(),
		Backend: gemm.Backend, Commit: commit()}
	goVersions, backends := map[string]bool{}, map[string]bool{}
	var newest time.Time
	for _, o := range uniqueOutcomes(sections) {
		if o.Result == nil {
			continue
		}
		goVersions[o.Result.Corpus.GoVersion] = true
		backends[o.Result.GemmBackend] = true
		if fi, err := os.Stat(filepath.Join(o.Dir, "result.json")); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	e.RunGoVersions, e.RunBackends = sortedKeys(goVersions), sortedKeys(backends)
	if !newest.IsZero() {
		e.RunsFinished = newest.UTC().Format("2006-01-02")
	}
	return e
}

func (r *Report) writeEnvironment(b *strings.Builder) {
	b.WriteString("## Environment\n\n")
	fmt.Fprintf(b, "- **Machine:** %s, %d cores (the machine that rendered this report).\n", r.Env.CPU, r.Env.Cores)
	fmt.Fprintf(b, "- **Harness:** commit `%s`, built with %s, GEMM backend `%s`.\n", r.Env.Commit, r.Env.GoVersion, r.Env.Backend)
	if len(r.Env.RunGoVersions) > 0 {
		fmt.Fprintf(b, "- **Runs:** trained with %s (GEMM backend %s); the newest finished on %s.\n",
			strings.Join(r.Env.RunGoVersions, ", "), strings.Join(r.Env.RunBackends, ", "), r.Env.RunsFinished)
	}
	fmt.Fprintf(b, "- **Preset %q:** %s.\n\n", r.Preset, r.PresetAbout)
	b.WriteString("Compute behind each table (sum over its distinct runs; training steps only, then including evaluation and checkpoints):\n\n")
	for _, s := range r.Sections {
		if len(s.Outcomes) == 0 {
			fmt.Fprintf(b, "- %s: %s\n", s.Name, s.Note)
			continue
		}
		n, train, wall := computeOf(s.Outcomes)
		fmt.Fprintf(b, "- %s: %d runs, %s training, %s wall (core time: each run uses one core)\n", s.Name, n, hours(train), hours(wall))
	}
	b.WriteString("\n")
}

// cpuModel reads the CPU's name on Linux; elsewhere it names the
// architecture.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOOS + "/" + runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

// commit names the harness code: the last commit that changed anything but
// the results (so committing a report does not change the next rendering of
// it), from git when it is at hand, else the revision Go stamped into the
// binary.
func commit() string {
	outside := []string{"--", ".", ":(exclude)results", ":(exclude)runs", ":(exclude)bin"}
	if out, err := exec.Command("git", append([]string{"log", "-1", "--format=%h"}, outside...)...).Output(); err == nil && len(out) > 0 {
		rev := strings.TrimSpace(string(out))
		if st, err := exec.Command("git", append([]string{"status", "--porcelain"}, outside...)...).Output(); err == nil && len(st) > 0 {
			rev += " + uncommitted changes"
		}
		return rev
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "unknown", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
			if len(rev) > 12 {
				rev = rev[:12]
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty {
		rev += " + uncommitted changes"
	}
	return rev
}

// uniqueOutcomes returns the sections' runs once each (tables share runs).
func uniqueOutcomes(sections []Section) []runner.Outcome {
	seen := map[string]bool{}
	var out []runner.Outcome
	for _, s := range sections {
		for _, o := range s.Outcomes {
			if !seen[o.Dir] {
				seen[o.Dir] = true
				out = append(out, o)
			}
		}
	}
	return out
}

// computeOf sums the training and wall seconds of distinct runs.
func computeOf(outs []runner.Outcome) (n int, train, wall float64) {
	seen := map[string]bool{}
	for _, o := range outs {
		if seen[o.Dir] || o.Result == nil {
			continue
		}
		seen[o.Dir] = true
		n++
		train += o.Result.TrainSeconds
		wall += o.Result.WallSeconds
	}
	return n, train, wall
}

func hours(sec float64) string {
	if sec < 3600 {
		return fmt.Sprintf("%.0f min", sec/60)
	}
	return fmt.Sprintf("%.1f h", sec/3600)
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
