package predict

import (
	"fmt"

	"github.com/segment-dev/segment/dataset"
)

// Source is an image as the network reads it: its size, its channels, and a way to get
// rows of it as float32 planes. Prediction reads a band of rows at a time, so a Source need
// not hold the image as float32.
type Source struct {
	Width, Height, Channels int
	// Rows writes rows y0 to y0+n-1 (inside the image) into dst as Channels planes of
	// n x Width: channel c of (x, y0+r) at (c*n+r)*Width+x.
	Rows func(dst []float32, y0, n int) error
}

// FromImage reads a decoded image file a band at a time.
func FromImage(im *dataset.Image) Source {
	return Source{Width: im.Width, Height: im.Height, Channels: im.Channels, Rows: im.Rows}
}

// FromPlanes reads an image held as c planes of h x w float32 (a dataset sample, say).
func FromPlanes(pix []float32, c, h, w int) Source {
	return Source{Width: w, Height: h, Channels: c, Rows: func(dst []float32, y0, n int) error {
		if len(pix) != c*h*w {
			return fmt.Errorf("predict: %d values for %d planes of %dx%d", len(pix), c, w, h)
		}
		if y0 < 0 || n < 1 || y0+n > h || len(dst) != c*n*w {
			return fmt.Errorf("predict: rows %d to %d of %d into %d values", y0, y0+n-1, h, len(dst))
		}
		for k := 0; k < c; k++ {
			copy(dst[k*n*w:(k+1)*n*w], pix[(k*h+y0)*w:(k*h+y0+n)*w])
		}
		return nil
	}}
}
