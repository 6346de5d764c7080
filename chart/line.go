package chart

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
)

// Line is a line chart: one or more series of (x, y) points drawn on shared axes. The zero
// value of every field but Series is usable.
type Line struct {
	Title  string // drawn above the plot; none if empty
	XLabel string // drawn below the x axis; none if empty
	YLabel string // drawn left of the y axis, reading upwards; none if empty

	// LogY makes the y axis logarithmic, with ticks at powers of ten. Values that are
	// not positive are left out, breaking the line like NaN.
	LogY bool

	// YMin and YMax fix the range of the y axis when both are finite and YMin < YMax
	// (and YMin > 0 with LogY); otherwise the axis fits the data with a small margin.
	// Parts of lines outside a fixed range are clipped.
	YMin, YMax float64

	Series []Series

	// Width and Height are the size of the image in pixels; zero means 640 and 400.
	Width, Height int
}

// Series is one line of a [Line] chart.
type Series struct {
	// Name labels the series in the legend; a series without a name has no entry, and a
	// chart with no named series has no legend.
	Name string

	// X and Y are the coordinates of the points, joined in order. X nil means 0, 1, 2,
	// and so on; otherwise it must be as long as Y. A point with a NaN or infinite
	// coordinate is left out and breaks the line, and a point with no neighbour on either
	// side is drawn as a dot.
	X, Y []float64

	// Color is the colour of the line; nil means the palette colour for the series'
	// index: blue, vermillion, bluish green, reddish purple, orange, sky blue, yellow,
	// black (Okabe and Ito), then over again.
	Color color.Color
}

// Line widths and sizes, in pixels.
const (
	lineHalfWidth = 0.9 // half the width of a series' line
	dotRadius     = 2.2 // radius of the dot drawn for an isolated point
	clipMargin    = 0.02
)

// lineLayout is where a line chart's data go: the plot rectangle and the data ranges that
// map onto it. With LogY, y values are log10 of the data.
type lineLayout struct {
	plot           image.Rectangle
	x0, x1, y0, y1 float64
	logY           bool
}

// px returns the horizontal pixel coordinate of x: x0 falls on the centre of the plot's
// first column and x1 on the centre of its last.
func (l *lineLayout) px(x float64) float64 { return l.ux((x - l.x0) / (l.x1 - l.x0)) }

// py returns the vertical pixel coordinate of y (log10 of the data with LogY): y0 falls on
// the centre of the plot's bottom row and y1 on the centre of its top row.
func (l *lineLayout) py(y float64) float64 { return l.uy((y - l.y0) / (l.y1 - l.y0)) }

// ux returns the horizontal pixel coordinate of u, 0 at x0 and 1 at x1.
func (l *lineLayout) ux(u float64) float64 {
	return float64(l.plot.Min.X) + 0.5 + u*float64(l.plot.Dx()-1)
}

// uy returns the vertical pixel coordinate of v, 0 at y0 and 1 at y1.
func (l *lineLayout) uy(v float64) float64 {
	return float64(l.plot.Max.Y) - 0.5 - v*float64(l.plot.Dy()-1)
}

// yValue returns the axis coordinate of a data value y: y itself, or log10(y) with LogY
// (NaN for y <= 0).
func (l *lineLayout) yValue(y float64) float64 {
	if !l.logY {
		return y
	}
	if !(y > 0) {
		return math.NaN()
	}
	return math.Log10(y)
}

// Image draws the chart. It fails only when there is nothing to draw (no series), when a
// series' X and Y differ in length, or when the size or the fixed y range is invalid.
func (c *Line) Image() (image.Image, error) {
	img, _, err := c.render()
	if err != nil {
		return nil, err
	}
	return img, nil
}

// point returns the data coordinates of point j of s, with y on the axis scale, and whether
// it can be drawn.
func (l *lineLayout) point(s *Series, j int) (x, y float64, ok bool) {
	x = float64(j)
	if s.X != nil {
		x = s.X[j]
	}
	y = l.yValue(s.Y[j])
	return x, y, finite(x) && finite(y)
}

// check reports why c cannot be drawn, if it cannot.
func (c *Line) check() error {
	if len(c.Series) == 0 {
		return errors.New("chart: line chart has no series")
	}
	for i, s := range c.Series {
		if s.X != nil && len(s.X) != len(s.Y) {
			return fmt.Errorf("chart: series %d (%q) has %d x values and %d y values", i, s.Name, len(s.X), len(s.Y))
		}
	}
	if c.fixedY() && c.LogY && !(c.YMin > 0) {
		return fmt.Errorf("chart: log y axis needs YMin > 0, have %g", c.YMin)
	}
	return nil
}

// fixedY reports whether YMin and YMax fix the y axis.
func (c *Line) fixedY() bool {
	return finite(c.YMin) && finite(c.YMax) && c.YMin < c.YMax
}

