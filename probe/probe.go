// Package probe runs measurements each in a fresh process of the relora
// binary (`binary <command> '<spec JSON>'`, printing its result as JSON),
// so that what one measures — above all its peak resident memory — is
// its own and not the parent's or a sibling's.
package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
)

// Run runs every spec in its own process, at most parallel at a time, and
// returns the results in spec order.
func Run[S, R any](binary, command string, specs []S, parallel int) ([]R, error) {
	out := make([]R, len(specs))
	errs := make([]error, len(specs))
	sem := make(chan struct{}, max(1, parallel))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = one[S, R](binary, command, spec)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func one[S, R any](binary, command string, spec S) (R, error) {
	var r R
	arg, err := json.Marshal(spec)
	if err != nil {
		return r, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(binary, command, string(arg))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return r, fmt.Errorf("probe %s %s: %v: %s", command, arg, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return r, fmt.Errorf("probe %s %s printed %q: %w", command, arg, stdout.String(), err)
	}
	return r, nil
}
