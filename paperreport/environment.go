package paperreport

import (
	"fmt"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/relorago/harness/kernels/gemm"
	"github.com/relorago/harness/runner"
)

// Environment is where the report's numbers come from. Everything in it is
// read from the binary, git and the runs' results, not the clock nor the
// machine rendering it, so that rendering twice — here or on a fresh clone
// from the committed run records — gives the same file.
type Environment struct {
	GoVersion string // of the rendering binary
	Backend   string // GEMM backend compiled into the rendering binary
	Commit    string // harness commit the binary was built from ("+ changes" if the tree was dirty)

	// Recorded by the runs themselves (result.json): they may have been
	// trained elsewhere, e.g. on a cluster.
	RunGoVersions []string
	RunBackends   []string
	RunCPUs       []string // machines the runs were trained on
	RunsFinished  string   // date the newest run finished
}

// ReadEnvironment describes this machine and binary, and the runs of the
// sections.
func ReadEnvironment(sections []Section) Environment {
	e := Environment{GoVersion: runtime.Version(), Backend: gemm.Backend, Commit: commit()}
	goVersions, backends, cpus := map[string]bool{}, map[string]bool{}, map[string]bool{}
	newest := ""
	for _, o := range uniqueOutcomes(sections) {
		if o.Result == nil {
			continue
		}
		goVersions[o.Result.Corpus.GoVersion] = true
		backends[o.Result.GemmBackend] = true
		if o.Result.CPU != "" {
			cpus[o.Result.CPU] = true
		}
		newest = max(newest, o.Result.FinishedAt)
	}
	e.RunGoVersions, e.RunBackends, e.RunCPUs = sortedKeys(goVersions), sortedKeys(backends), sortedKeys(cpus)
	if len(newest) >= len("2006-01-02") {
		e.RunsFinished = newest[:len("2006-01-02")]
	}
	return e
}

func (r *Report) writeEnvironment(b *strings.Builder) {
	b.WriteString("## Environment\n\n")
	fmt.Fprintf(b, "- **Harness:** commit `%s`, rendered with %s, GEMM backend `%s`.\n", r.Env.Commit, r.Env.GoVersion, r.Env.Backend)
	if len(r.Env.RunGoVersions) > 0 {
		fmt.Fprintf(b, "- **Runs:** trained with %s (GEMM backend %s) on %s, one core per run; the newest finished on %s.\n",
			strings.Join(r.Env.RunGoVersions, ", "), strings.Join(r.Env.RunBackends, ", "), orUnknown(r.Env.RunCPUs), r.Env.RunsFinished)
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

func orUnknown(xs []string) string {
	if len(xs) == 0 {
		return "an unrecorded machine"
	}
	return strings.Join(xs, ", ")
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
