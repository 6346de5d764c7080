package objects

import "math"

// NoBackground is the squared distance SquaredDistances gives when the image has no
// background pixel to measure from.
const NoBackground = math.MaxUint32

// SquaredDistances returns the exact Euclidean distance transform of the objects, squared:
// for each pixel, the squared distance from its centre to the centre of the nearest
// background pixel (0 on the background). Pixels outside the image are not background, so
// an object cut by the border is as thick there as it looks. The squares are integers,
// exact; an image with no background gives NoBackground everywhere.
//
// It takes two passes, linear in the pixels: down the columns, the distance to the nearest
// background pixel of the same column (two sweeps, row by row); then along each row, the
// lower envelope of the parabolas those distances define (Felzenszwalb and Huttenlocher,
// "Distance transforms of sampled functions", 2012).
func (l *Labels) SquaredDistances() []uint32 {
	w, h := l.W, l.H
	const far = math.MaxUint32 / 4 // no background in the column, farther than any image
	d := make([]uint32, w*h)
	for x := range w { // row 0
		if l.Pix[x] != 0 {
			d[x] = far
		}
	}
	for y := 1; y < h; y++ {
		for x, i := 0, y*w; x < w; x, i = x+1, i+1 {
			if l.Pix[i] != 0 {
				d[i] = min(d[i-w]+1, far)
			}
		}
	}
	for y := h - 2; y >= 0; y-- {
		for x, i := 0, y*w; x < w; x, i = x+1, i+1 {
			d[i] = min(d[i], d[i+w]+1)
		}
	}
	f := make([]float64, w)
	out := make([]float64, w)
	v := make([]int, w)
	z := make([]float64, w+1)
	for y := range h {
		row := d[y*w : (y+1)*w]
		for x, g := range row {
			if g >= far {
				f[x] = math.Inf(1)
			} else {
				f[x] = float64(g) * float64(g)
			}
		}
		lowerEnvelope(f, out, v, z)
		for x, s := range out {
			if math.IsInf(s, 1) {
				row[x] = NoBackground
			} else {
				row[x] = uint32(s)
			}
		}
	}
	return d
}

// lowerEnvelope sets out[q] to the minimum over p of (q-p)² + f[p]. Entries of f may be +Inf
// (no background in that column); they are skipped, which keeps the arithmetic exact.
func lowerEnvelope(f, out []float64, v []int, z []float64) {
	n := len(f)
	k := -1
	for q := range n {
		if math.IsInf(f[q], 1) {
			continue
		}
		fq := f[q] + float64(q*q)
		var s float64
		for k >= 0 {
			p := v[k]
			s = (fq - (f[p] + float64(p*p))) / float64(2*(q-p))
			if s > z[k] {
				break
			}
			k--
		}
		k++
		v[k] = q
		if k == 0 {
			z[0] = math.Inf(-1)
		} else {
			z[k] = s
		}
		z[k+1] = math.Inf(1)
	}
	if k < 0 {
		for q := range out {
			out[q] = math.Inf(1)
		}
		return
	}
	j := 0
	for q := range n {
		for z[j+1] < float64(q) {
			j++
		}
		p := v[j]
		out[q] = float64((q-p)*(q-p)) + f[p]
	}
}
