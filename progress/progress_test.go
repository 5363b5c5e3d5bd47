package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLinesInLogsNotFrames(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "matrix", "step", 100, 10)
	b.(*lineBar).every = time.Hour // only the first Add and Finish print
	for i := 0; i < 90; i++ {
		b.Add(1)
	}
	b.Describe("loss 1.23")
	b.Finish()
	b.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || strings.Contains(buf.String(), "\r") {
		t.Fatalf("want 2 plain lines, got %q", buf.String())
	}
	if !strings.HasPrefix(lines[1], "matrix: 100/100 step (100%)") || !strings.Contains(lines[1], "ETA") || !strings.Contains(lines[1], "loss 1.23") {
		t.Fatalf("last line %q", lines[1])
	}
}
