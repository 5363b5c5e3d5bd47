package report

import (
	"github.com/relorago/harness/atomicfile"

	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// PNGDPI is the resolution of the PNG files: high enough for slides and
// papers, small enough that a 6×4 in figure stays around 100 kB.
const PNGDPI = 150

// maxInches bounds figure sides so that a unit mix-up (pixels passed as
// inches) fails with an error instead of allocating gigabytes for the PNG.
const maxInches = 100

// checkSize validates a figure size in inches.
func checkSize(width, height float64) error {
	if !(width > 0 && height > 0) || width > maxInches || height > maxInches || !finite(width) || !finite(height) {
		return fmt.Errorf("figure size must be in (0, %d] inches, got %g×%g", maxInches, width, height)
	}
	return nil
}

// basePath strips an image extension the caller may have added by habit, so
// "fig.png" does not become "fig.png.png". Other dots (e.g. "lr_1e-3.run")
// are kept because they are part of the name.
func basePath(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".svg":
		return strings.TrimSuffix(path, filepath.Ext(path))
	}
	return path
}

// saveFigure renders drawFn once to PNG and once to SVG and writes both files.
// Rendering happens in memory first so a failure leaves no half-written or
// mismatched pair on disk; files are replaced atomically (temp + rename) so
// a reader never sees a truncated image.
func saveFigure(path string, w, h vg.Length, drawFn func(draw.Canvas)) error {
	if path == "" {
		return errors.New("report: empty output path")
	}
	path = basePath(path)
	pngBytes, svgBytes, err := render(w, h, drawFn)
	if err != nil {
		return fmt.Errorf("report: rendering %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writeAtomic(path+".png", pngBytes); err != nil {
		return err
	}
	return writeAtomic(path+".svg", svgBytes)
}

// render draws the figure on both back-ends. gonum/plot reports some
// problems by panicking; they are turned into errors because a bad figure
// must not abort a long regeneration run.
func render(w, h vg.Length, drawFn func(draw.Canvas)) (pngBytes, svgBytes []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plot library panic: %v", r)
		}
	}()
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PNGDPI))
	drawFn(draw.New(img))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, nil, err
	}

	sc := vgsvg.New(w, h)
	drawFn(draw.New(sc))
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	svg := bytes.ReplaceAll(sb.Bytes(), []byte(svgFontFallback[0]), []byte(svgFontFallback[1]))
	return pb.Bytes(), svg, nil
}

// writeAtomic writes a file so readers never see half of it.
func writeAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
