// Command sealrecords seals, once, the run records committed before records
// carried a manifest: each record's files are cross-checked (config hash,
// result against metrics) and only then given a manifest. Records that are
// sealed already are left alone.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/relorago/harness/runner"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sealrecords <records folder, e.g. results/runs>")
		os.Exit(2)
	}
	entries, err := os.ReadDir(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sealrecords:", err)
		os.Exit(1)
	}
	sealed, failed := 0, 0
	for _, e := range entries {
		dir := filepath.Join(os.Args[1], e.Name())
		if !e.IsDir() || e.Name()[0] == '.' {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, runner.ManifestFile)); err == nil {
			continue
		}
		if err := runner.SealLegacyRecord(dir); err != nil {
			fmt.Fprintln(os.Stderr, "sealrecords:", err)
			failed++
			continue
		}
		sealed++
	}
	fmt.Printf("sealed %d records, %d refused\n", sealed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
