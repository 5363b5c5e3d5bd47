package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/finetune"
	"github.com/relorago/harness/runner"
)

// captureStdout runs f with os.Stdout going to a buffer.
func captureStdout(t *testing.T, f func() error) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	ferr := f()
	w.Close()
	os.Stdout = old
	out := <-done
	if ferr != nil {
		t.Fatal(ferr)
	}
	return string(out)
}

// relora finetune at the quick preset: with an empty cache -print-commands
// names only the pre-trained run; the command trains it and Table 5, and a
// second run trains nothing; then no command is left to print.
func TestFinetuneCommand(t *testing.T) {
	runs, results := t.TempDir(), t.TempDir()
	args := []string{"-preset", "quick", "-j", "2", "-runs", runs, "-results", results}
	p, _ := experiments.Get("quick")
	spec, _ := experiments.Finetune(p)
	pre := runner.Hash(spec.Pretrained.Config)

	cmds := captureStdout(t, func() error { return command("finetune")(append(args, "-print-commands")) })
	if lines := strings.Split(strings.TrimSpace(cmds), "\n"); len(lines) != 1 || !strings.Contains(lines[0], pre) {
		t.Fatalf("first commands: %q, want the pre-trained run %s alone", cmds, pre)
	}
	captureStdout(t, func() error { return command("finetune")(args) })
	md, err := os.ReadFile(filepath.Join(results, finetune.MarkdownFile))
	if err != nil || !bytes.Contains(md, []byte("Table 5")) {
		t.Fatalf("finetune.md: %v", err)
	}
	before, _ := os.ReadDir(runs)
	out := captureStdout(t, func() error { return command("finetune")(args) })
	after, _ := os.ReadDir(runs)
	if len(after) != len(before) || !strings.Contains(out, "Table 5") {
		t.Fatalf("second run: %d run folders, then %d", len(before), len(after))
	}
	if cmds := captureStdout(t, func() error { return command("finetune")(append(args, "-print-commands")) }); cmds != "" {
		t.Fatalf("commands left after a finished table:\n%s", cmds)
	}
}
