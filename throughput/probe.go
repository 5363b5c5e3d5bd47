package throughput

import "github.com/relorago/harness/probe"

// ProbeCommand is the hidden subcommand of the relora binary that runs one
// Measure in its own process and prints the Measurement as JSON.
const ProbeCommand = "probe"

// RunProbes runs the specs, each in its own process (`binary probe '<spec
// JSON>'`), at most parallel at a time, and returns their measurements in
// spec order.
func RunProbes(binary string, specs []Spec, parallel int) ([]Measurement, error) {
	return probe.Run[Spec, Measurement](binary, ProbeCommand, specs, parallel)
}
