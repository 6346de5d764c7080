package augment

import "math"

// Interp is how an image is sampled between its pixels. Masks are always sampled by
// nearest neighbour, so that they keep their class indices.
type Interp uint8

// The image interpolations. The zero value is Bilinear.
const (
	Bilinear Interp = iota // 2x2 pixels, linear weights
	Bicubic                // 4x4 pixels, Catmull-Rom weights; the result is clamped to [0, 1]
	Nearest                // the pixel whose centre is nearest, as for masks
)

// Warp maps the pixels of an output sample to the points of the source they are sampled
// from. Pixel (x, y) has its centre at (x, y); a point is mapped as
//
//	o = (x, y) - outCentre + Elastic(x, y)
//	source = Linear · o + SourceCentre
//
// where outCentre is the middle of the output ((W-1)/2, (H-1)/2). Geometric steps
// compose themselves into a Warp; the identity Warp with SourceCentre at the middle of a
// same-size source copies it.
type Warp struct {
	// Linear is the row-major 2x2 matrix taking an offset from the output's centre to an
	// offset from SourceCentre.
	Linear [4]float64
	// SourceCentreX and SourceCentreY are the source point the output's centre maps to.
	SourceCentreX, SourceCentreY float64
	// Elastic, when not nil, displaces each output point before Linear.
	Elastic *Field
}

// Identity gives the Warp that copies a source whose centre is (cx, cy).
func Identity(cx, cy float64) Warp {
	return Warp{Linear: [4]float64{1, 0, 0, 1}, SourceCentreX: cx, SourceCentreY: cy}
}

// Compose adds the linear map m (row-major 2x2, from output offsets to source offsets)
// after the ones already in w: w.Linear becomes w.Linear · m, so m acts on the output
// side, as a transform applied to the image after the earlier ones.
func (w *Warp) Compose(m [4]float64) {
	a := w.Linear
	w.Linear = [4]float64{
		a[0]*m[0] + a[1]*m[2], a[0]*m[1] + a[1]*m[3],
		a[2]*m[0] + a[3]*m[2], a[2]*m[1] + a[3]*m[3],
	}
}

// Field is a smooth displacement field over an output of W x H pixels: displacements
// given on a coarse grid of N x N nodes spread evenly from edge to edge, interpolated
// bicubically (Catmull-Rom) in between.
type Field struct {
	W, H, N int
	// DX and DY hold the displacement of each node, row-major: node (i, j), in row i and
	// column j, is at index i*N+j.
	DX, DY []float64
}

// taps are the grid nodes and weights that interpolate one output row or column.
type taps struct {
	idx [4]int
	w   [4]float64
}

// cubicTaps gives, for each of n output positions, the nodes of a grid of g nodes
// spanning them and their Catmull-Rom weights; nodes past the ends are clamped.
func cubicTaps(n, g int) []taps {
	t := make([]taps, n)
	for x := range t {
		u := 0.0
		if n > 1 {
			u = float64(x) * float64(g-1) / float64(n-1)
		}
		i0 := int(math.Floor(u))
		f := u - float64(i0)
		w := catmullRom(f)
		for k := range 4 {
			t[x].idx[k] = min(max(i0-1+k, 0), g-1)
			t[x].w[k] = w[k]
		}
	}
	return t
}

// catmullRom gives the weights of the four samples at -1, 0, 1, 2 for a point at f in [0, 1).
func catmullRom(f float64) [4]float64 {
	f2, f3 := f*f, f*f*f
	return [4]float64{
		(-f3 + 2*f2 - f) / 2,
		(3*f3 - 5*f2 + 2) / 2,
		(-3*f3 + 4*f2 + f) / 2,
		(f3 - f2) / 2,
	}
}

// Displacements fills dx and dy (W*H each, row-major) with the displacement of every
// output pixel.
func (f *Field) Displacements(dx, dy []float64) {
	tx, ty := cubicTaps(f.W, f.N), cubicTaps(f.H, f.N)
	rowX, rowY := make([]float64, f.N), make([]float64, f.N)
	for y := 0; y < f.H; y++ {
		for j := range f.N {
			var sx, sy float64
			for k := range 4 {
				i := ty[y].idx[k]
				sx += ty[y].w[k] * f.DX[i*f.N+j]
				sy += ty[y].w[k] * f.DY[i*f.N+j]
			}
			rowX[j], rowY[j] = sx, sy
		}
		for x := 0; x < f.W; x++ {
			var sx, sy float64
			for k := range 4 {
				j := tx[x].idx[k]
				sx += tx[x].w[k] * rowX[j]
				sy += tx[x].w[k] * rowY[j]
			}
			dx[y*f.W+x], dy[y*f.W+x] = sx, sy
		}
	}
}

// reflect brings index i into [0, n) by mirroring about the edges, repeating the edge
// pixel: for n = 4, indices -2..5 become 1 0 | 0 1 2 3 | 3 2.
func reflect(i, n int) int {
	if uint(i) < uint(n) {
		return i
	}
	p := 2 * n
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - 1 - i
	}
	return i
}

