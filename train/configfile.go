package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeConfig reads a config file (a run's config.json, or what --config
// names): one JSON object of Config's fields. Fields it leaves out keep the
// values of Default("tiny"), as the command line's --config always did;
// unknown fields, anything but whitespace after the object, and a config
// that Validate refuses are errors. The fields that are not part of the
// JSON (Threads, Quiet, OutDir, ...) keep Default's values.
func DecodeConfig(b []byte) (Config, error) {
	cfg, err := Default("tiny")
	if err != nil {
		return Config{}, err
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return Config{}, errors.New("config: not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Config{}, errors.New("config: data after the JSON object")
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
