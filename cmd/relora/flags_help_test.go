package main

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

// -h lists every flag with its default and without a panic from the
// wrapper that refuses repeated flags.
func TestHelpListsFlagsWithoutPanic(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Float64("lr", 1e-3, "peak learning rate")
	fs.Bool("quiet", false, "no progress")
	refuseRepeats(fs)
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.PrintDefaults()
	if s := out.String(); strings.Contains(s, "panic") || !strings.Contains(s, "(default 0.001)") || !strings.Contains(s, "-quiet") {
		t.Fatalf("help:\n%s", s)
	}
}
