package stream

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cacheDir is where Linux describes cpu0's caches, one indexN folder each.
const cacheDir = "/sys/devices/system/cpu/cpu0/cache"

// LastLevelCache returns the size in bytes of cpu0's highest-level data or
// unified cache, read from sysfs (Linux only). A working set larger than
// it has to come from memory on every pass; a smaller one may stay cached.
func LastLevelCache() (int64, error) {
	dirs, err := filepath.Glob(filepath.Join(cacheDir, "index*"))
	if err != nil || len(dirs) == 0 {
		return 0, errors.New("stream: no cache description in " + cacheDir)
	}
	level, size := 0, int64(0)
	for _, d := range dirs {
		typ := readTrim(filepath.Join(d, "type"))
		if typ != "Data" && typ != "Unified" {
			continue
		}
		l, err1 := strconv.Atoi(readTrim(filepath.Join(d, "level")))
		s, err2 := parseSize(readTrim(filepath.Join(d, "size")))
		if err1 != nil || err2 != nil {
			continue
		}
		if l > level {
			level, size = l, s
		}
	}
	if size == 0 {
		return 0, errors.New("stream: no readable cache size in " + cacheDir)
	}
	return size, nil
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// parseSize reads sysfs's cache sizes: "32768K", "1M", or plain bytes.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("stream: cache size %q", s)
	}
	return v * mult, nil
}
