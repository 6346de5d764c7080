package chart

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Font metrics of basicfont.Face7x13, in pixels.
const (
	fontW      = 7  // advance of every glyph
	fontH      = 13 // line height
	fontAscent = 11 // baseline below the top of a line
	capHalf    = 5  // baseline below the middle of a digit or capital letter
)

// Layout constants, in pixels.
const (
	margin  = 10 // outer margin of every chart
	tickLen = 4  // length of a tick mark outside the frame
	maxSide = 1 << 14
)

// Colours of the parts of a chart other than the data.
var (
	white     = color.RGBA{0xff, 0xff, 0xff, 0xff}
	inkText   = color.RGBA{0x26, 0x26, 0x26, 0xff}
	inkAxis   = color.RGBA{0x59, 0x59, 0x59, 0xff}
	inkGrid   = color.RGBA{0xe2, 0xe2, 0xe2, 0xff}
	inkMinor  = color.RGBA{0xf0, 0xf0, 0xf0, 0xff}
	inkBorder = color.RGBA{0xc8, 0xc8, 0xc8, 0xff}
	nanGrey   = color.RGBA{0xbe, 0xbe, 0xbe, 0xff}
)

// palette is the Okabe-Ito colour-blind-safe palette, in the order series take it: blue,
// vermillion, bluish green, reddish purple, orange, sky blue, yellow, black.
var palette = [...]color.RGBA{
	{0x00, 0x72, 0xb2, 0xff},
	{0xd5, 0x5e, 0x00, 0xff},
	{0x00, 0x9e, 0x73, 0xff},
	{0xcc, 0x79, 0xa7, 0xff},
	{0xe6, 0x9f, 0x00, 0xff},
	{0x56, 0xb4, 0xe9, 0xff},
	{0xf0, 0xe4, 0x42, 0xff},
	{0x00, 0x00, 0x00, 0xff},
}

// imageSize returns the size to draw at: w and h, or the defaults where they are zero.
func imageSize(w, h, defW, defH int) (int, int, error) {
	if w == 0 {
		w = defW
	}
	if h == 0 {
		h = defH
	}
	if w < 0 || h < 0 || w > maxSide || h > maxSide {
		return 0, 0, fmt.Errorf("chart: image size %dx%d out of range (1 to %d pixels a side)", w, h, maxSide)
	}
	return w, h, nil
}

// newCanvas returns a white w x h image.
func newCanvas(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fillRect(img, img.Rect, white)
	return img
}

// fillRect paints r in c.
func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, &image.Uniform{C: c}, image.Point{}, draw.Src)
}

// blend mixes the opaque colour c into the pixel at (x, y) with opacity a (0 to 1).
// Points outside the image are ignored.
func blend(img *image.RGBA, x, y int, c color.RGBA, a float64) {
	if !(image.Point{X: x, Y: y}).In(img.Rect) || !(a > 0) {
		return
	}
	if a > 1 {
		a = 1
	}
	i := img.PixOffset(x, y)
	p := img.Pix[i : i+4 : i+4]
	p[0] = uint8(float64(p[0])*(1-a) + float64(c.R)*a + 0.5)
	p[1] = uint8(float64(p[1])*(1-a) + float64(c.G)*a + 0.5)
	p[2] = uint8(float64(p[2])*(1-a) + float64(c.B)*a + 0.5)
	p[3] = uint8(float64(p[3])*(1-a) + 255*a + 0.5)
}

// hline draws a horizontal line from x0 to x1 inclusive at row y.
func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	if x0 > x1 {
		x0, x1 = x1, x0
	}
	fillRect(img, image.Rect(x0, y, x1+1, y+1), c)
}

// vline draws a vertical line from y0 to y1 inclusive at column x.
func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	if y0 > y1 {
		y0, y1 = y1, y0
	}
	fillRect(img, image.Rect(x, y0, x+1, y1+1), c)
}

// frame draws a one-pixel box just outside r.
func frame(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	hline(img, r.Min.X-1, r.Max.X, r.Min.Y-1, c)
	hline(img, r.Min.X-1, r.Max.X, r.Max.Y, c)
	vline(img, r.Min.X-1, r.Min.Y-1, r.Max.Y, c)
	vline(img, r.Max.X, r.Min.Y-1, r.Max.Y, c)
}

// textWidth returns the width of s in pixels.
func textWidth(s string) int { return fontW * utf8.RuneCountInString(s) }

// truncate shortens s to at most maxW pixels, marking a cut with "..".
func truncate(s string, maxW int) string {
	if textWidth(s) <= maxW {
		return s
	}
	n := maxW/fontW - 2
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n]) + ".."
}

// align says which point of a text its x coordinate gives.
type align int

const (
	alignLeft align = iota
	alignCenter
	alignRight
)

