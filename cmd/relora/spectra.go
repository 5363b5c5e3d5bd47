package main

import (
	"fmt"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/spectra"
)

// spectraCmd regenerates the paper's Fig. 5 from the full-rank, LoRA+WS and
// ReLoRA runs of Table 1 (trained only if they are not cached).
func spectraCmd(args []string) error {
	m, p, err := parseMatrix("spectra", args)
	if err != nil {
		return err
	}
	runs := experiments.Spectra(p)
	outs, done, err := m.execute(runs)
	if err != nil || !done {
		return err
	}
	t, err := spectra.Build(runs, outs)
	if err != nil {
		return err
	}
	if err := spectra.Write(m.results, t); err != nil {
		return err
	}
	fmt.Println(t.Report().Text())
	printClaims(t.Claims)
	fmt.Printf("\nwrote %s/%s, %s and figures\n", m.results, spectra.MarkdownFile, spectra.JSONFile)
	return nil
}
