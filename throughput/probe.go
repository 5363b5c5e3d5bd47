package throughput

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
)

// ProbeCommand is the hidden subcommand of the relora binary that runs one
// Measure in its own process and prints the Measurement as JSON.
const ProbeCommand = "probe"

// RunProbes runs the specs, each in its own process (`binary probe '<spec
// JSON>'`), at most parallel at a time, and returns their measurements in
// spec order.
func RunProbes(binary string, specs []Spec, parallel int) ([]Measurement, error) {
	out := make([]Measurement, len(specs))
	errs := make([]error, len(specs))
	sem := make(chan struct{}, max(1, parallel))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = runProbe(binary, spec)
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

func runProbe(binary string, spec Spec) (Measurement, error) {
	arg, err := json.Marshal(spec)
	if err != nil {
		return Measurement{}, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(binary, ProbeCommand, string(arg))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return Measurement{}, fmt.Errorf("throughput: probe %s: %v: %s", arg, err, stderr.String())
	}
	var m Measurement
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		return Measurement{}, fmt.Errorf("throughput: probe %s printed %q: %w", arg, stdout.String(), err)
	}
	return m, nil
}
