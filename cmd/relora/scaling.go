package main

import (
	"fmt"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/scaling"
)

// scalingCmd regenerates the paper's Tables 2 and 3.
func scalingCmd(args []string) error {
	m, p, err := parseMatrix("scaling", args)
	if err != nil {
		return err
	}
	runs, err := experiments.Scaling(p)
	if err != nil {
		return err
	}
	outs, done, err := m.execute(runs)
	if err != nil || !done {
		return err
	}
	t, err := scaling.Build(p, runs, outs)
	if err != nil {
		return err
	}
	if err := scaling.Write(m.results, t); err != nil {
		return err
	}
	fmt.Print(t.Markdown())
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, scaling.MarkdownFile, scaling.JSONFile)
	return nil
}
