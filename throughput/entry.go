package throughput

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/tables"
)

// Entry is Table 4 in the harness's registry of tables. It trains no runs:
// it measures, in probe processes the command starts, so the command
// wires in Measure (and its own subcommand, whose flags are a
// measurement's rather than a matrix's).
type Entry struct {
	// Measure measures Table 4 for a preset and writes its files.
	Measure func(p experiments.Preset, results string) (*Table, error)
	// Cmd is the `relora throughput` subcommand.
	Cmd func(args []string) error
}

func (Entry) Name() string { return "throughput" }
func (Entry) About() string {
	return "Table 4: full-rank vs ReLoRA step speed and memory across widths"
}
func (Entry) Section() string { return "Table 4 — throughput" }
func (Entry) Source() string  { return "Table 4" }
func (Entry) File() string    { return MarkdownFile }
func (Entry) Target() string  { return "throughput" }

// Command runs the subcommand.
func (e Entry) Command(args []string) error { return e.Cmd(args) }

func (Entry) Runs(tables.Env) ([]experiments.Run, error)  { return nil, nil }
func (Entry) Needs(tables.Env) ([]experiments.Run, error) { return nil, nil }

// Build reuses the results folder's Table 4 when it was measured for this
// preset: measuring takes minutes and needs a quiet machine, so it
// measures only when asked to (env.Remeasure). A table not measured yet is
// a section that says how to measure it.
func (e Entry) Build(env tables.Env) (*tables.Built, error) {
	p := env.Preset()
	if env.Remeasure() {
		t, err := e.Measure(p, env.Results())
		if err != nil {
			return nil, err
		}
		return &tables.Built{Table: t, Markdown: t.Markdown(), Terminal: t.Markdown(), Note: "Measured while rendering this report."}, nil
	}
	t, err := Read(env.Results())
	switch {
	case err == nil && t.Preset == p.Name:
		return &tables.Built{Table: t, Markdown: t.Markdown(), Terminal: t.Markdown(),
			Note: "Measured by `make throughput` and reused from `" + filepath.Join(env.Results(), JSONFile) +
				"`; `make report REMEASURE=1` measures it again."}, nil
	case err == nil:
		fmt.Fprintf(os.Stderr, "  %s is for preset %q, not %q: not measured\n", JSONFile, t.Preset, p.Name)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	return &tables.Built{Note: "Not measured yet: `make throughput` measures it (on a quiet machine)."}, nil
}
