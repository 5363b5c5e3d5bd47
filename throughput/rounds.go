package throughput

import "sort"

// MedianOfRounds merges several rounds of the same plan into one: for each
// probe, the measurement with the median over rounds of its speed-up over
// the paired full-rank steps (of its tokens/s when unpaired). Probes run
// one process after another, so drift of the machine (clock, the other
// core's load) between a full-rank probe and its ReLoRA probe would go
// straight into their ratio; repeating the whole plan in rounds and taking
// medians spreads that drift over both sides.
func MedianOfRounds(rounds [][][]Measurement) [][]Measurement {
	if len(rounds) == 0 {
		return nil
	}
	out := make([][]Measurement, len(rounds[0]))
	for b := range rounds[0] {
		out[b] = make([]Measurement, len(rounds[0][b]))
		for s := range rounds[0][b] {
			var ms []Measurement
			for _, r := range rounds {
				ms = append(ms, r[b][s])
			}
			sort.Slice(ms, func(i, j int) bool { return speedKey(ms[i]) < speedKey(ms[j]) })
			out[b][s] = ms[len(ms)/2]
		}
	}
	return out
}

func speedKey(m Measurement) float64 {
	if m.Paired {
		return m.TokensPerSec / m.FullTokensPerSec
	}
	return m.TokensPerSec
}
