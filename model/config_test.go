package model

import (
	"strings"
	"testing"
)

// A typo in a config file is an error naming the field, not an attempt to
// allocate exabytes (or an int overflow).
func TestValidateRefusesAbsurdShapes(t *testing.T) {
	tiny, _ := Preset("tiny")
	for name, tc := range map[string]struct {
		edit func(*Config)
		want string
	}{
		"dim 1e9":     {func(c *Config) { c.Dim = 1e9 }, "dim must be in"},
		"layers 1e6":  {func(c *Config) { c.Layers = 1e6 }, "layers must be in"},
		"vocab 65536": {func(c *Config) { c.Vocab, c.Dim, c.Heads, c.FFN, c.Layers = 65536, 8192, 64, 60000, 20 }, "exceed the limit"},
		"seq_len 1e6": {func(c *Config) { c.SeqLen = 1e6 }, "seq_len must be in"},
		"ffn 0":       {func(c *Config) { c.FFN = 0 }, "ffn must be in"},
	} {
		c := tiny
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", name, err, tc.want)
		}
	}
	big := tiny
	big.Dim, big.Heads, big.FFN = 1024, 16, 2816 // a d 1024 model (50M parameters) is allowed
	if err := big.Validate(); err != nil {
		t.Errorf("d 1024: %v", err)
	}
}
