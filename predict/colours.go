package predict

import (
	"image/color"
	"math"

	"github.com/segment-dev/segment/dataset"
)

// OverlayColours gives the colour each class of c is drawn in over an image, and whether
// it is drawn at all: a binary model's background is not, its foreground is in the first
// distinct colour; colour masks draw each class in its own colour; other classes in the
// distinct colours by index.
func OverlayColours(c dataset.Classes) (colours []color.RGBA, drawn []bool) {
	colours = make([]color.RGBA, len(c.Values))
	drawn = make([]bool, len(c.Values))
	for k, v := range c.Values {
		switch {
		case c.Binary() && k == 0: // a binary model's background stays as it is
		case c.Colour:
			colours[k], drawn[k] = color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}, true
		case c.Binary():
			colours[k], drawn[k] = classColour(0), true
		default:
			colours[k], drawn[k] = classColour(k), true
		}
	}
	return colours, drawn
}

// distinct are colours that stay apart from each other and from gray, for drawing classes
// over an image (Sasha Trubetskoy's list of 20 distinct colours, most distinct first).
var distinct = []color.RGBA{
	{230, 25, 75, 255}, {60, 180, 75, 255}, {255, 225, 25, 255}, {0, 130, 200, 255},
	{245, 130, 48, 255}, {145, 30, 180, 255}, {70, 240, 240, 255}, {240, 50, 230, 255},
	{210, 245, 60, 255}, {250, 190, 212, 255}, {0, 128, 128, 255}, {220, 190, 255, 255},
	{170, 110, 40, 255}, {255, 250, 200, 255}, {128, 0, 0, 255}, {170, 255, 195, 255},
	{128, 128, 0, 255}, {255, 215, 180, 255}, {0, 0, 128, 255}, {128, 128, 128, 255},
}

// classColour gives the overlay colour of the i-th coloured class: the list above, then hues
// a golden angle apart, which never repeat.
func classColour(i int) color.RGBA {
	if i < len(distinct) {
		return distinct[i]
	}
	h := math.Mod(float64(i)*137.50776, 360) / 60
	x := 1 - math.Abs(math.Mod(h, 2)-1)
	var r, g, b float64
	switch int(h) {
	case 0:
		r, g = 1, x
	case 1:
		r, g = x, 1
	case 2:
		g, b = 1, x
	case 3:
		g, b = x, 1
	case 4:
		r, b = x, 1
	default:
		r, b = 1, x
	}
	return color.RGBA{uint8(40 + 215*r), uint8(40 + 215*g), uint8(40 + 215*b), 255}
}
