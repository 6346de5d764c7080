package predict

import (
	"image"
	"image/png"
	"io"

	"github.com/segment-dev/segment/internal/atomicfile"
)

// encoder favours speed: masks compress well at any level, and a huge image's prediction
// should not wait on deflate.
var encoder = png.Encoder{CompressionLevel: png.BestSpeed}

// WritePNG writes img to path as PNG atomically (internal/atomicfile): a reader, or a crash,
// never sees half a file, and a failed write leaves an existing file as it was.
func WritePNG(path string, img image.Image) error {
	return atomicfile.Write(path, func(w io.Writer) error { return encoder.Encode(w, img) })
}
