package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// StepMetrics is one line of metrics.jsonl. It holds only numbers that are a
// function of the config, so equal configs give byte-identical files; wall
// clock measurements go to timing.jsonl.
type StepMetrics struct {
	Step     int      `json:"step"` // 1-based: the line is written after optimizer step Step
	Loss     float64  `json:"loss"`
	LR       float64  `json:"lr"`
	GradNorm float64  `json:"grad_norm"`
	ValLoss  *float64 `json:"val_loss,omitempty"`
	Event    string   `json:"event,omitempty"` // method events at this step (switch, merge, ...)
}

// StepTiming is one line of timing.jsonl.
type StepTiming struct {
	Step       int     `json:"step"`
	StepMillis float64 `json:"step_ms"`
	TokensPerS float64 `json:"tok_s"`
}

// jsonlWriter appends JSON lines to a file, flushing each line so that an
// interrupted run keeps everything it logged.
type jsonlWriter struct {
	f *os.File
}

func openJSONL(path string) (*jsonlWriter, error) {
	if path == "" {
		return &jsonlWriter{}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &jsonlWriter{f: f}, nil
}

func (w *jsonlWriter) write(v any) error {
	if w.f == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.f.Write(append(b, '\n'))
	return err
}

func (w *jsonlWriter) Close() error {
	if w.f == nil {
		return nil
	}
	return w.f.Close()
}

// truncateJSONL keeps the lines of a JSONL file whose "step" is ≤ lastStep:
// on resume, the steps after the checkpoint are run and logged again. With
// complete, the kept lines must be steps 1, 2, ..., lastStep exactly (a torn
// or missing line among them is an error naming it); a torn line after
// lastStep is what a killed process leaves and is dropped.
func truncateJSONL(path string, lastStep int, complete bool) error {
	kept, err := linesUpTo(path, lastStep, complete)
	if err != nil || kept == nil {
		return err
	}
	return WriteFileAtomic(path, kept)
}

// linesUpTo returns the leading lines of a JSONL file whose "step" is ≤
// lastStep, or nil if the file does not exist. Without complete it stops at
// the first line that does not parse.
func linesUpTo(path string, lastStep int, complete bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		if complete && lastStep > 0 {
			return nil, fmt.Errorf("%s is missing, but the checkpoint is at step %d: the run's log is lost (use --fresh to start over)", path, lastStep)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := []byte{}
	want := 1
	for i, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 {
			break
		}
		var head struct {
			Step *int `json:"step"`
		}
		torn := line[len(line)-1] != '\n' || json.Unmarshal(line, &head) != nil || head.Step == nil
		switch {
		case torn && want > lastStep:
			return out, nil // the last, half-written line of a killed process
		case torn && complete:
			return nil, fmt.Errorf("%s line %d is torn (%q) but the checkpoint is at step %d: the run's log is damaged (use --fresh to start over)",
				path, i+1, clip(line), lastStep)
		case torn:
			return out, nil
		case *head.Step > lastStep:
			return out, nil
		case complete && *head.Step != want:
			return nil, fmt.Errorf("%s line %d is step %d, want step %d: the run's log is damaged (use --fresh to start over)", path, i+1, *head.Step, want)
		}
		out = append(out, line...)
		want++
	}
	if complete && want <= lastStep {
		return nil, fmt.Errorf("%s ends at step %d, but the checkpoint is at step %d: the run's log is damaged (use --fresh to start over)", path, want-1, lastStep)
	}
	return out, nil
}

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}

// ReadMetrics loads a metrics.jsonl file.
func ReadMetrics(path string) ([]StepMetrics, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ms []StepMetrics
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m StepMetrics
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// copyJSONL writes to dst the lines of src whose step is ≤ lastStep (the
// warm start's metrics, when a run starts from another run's checkpoint). A
// missing src is not an error: curves then start at the switch.
func copyJSONL(src, dst string, lastStep int) error {
	kept, err := linesUpTo(src, lastStep, false)
	if err != nil || kept == nil {
		return err
	}
	return WriteFileAtomic(dst, kept)
}
