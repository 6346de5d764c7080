package atomicfile

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
)

// pngEncoder favours speed: masks and charts compress well at any level, and the
// prediction of a huge image should not wait on deflate.
var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// WritePNG writes img to path as a PNG file, atomically as Write does. It is the one PNG
// writer of the project: masks, probability maps, overlays and charts all go through it.
func WritePNG(path string, img image.Image) error {
	if img == nil {
		return fmt.Errorf("write %s: %w", path, errors.New("nil image"))
	}
	return Write(path, func(w io.Writer) error { return pngEncoder.Encode(w, img) })
}