func (c *Line) render() (*image.RGBA, *lineLayout, error) {
	if err := c.check(); err != nil {
		return nil, nil, err
	}
	w, h, err := imageSize(c.Width, c.Height, 640, 400)
	if err != nil {
		return nil, nil, err
	}
	lay := &lineLayout{logY: c.LogY}

	// Data ranges.
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for i := range c.Series {
		s := &c.Series[i]
		for j := range s.Y {
			if x, y, ok := lay.point(s, j); ok {
				xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
				ylo, yhi = math.Min(ylo, y), math.Max(yhi, y)
			}
		}
	}
	if xlo > xhi { // no point to draw
		xlo, xhi, ylo, yhi = 0, 1, 0, 1
	}
	lay.x0, lay.x1 = padRange(xlo, xhi, 0, 0)
	switch {
	case c.fixedY():
		lay.y0, lay.y1 = lay.yValue(c.YMin), lay.yValue(c.YMax)
	case c.LogY:
		lay.y0, lay.y1 = padRange(ylo, yhi, 0.04, 0.5)
	default:
		lay.y0, lay.y1 = padRange(ylo, yhi, 0.05, 0)
	}

	// Margins, the y ticks (whose labels set the left margin), then the x ticks (whose
	// last label may need a wider right margin).
	top := margin + 4
	if c.Title != "" {
		top += fontH + 8
	}
	bottom := margin + tickLen + 2 + fontH
	if c.XLabel != "" {
		bottom += fontH + 6
	}
	plotH := max(1, h-top-bottom)
	yt, ys := c.yTicks(lay, min(max(plotH/40, 2), 10))
	ylab := tickLabels(yt, ys)
	left := margin + widest(ylab) + 3 + tickLen + 1
	if c.YLabel != "" {
		left += fontH + 8
	}
	right := margin + 8
	var xt []float64
	var xlab []string
	for range 2 {
		lay.plot = image.Rect(left, top, left+max(1, w-left-right), top+plotH)
		xt, xlab = xTicks(lay)
		if len(xt) == 0 {
			break
		}
		over := int(lay.px(xt[len(xt)-1])) + textWidth(xlab[len(xlab)-1])/2 + 4 - (w - 2)
		if over <= 0 {
			break
		}
		right += over
	}
	plot := lay.plot

	img := newCanvas(w, h)

	// Grid.
	if c.LogY {
		for _, v := range minorLogTicks(yt, ys, lay.y0, lay.y1) {
			hline(img, plot.Min.X, plot.Max.X-1, int(lay.py(math.Log10(v))), inkMinor)
		}
	}
	for _, v := range yt {
		hline(img, plot.Min.X, plot.Max.X-1, int(lay.py(lay.yValue(v))), inkGrid)
	}
	for _, v := range xt {
		vline(img, int(lay.px(v)), plot.Min.Y, plot.Max.Y-1, inkGrid)
	}

	// Data.
	ink := newCoverage(plot)
	for i := range c.Series {
		s := &c.Series[i]
		col, alpha := seriesColor(s.Color, i)
		cv := c.stroke(lay, s)
		cv.paint(img, col, alpha)
		ink.union(cv)
	}

	// Axes.
	frame(img, plot, inkAxis)
	for i, v := range yt {
		y := int(lay.py(lay.yValue(v)))
		hline(img, plot.Min.X-1-tickLen, plot.Min.X-2, y, inkAxis)
		base := min(max(y+capHalf, fontAscent), h-3)
		drawText(img, ylab[i], plot.Min.X-1-tickLen-3, base, alignRight, inkText)
	}
	for i, v := range xt {
		x := int(lay.px(v))
		vline(img, x, plot.Max.Y+1, plot.Max.Y+tickLen, inkAxis)
		drawText(img, xlab[i], x+1, plot.Max.Y+1+tickLen+2+fontAscent-1, alignCenter, inkText)
	}

	c.legend(img, plot, ink)

	// Labels.
	cx := (plot.Min.X + plot.Max.X) / 2
	if c.Title != "" {
		t := truncate(c.Title, w-2*margin)
		tx := min(max(cx, margin+textWidth(t)/2), w-margin-textWidth(t)/2)
		drawBold(img, t, tx, margin+fontAscent, alignCenter, inkText)
	}
	if c.XLabel != "" {
		t := truncate(c.XLabel, w-2*margin)
		drawText(img, t, cx, plot.Max.Y+1+tickLen+2+fontH+6+fontAscent-1, alignCenter, inkText)
	}
	if c.YLabel != "" {
		drawTextUp(img, truncate(c.YLabel, plot.Dy()+top), margin+fontH/2, (plot.Min.Y+plot.Max.Y)/2, inkText)
	}
	return img, lay, nil
}

// yTicks returns the y axis ticks, as data values, and their step (0 for log ticks).
func (c *Line) yTicks(lay *lineLayout, n int) ([]float64, float64) {
	if c.LogY {
		return logTicks(math.Pow(10, lay.y0), math.Pow(10, lay.y1), n)
	}
	return niceTicks(lay.y0, lay.y1, n)
}

// xTicks returns ticks for the x axis of the plot in lay, as many as fit without their
// labels touching, and the labels.
func xTicks(lay *lineLayout) ([]float64, []string) {
	for n := min(max(lay.plot.Dx()/80, 2), 10); n >= 1; n-- {
		t, step := niceTicks(lay.x0, lay.x1, n)
		lab := tickLabels(t, step)
		if n == 1 || len(t) < 2 || lay.px(t[1])-lay.px(t[0]) >= float64(widest(lab)+12) {
			return t, lab
		}
	}
	return nil, nil
}

// minorLogTicks returns 2, 3, ..., 9 times each power of ten for light grid lines, when the
// major log ticks are one decade apart; only those whose log10 lies in [lo, hi].
func minorLogTicks(major []float64, step, lo, hi float64) []float64 {
	if step != 0 || len(major) < 2 || len(major) > 12 || math.Abs(math.Log10(major[1]/major[0])-1) > 1e-6 {
		return nil
	}
	var minor []float64
	for i := -1; i < len(major); i++ {
		p := major[0] / 10
		if i >= 0 {
			p = major[i]
		}
		for m := 2.0; m <= 9; m++ {
			if l := math.Log10(m * p); l > lo && l < hi {
				minor = append(minor, m*p)
			}
		}
	}
	return minor
}
