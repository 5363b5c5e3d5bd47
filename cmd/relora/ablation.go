package main

import (
	"fmt"
	"strings"

	"github.com/relorago/harness/ablation"
	"github.com/relorago/harness/experiments"
)

// ablationCmd regenerates the paper's Table 1.
func ablationCmd(args []string) error {
	m, p, err := parseMatrix("ablation", args)
	if err != nil {
		return err
	}
	var names []string
	if m.rows != "" {
		names = strings.Split(m.rows, ",")
	}
	rows, err := experiments.AblationRowsNamed(names)
	if err != nil {
		return err
	}
	runs := experiments.AblationOf(p, rows)
	outs, done, err := m.execute(runs)
	if err != nil || !done {
		return err
	}
	t, err := ablation.Build(p, runs, outs)
	if err != nil {
		return err
	}
	if err := ablation.Write(m.results, t, runs, outs); err != nil {
		return err
	}
	fmt.Println(t.Report().Text())
	printClaims(t.Claims)
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, ablation.MarkdownFile, ablation.JSONFile)
	return nil
}
