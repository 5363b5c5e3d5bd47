package data

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// gunzip decompresses a whole gzip stream. A stream cut short (a partial
// download or copy) or damaged is an error that says so.
func gunzip(r io.Reader) ([]byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("gzip stream is truncated (the file is cut short)")
		}
		return nil, fmt.Errorf("not a valid gzip stream: %w", err)
	}
	defer zr.Close()
	b, err := io.ReadAll(zr)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, errors.New("gzip stream is truncated (the file is cut short)")
	case err != nil:
		return nil, fmt.Errorf("gzip stream is corrupt: %w", err)
	}
	return b, nil
}
