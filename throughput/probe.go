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

// RunProbes measures every spec at the same time, each in its own process
// (`binary probe '<spec JSON>'`), so that concurrent specs share the cores
// the way a matrix's workers do and each reports its own peak memory.
func RunProbes(binary string, specs []Spec) ([]Measurement, error) {
	out := make([]Measurement, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arg, err := json.Marshal(spec)
			if err != nil {
				errs[i] = err
				return
			}
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(binary, ProbeCommand, string(arg))
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("throughput: probe %s: %v: %s", arg, err, stderr.String())
				return
			}
			if err := json.Unmarshal(stdout.Bytes(), &out[i]); err != nil {
				errs[i] = fmt.Errorf("throughput: probe %s printed %q: %w", arg, stdout.String(), err)
			}
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
