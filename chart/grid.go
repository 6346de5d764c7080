package chart

import (
	"image"
	"image/draw"
)

// Grid places imgs into one image, cols to a row, left to right and top to bottom: two
// charts side by side with cols 2, stacked with cols 1. Every cell is as large as the
// largest image, each image is centred in its cell, and the rest is white. A nil image
// leaves its cell empty. Cols below 1 or above len(imgs) puts all the images in one row.
// With no images the result is empty (0 x 0).
func Grid(cols int, imgs ...image.Image) image.Image {
	if cols < 1 || cols > len(imgs) {
		cols = len(imgs)
	}
	if cols == 0 {
		return image.NewRGBA(image.Rectangle{})
	}
	rows := (len(imgs) + cols - 1) / cols
	cw, ch := 0, 0
	for _, im := range imgs {
		if im != nil {
			b := im.Bounds()
			cw, ch = max(cw, b.Dx()), max(ch, b.Dy())
		}
	}
	out := newCanvas(cols*cw, rows*ch)
	for i, im := range imgs {
		if im == nil {
			continue
		}
		b := im.Bounds()
		at := image.Pt((i%cols)*cw+(cw-b.Dx())/2, (i/cols)*ch+(ch-b.Dy())/2)
		draw.Draw(out, image.Rectangle{Min: at, Max: at.Add(b.Size())}, im, b.Min, draw.Over)
	}
	return out
}
