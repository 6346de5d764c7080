package chart

import (
	"fmt"
	"image"
	"image/png"
	"io"

	"github.com/segment-dev/segment/internal/atomicfile"
)

// WritePNG writes img to path as a PNG file, atomically: a temporary file in the same
// directory is written, synced and renamed over path, so that on any error whatever was at
// path is left as it was (see package atomicfile).
func WritePNG(path string, img image.Image) error {
	if img == nil {
		return fmt.Errorf("chart: write %s: nil image", path)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}
