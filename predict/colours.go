package predict

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/dataset"
)

// OverlayColours gives the colour each class of c is drawn in over an image, and whether
// it is drawn by default: a binary model's background is not (when chosen, it is in the
// second distinct colour), its foreground is in the first distinct colour; colour masks
// draw each class in its own colour; other classes in the distinct colours by index.
func OverlayColours(c dataset.Classes) (colours []color.RGBA, drawn []bool) {
	colours = make([]color.RGBA, len(c.Values))
	drawn = make([]bool, len(c.Values))
	for k, v := range c.Values {
		switch {
		case c.Binary() && k == 0: // a binary model's background stays as it is, unless chosen
			colours[k] = classColour(1)
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

// OverlayStyle says how an overlay draws the classes.
type OverlayStyle struct {
	// Classes, when not nil, says for each class index whether the overlay draws it, in
	// place of the default of OverlayColours (see ChooseClasses).
	Classes []bool
	// Outline, when above 0, draws the boundary of each region, Outline pixels wide,
	// instead of filling it: with instances, the boundary of each object, so that touching
	// objects keep the line between them. See outlineEdges for which pixels that is.
	Outline int
}

// MaxOutline is the widest outline an overlay draws, in pixels: its distances are bytes.
const MaxOutline = 250

// ChooseClasses reads a list of classes of c to draw, separated by commas, each by name
// (as Classes.Name gives it, in any case: "foreground", "class 2") or by class index
// ("2"), into the flags of OverlayStyle.Classes. A name wins over an index, so that a
// class called "1" is that class. An unknown class is an error listing the classes.
func ChooseClasses(c dataset.Classes, list string) ([]bool, error) {
	drawn := make([]bool, len(c.Values))
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		k := -1
		for i := range c.Values {
			if strings.EqualFold(c.Name(i), s) {
				k = i
				break
			}
		}
		if k < 0 {
			if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(c.Values) {
				k = i
			}
		}
		if k < 0 {
			return nil, fmt.Errorf("unknown class %q: the model's classes are %s", s, knownClasses(c))
		}
		drawn[k] = true
	}
	return drawn, nil
}

// knownClasses lists the classes of c by index and name, for an error message.
func knownClasses(c dataset.Classes) string {
	names := make([]string, len(c.Values))
	for i := range c.Values {
		names[i] = fmt.Sprintf("%d %q", i, c.Name(i))
	}
	return strings.Join(names, ", ")
}