// drawText draws s in c with its baseline at y; x is its left edge, centre or right edge.
func drawText(img *image.RGBA, s string, x, y int, a align, c color.RGBA) {
	switch a {
	case alignCenter:
		x -= textWidth(s) / 2
	case alignRight:
		x -= textWidth(s)
	}
	d := font.Drawer{Dst: img, Src: &image.Uniform{C: c}, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// drawBold draws s like drawText, twice one pixel apart, for titles.
func drawBold(img *image.RGBA, s string, x, y int, a align, c color.RGBA) {
	drawText(img, s, x, y, a, c)
	drawText(img, s, x+1, y, a, c)
}

// drawTextUp draws s in c turned a quarter turn anticlockwise (reading upwards), centred on
// (cx, cy).
func drawTextUp(img *image.RGBA, s string, cx, cy int, c color.RGBA) {
	w := textWidth(s)
	if w == 0 {
		return
	}
	m := image.NewAlpha(image.Rect(0, 0, w, fontH))
	d := font.Drawer{Dst: m, Src: image.Opaque, Face: basicfont.Face7x13, Dot: fixed.P(0, fontAscent)}
	d.DrawString(s)
	x0, y0 := cx-fontH/2, cy-w/2
	for j := range fontH {
		for i := range w {
			if a := m.AlphaAt(i, j).A; a > 0 {
				blend(img, x0+j, y0+w-1-i, c, float64(a)/255)
			}
		}
	}
}

// coverage accumulates anti-aliased strokes over a rectangle of an image: each pixel holds
// the largest coverage (0 to 1) any stroke gave it, so that joins are not drawn twice.
type coverage struct {
	r image.Rectangle
	a []float32 // a[(y-r.Min.Y)*r.Dx() + x-r.Min.X]
}

func newCoverage(r image.Rectangle) *coverage {
	return &coverage{r: r, a: make([]float32, r.Dx()*r.Dy())}
}

// stroke adds a round-capped line of half width hw from (x0, y0) to (x1, y1), in pixel
// coordinates where the centre of pixel (i, j) is (i+0.5, j+0.5). Equal ends make a dot.
func (cv *coverage) stroke(x0, y0, x1, y1, hw float64) {
	if !finite(x0) || !finite(y0) || !finite(x1) || !finite(y1) {
		return
	}
	reach := hw + 0.5
	clampX := func(v float64) int {
		return int(math.Max(float64(cv.r.Min.X), math.Min(float64(cv.r.Max.X), math.Floor(v))))
	}
	clampY := func(v float64) int {
		return int(math.Max(float64(cv.r.Min.Y), math.Min(float64(cv.r.Max.Y), math.Floor(v))))
	}
	minX, maxX := clampX(math.Min(x0, x1)-reach), clampX(math.Max(x0, x1)+reach+1)
	minY, maxY := clampY(math.Min(y0, y1)-reach), clampY(math.Max(y0, y1)+reach+1)
	dx, dy := x1-x0, y1-y0
	l2 := dx*dx + dy*dy
	l := math.Sqrt(l2)
	for py := minY; py < maxY; py++ {
		cy := float64(py) + 0.5
		lo, hi := minX, maxX
		if math.Abs(dy) > 1e-9 {
			// Only pixels near the infinite line through the segment can be covered.
			xc := x0 + (cy-y0)*dx/dy
			half := reach * l / math.Abs(dy)
			lo = max(lo, clampX(xc-half-1))
			hi = min(hi, clampX(xc+half+2))
		}
		row := cv.row(py)
		for px := lo; px < hi; px++ {
			cx := float64(px) + 0.5
			t := 0.0
			if l2 > 0 {
				t = math.Max(0, math.Min(1, ((cx-x0)*dx+(cy-y0)*dy)/l2))
			}
			d := math.Hypot(x0+t*dx-cx, y0+t*dy-cy)
			a := float32(reach - d)
			if a <= 0 {
				continue
			}
			if a > 1 {
				a = 1
			}
			if i := px - cv.r.Min.X; a > row[i] {
				row[i] = a
			}
		}
	}
}

// row returns the coverage of image row y, indexed by x-r.Min.X.
func (cv *coverage) row(y int) []float32 {
	w := cv.r.Dx()
	i := (y - cv.r.Min.Y) * w
	return cv.a[i : i+w]
}

// paint blends c into img where the strokes cover it, with extra opacity alpha.
func (cv *coverage) paint(img *image.RGBA, c color.RGBA, alpha float64) {
	w := cv.r.Dx()
	for i, a := range cv.a {
		if a > 0 {
			blend(img, cv.r.Min.X+i%w, cv.r.Min.Y+i/w, c, float64(a)*alpha)
		}
	}
}

// sum returns the total coverage inside r.
func (cv *coverage) sum(r image.Rectangle) float64 {
	r = r.Intersect(cv.r)
	s := 0.0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := cv.row(y)
		for x := r.Min.X; x < r.Max.X; x++ {
			s += float64(row[x-cv.r.Min.X])
		}
	}
	return s
}

// union raises every pixel of cv to at least o's coverage; both cover the same rectangle.
func (cv *coverage) union(o *coverage) {
	for i, a := range o.a {
		if a > cv.a[i] {
			cv.a[i] = a
		}
	}
}

// opaque returns c as an opaque colour and its opacity (0 to 1).
func opaque(c color.Color) (color.RGBA, float64) {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return color.RGBA{n.R, n.G, n.B, 0xff}, float64(n.A) / 255
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
