package train

import (
	"bufio"
	"os"
	"runtime"
	"strings"
)

// CPUModel names the processor (Linux's /proc/cpuinfo model name; elsewhere
// the architecture), so a result says which machine it was trained on.
func CPUModel() string {
	if v := cpuInfo("model name"); v != "" {
		return v
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

// CPUGeneration is the processor's family and model numbers as
// /proc/cpuinfo gives them ("family 25, model 1"; "" where it gives none).
// A model name such as "AMD EPYC" can stand for several generations of
// different speed, which the numbers tell apart.
func CPUGeneration() string {
	fam, mod := cpuInfo("cpu family"), cpuInfo("model")
	if fam == "" || mod == "" {
		return ""
	}
	return "family " + fam + ", model " + mod
}

// cpuInfo is the first value of key in /proc/cpuinfo ("" if none).
func cpuInfo(key string) string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