// Source gives the source point that output pixel (x, y) of an outW x outH output maps to.
// It does not apply Elastic; Resample does.
func (w *Warp) Source(x, y float64, outW, outH int) (sx, sy float64) {
	ox, oy := x-float64(outW-1)/2, y-float64(outH-1)/2
	l := w.Linear
	return l[0]*ox + l[1]*oy + w.SourceCentreX, l[2]*ox + l[3]*oy + w.SourceCentreY
}

// Resample fills dst from src through w: dst's image with interp, dst's mask (when both
// have one) by nearest neighbour, at the same source points. Points outside src are
// mirrored back into it. dst and src must have the same number of channels.
func (w *Warp) Resample(dst, src *Sample, interp Interp) {
	if w.resampleExact(dst, src) {
		return
	}
	var dx, dy []float64
	if w.Elastic != nil {
		dx, dy = make([]float64, dst.W*dst.H), make([]float64, dst.W*dst.H)
		f := *w.Elastic
		f.W, f.H = dst.W, dst.H
		f.Displacements(dx, dy)
	}
	doMask := dst.Mask != nil && src.Mask != nil
	plane, splane := dst.W*dst.H, src.W*src.H
	l := w.Linear
	cx, cy := float64(dst.W-1)/2, float64(dst.H-1)/2
	for y := 0; y < dst.H; y++ {
		for x := 0; x < dst.W; x++ {
			i := y*dst.W + x
			ox, oy := float64(x)-cx, float64(y)-cy
			if dx != nil {
				ox, oy = ox+dx[i], oy+dy[i]
			}
			sx := l[0]*ox + l[1]*oy + w.SourceCentreX
			sy := l[2]*ox + l[3]*oy + w.SourceCentreY
			if doMask || interp == Nearest {
				nx := reflect(int(math.Floor(sx+0.5)), src.W)
				ny := reflect(int(math.Floor(sy+0.5)), src.H)
				j := ny*src.W + nx
				if doMask {
					dst.Mask[i] = src.Mask[j]
				}
				if interp == Nearest {
					for c := range dst.C {
						dst.Image[c*plane+i] = src.Image[c*splane+j]
					}
					continue
				}
			}
			x0, y0 := math.Floor(sx), math.Floor(sy)
			ix0, iy0 := int(x0), int(y0)
			switch interp {
			case Bilinear:
				fx, fy := float32(sx-x0), float32(sy-y0)
				var xa, xb, ya, yb int
				if ix0 >= 0 && ix0+1 < src.W && iy0 >= 0 && iy0+1 < src.H {
					xa, xb, ya, yb = ix0, ix0+1, iy0*src.W, (iy0+1)*src.W
				} else {
					xa, xb = reflect(ix0, src.W), reflect(ix0+1, src.W)
					ya, yb = reflect(iy0, src.H)*src.W, reflect(iy0+1, src.H)*src.W
				}
				for c := range dst.C {
					p := src.Image[c*splane : (c+1)*splane]
					top := p[ya+xa] + fx*(p[ya+xb]-p[ya+xa])
					bot := p[yb+xa] + fx*(p[yb+xb]-p[yb+xa])
					dst.Image[c*plane+i] = top + fy*(bot-top)
				}
			case Bicubic:
				wx, wy := catmullRom(sx-x0), catmullRom(sy-y0)
				var xs, ys [4]int
				for k := range 4 {
					xs[k] = reflect(ix0-1+k, src.W)
					ys[k] = reflect(iy0-1+k, src.H) * src.W
				}
				for c := range dst.C {
					p := src.Image[c*splane : (c+1)*splane]
					var v float64
					for a := range 4 {
						row := p[ys[a]:]
						v += wy[a] * (wx[0]*float64(row[xs[0]]) + wx[1]*float64(row[xs[1]]) + wx[2]*float64(row[xs[2]]) + wx[3]*float64(row[xs[3]]))
					}
					dst.Image[c*plane+i] = float32(min(max(v, 0), 1))
				}
			}
		}
	}
}

// resampleExact does Resample's work when w moves pixels onto pixels (no elastic field,
// a linear part made of flips and quarter turns, whole-pixel offsets), copying values
// without interpolating them, whatever the interpolation. It reports whether it could.
func (w *Warp) resampleExact(dst, src *Sample) bool {
	if w.Elastic != nil {
		return false
	}
	var m [4]int
	for k, v := range w.Linear {
		if v != -1 && v != 0 && v != 1 {
			return false
		}
		m[k] = int(v)
	}
	if (m[0] == 0) == (m[1] == 0) || (m[2] == 0) == (m[3] == 0) {
		return false
	}
	// Source of pixel (0, 0), which must be a whole pixel.
	sx, sy := w.Source(0, 0, dst.W, dst.H)
	if sx != math.Floor(sx) || sy != math.Floor(sy) {
		return false
	}
	ex, ey := int(sx), int(sy)
	doMask := dst.Mask != nil && src.Mask != nil
	plane, splane := dst.W*dst.H, src.W*src.H
	for y := 0; y < dst.H; y++ {
		for x := 0; x < dst.W; x++ {
			i := y*dst.W + x
			j := reflect(ey+m[2]*x+m[3]*y, src.H)*src.W + reflect(ex+m[0]*x+m[1]*y, src.W)
			if doMask {
				dst.Mask[i] = src.Mask[j]
			}
			for c := range dst.C {
				dst.Image[c*plane+i] = src.Image[c*splane+j]
			}
		}
	}
	return true
}
