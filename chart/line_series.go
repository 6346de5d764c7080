package chart

import (
	"image"
	"image/color"
	"math"
)

// stroke returns the coverage of series s on the plot.
func (c *Line) stroke(lay *lineLayout, s *Series) *coverage {
	cv := newCoverage(lay.plot)
	// Work in unit coordinates (0 to 1 across the axes), clipped a little outside the
	// plot so that pixel coordinates stay small whatever the data.
	unit := func(x, y float64) (float64, float64) {
		return (x - lay.x0) / (lay.x1 - lay.x0), (y - lay.y0) / (lay.y1 - lay.y0)
	}
	pix := func(u, v float64) (float64, float64) { return lay.ux(u), lay.uy(v) }
	const lo, hi = -clipMargin, 1 + clipMargin
	var (
		pu, pv float64 // previous point, in unit coordinates
		have   bool    // whether there is a previous point
		alone  bool    // whether the previous point has no drawn neighbour yet
	)
	dot := func() {
		if have && alone && pu >= lo && pu <= hi && pv >= lo && pv <= hi {
			x, y := pix(pu, pv)
			cv.stroke(x, y, x, y, dotRadius)
		}
	}
	for j := range s.Y {
		x, y, ok := lay.point(s, j)
		if !ok {
			dot()
			have = false
			continue
		}
		u, v := unit(x, y)
		if !finite(u) || !finite(v) {
			dot()
			have = false
			continue
		}
		if have {
			if u0, v0, u1, v1, ok := clipSegment(pu, pv, u, v, lo, hi); ok {
				x0, y0 := pix(u0, v0)
				x1, y1 := pix(u1, v1)
				cv.stroke(x0, y0, x1, y1, lineHalfWidth)
			}
			alone = false
		} else {
			alone = true
		}
		pu, pv, have = u, v, true
	}
	dot()
	return cv
}

// clipSegment clips the segment from (u0, v0) to (u1, v1) to the square [lo, hi]²
// (Liang-Barsky) and reports whether any of it is left.
func clipSegment(u0, v0, u1, v1, lo, hi float64) (float64, float64, float64, float64, bool) {
	du, dv := u1-u0, v1-v0
	if !finite(du) || !finite(dv) {
		return 0, 0, 0, 0, false
	}
	t0, t1 := 0.0, 1.0
	for _, e := range [4][2]float64{{-du, u0 - lo}, {du, hi - u0}, {-dv, v0 - lo}, {dv, hi - v0}} {
		p, q := e[0], e[1]
		if p == 0 {
			if q < 0 {
				return 0, 0, 0, 0, false
			}
			continue
		}
		r := q / p
		if p < 0 {
			if r > t1 {
				return 0, 0, 0, 0, false
			}
			t0 = math.Max(t0, r)
		} else {
			if r < t0 {
				return 0, 0, 0, 0, false
			}
			t1 = math.Min(t1, r)
		}
	}
	return u0 + t0*du, v0 + t0*dv, u0 + t1*du, v0 + t1*dv, true
}

// seriesColor returns the colour of series i: c, or the palette's.
func seriesColor(c color.Color, i int) (color.RGBA, float64) {
	if c == nil {
		return palette[i%len(palette)], 1
	}
	return opaque(c)
}

// legend draws the legend of the named series in the corner of plot where the data (ink)
// are least hidden.
func (c *Line) legend(img *image.RGBA, plot image.Rectangle, ink *coverage) {
	var idx []int
	var names []string
	for i, s := range c.Series {
		if s.Name != "" {
			idx = append(idx, i)
			names = append(names, truncate(s.Name, max(plot.Dx()/2, 8*fontW)))
		}
	}
	if len(idx) == 0 {
		return
	}
	const (
		pad   = 6
		rowH  = 16
		swW   = 22
		inset = 8
	)
	bw := pad + swW + 6 + widest(names) + pad
	bh := 2*pad + len(idx)*rowH - (rowH - fontH)
	corners := []image.Point{
		{plot.Max.X - inset - bw, plot.Min.Y + inset}, // top right
		{plot.Min.X + inset, plot.Min.Y + inset},      // top left
		{plot.Max.X - inset - bw, plot.Max.Y - inset - bh},
		{plot.Min.X + inset, plot.Max.Y - inset - bh},
	}
	best, bestInk := corners[0], math.Inf(1)
	for _, p := range corners {
		if s := ink.sum(image.Rect(p.X, p.Y, p.X+bw, p.Y+bh)); s < bestInk-0.5 {
			best, bestInk = p, s
		}
	}
	box := image.Rect(best.X, best.Y, best.X+bw, best.Y+bh)
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			blend(img, x, y, white, 0.88)
		}
	}
	hline(img, box.Min.X, box.Max.X-1, box.Min.Y, inkBorder)
	hline(img, box.Min.X, box.Max.X-1, box.Max.Y-1, inkBorder)
	vline(img, box.Min.X, box.Min.Y, box.Max.Y-1, inkBorder)
	vline(img, box.Max.X-1, box.Min.Y, box.Max.Y-1, inkBorder)
	for k, i := range idx {
		col, alpha := seriesColor(c.Series[i].Color, i)
		mid := box.Min.Y + pad + k*rowH + fontH/2
		sw := image.Rect(box.Min.X+pad, mid-3, box.Min.X+pad+swW, mid+4)
		cv := newCoverage(sw)
		cv.stroke(float64(sw.Min.X)+1.5, float64(mid)+0.5, float64(sw.Max.X)-1.5, float64(mid)+0.5, lineHalfWidth+0.2)
		cv.paint(img, col, alpha)
		drawText(img, names[k], sw.Max.X+6, mid+capHalf, alignLeft, inkText)
	}
}

// widest returns the width in pixels of the widest of labels.
func widest(labels []string) int {
	w := 0
	for _, s := range labels {
		w = max(w, textWidth(s))
	}
	return w
}
