package metrics

import (
	"fmt"
	"math"
	"slices"
)

// maxPixels bounds width*height: boundary pixels are held as int32 row-major indices.
const maxPixels = math.MaxInt32

// Hausdorff95 returns the 95th-percentile Hausdorff distance, in pixels, between the boundaries of
// one class in a predicted and a ground-truth class-index map of width w and height h (see
// the package documentation for the boundary, the percentile and the empty-mask rule).
// Pixels whose ground truth equals ignore (ignore >= 0) belong to neither mask. It panics if
// the lengths are not w*h or w*h does not fit in an int32.
func Hausdorff95[T Label](pred, gt []T, w, h, class, ignore int, policy EmptyPolicy) float64 {
	checkShape(len(pred), len(gt), w, h)
	pb, gb := boundaries(pred, gt, w, h, class, class+1, ignore)
	var s hdScratch
	return s.hd95(pb[0], gb[0], w, policy)
}

func checkShape(np, ng, w, h int) {
	if err := shapeError(np, ng, w, h); err != nil {
		panic(err.Error())
	}
}

func shapeError(np, ng, w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("metrics: invalid size %dx%d", w, h)
	}
	if int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("metrics: %dx%d image has more than %d pixels", w, h, maxPixels)
	}
	if np != w*h || ng != w*h {
		return fmt.Errorf("metrics: %dx%d image needs %d pixels; prediction has %d, ground truth %d", w, h, w*h, np, ng)
	}
	return nil
}

// boundaries returns, for each class lo..hi-1, the row-major indices (ascending) of the
// boundary pixels of the class's mask in the prediction and in the ground truth. A pixel is
// on the boundary when it lies on the image edge or a 4-neighbour is not of its class.
// Pixels whose ground truth is ignore belong to no mask, in the prediction too.
func boundaries[T Label](pred, gt []T, w, h, lo, hi, ignore int) (pb, gb [][]int32) {
	pb = make([][]int32, hi-lo)
	gb = make([][]int32, hi-lo)
	ign := ignore >= 0
	// pdiff reports whether pixel j is not of predicted class p (p >= 0).
	pdiff := func(j, p int) bool {
		return int(pred[j]) != p || (ign && int(gt[j]) == ignore)
	}
	for y := 0; y < h; y++ {
		row := y * w
		ey := y == 0 || y == h-1
		for x := 0; x < w; x++ {
			i := row + x
			g := int(gt[i])
			if ign && g == ignore {
				continue
			}
			edge := ey || x == 0 || x == w-1
			if g >= lo && g < hi {
				if edge || int(gt[i-1]) != g || int(gt[i+1]) != g || int(gt[i-w]) != g || int(gt[i+w]) != g {
					gb[g-lo] = append(gb[g-lo], int32(i))
				}
			}
			p := int(pred[i])
			if p >= lo && p < hi {
				if edge || pdiff(i-1, p) || pdiff(i+1, p) || pdiff(i-w, p) || pdiff(i+w, p) {
					pb[p-lo] = append(pb[p-lo], int32(i))
				}
			}
		}
	}
	return pb, gb
}

// hdScratch holds the buffers HD95 reuses across classes.
type hdScratch struct {
	e edt
	d []int64
}

// hd95 returns the HD95 between boundary sets a and b (row-major indices, ascending) of an
// image of width w, applying the empty-mask rule.
func (s *hdScratch) hd95(a, b []int32, w int, policy EmptyPolicy) float64 {
	switch {
	case len(a) == 0 && len(b) == 0:
		if policy == EmptyOne {
			return 0
		}
		return math.NaN()
	case len(a) == 0 || len(b) == 0:
		return math.NaN()
	}
	n := len(a) + len(b)
	if cap(s.d) < n {
		s.d = make([]int64, n)
	}
	d := s.d[:n]
	s.e.build(b, w)
	s.e.query(a, d[:len(a)])
	s.e.build(a, w)
	s.e.query(b, d[len(a):])
	slices.Sort(d)
	return percentileSq(d, 0.95)
}

// percentileSq returns the q-quantile (0 <= q <= 1) of the square roots of the sorted
// squared distances sq, interpolated as numpy.percentile's default "linear" method does:
// virtual index (n-1)*q, and numpy's lerp, which for a fraction t >= 0.5 computes
// b - (b-a)*(1-t) so that the result is exact at both ends.
func percentileSq(sq []int64, q float64) float64 {
	n := len(sq)
	vi := float64(n-1) * q
	lo := math.Floor(vi)
	t := vi - lo
	i := int(lo)
	j := min(i+1, n-1)
	a := math.Sqrt(float64(sq[i]))
	b := math.Sqrt(float64(sq[j]))
	return lerp(a, b, t)
}

// lerp is numpy's _lerp.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// edt is an exact squared Euclidean distance transform to a set of sites (pixels), queried
// at chosen pixels. The first pass, along columns, is implicit: the sites of each column are
// kept sorted, and for each queried row a pointer per column finds the nearest site above
// and below. The second pass, along the row, is Felzenszwalb and Huttenlocher's lower
// envelope of the parabolas (x-x_c)^2 + g_c over the columns c that hold sites, in exact
// integer arithmetic. Memory is O(width + sites); time O(rows queried * columns with sites
// + sites + queries).
type edt struct {
	w        int
	colStart []int32 // colStart[x]..colStart[x+1]: the sites of column x in colRows
	colRows  []int32 // site rows, grouped by column, ascending within a column
	active   []int32 // columns holding at least one site, ascending
	ptr      []int32 // per active column: first site at or below the current row

	// the lower envelope: parabola vertex, height and the first x where it is lowest
	pos, cost, start []int64
}

// build prepares the transform for the sites, row-major indices in ascending order into an
// image of width w.
func (e *edt) build(sites []int32, w int) {
	e.w = w
	e.colStart = resize(e.colStart, w+1)
	clear(e.colStart)
	for _, s := range sites {
		e.colStart[int(s)%w+1]++
	}
	e.active = e.active[:0]
	for x := 0; x < w; x++ {
		if e.colStart[x+1] > 0 {
			e.active = append(e.active, int32(x))
		}
		e.colStart[x+1] += e.colStart[x]
	}
	// Fill with colStart[x] as the cursor of column x, which leaves it at the start of x+1;
	// then shift back. Sites come in row order, so each column's rows come out ascending.
	e.colRows = resize(e.colRows, len(sites))
	for _, s := range sites {
		x := int(s) % w
		e.colRows[e.colStart[x]] = s / int32(w)
		e.colStart[x]++
	}
	copy(e.colStart[1:], e.colStart[:w])
	e.colStart[0] = 0
	e.ptr = resize(e.ptr, len(e.active))
}

// query writes to out[i] the squared distance from queries[i] (row-major indices, ascending)
// to the nearest site. There must be at least one site.
func (e *edt) query(queries []int32, out []int64) {
	w := int32(e.w)
	for j, x := range e.active {
		e.ptr[j] = e.colStart[x]
	}
	for i := 0; i < len(queries); {
		y := queries[i] / w
		e.envelope(y)
		k := 0
		for ; i < len(queries) && queries[i]/w == y; i++ {
			x := int64(queries[i] % w)
			for k+1 < len(e.start) && e.start[k+1] <= x {
				k++
			}
			d := x - e.pos[k]
			out[i] = d*d + e.cost[k]
		}
	}
}

// envelope builds the lower envelope of row y, which must not decrease between calls
// after a build.
func (e *edt) envelope(y int32) {
	e.pos, e.cost, e.start = e.pos[:0], e.cost[:0], e.start[:0]
	for j, x := range e.active {
		first, end := e.colStart[x], e.colStart[x+1]
		p := e.ptr[j]
		for p < end && e.colRows[p] < y {
			p++
		}
		e.ptr[j] = p
		g := int64(math.MaxInt64)
		if p < end {
			d := int64(e.colRows[p] - y)
			g = d * d
		}
		if p > first {
			d := int64(y - e.colRows[p-1])
			g = min(g, d*d)
		}
		e.push(int64(x), g)
	}
}

// push adds the parabola (x-p)^2 + c, p greater than every vertex so far, to the envelope.
func (e *edt) push(p, c int64) {
	for n := len(e.pos); n > 0; n-- {
		s, q, cq := e.start[n-1], e.pos[n-1], e.cost[n-1]
		dp, dq := s-p, s-q
		if dp*dp+c <= dq*dq+cq {
			// The new parabola is as low at the start of the last one's interval, hence on
			// all of it (to the right of their intersection it stays lower): drop it.
			e.pos, e.cost, e.start = e.pos[:n-1], e.cost[:n-1], e.start[:n-1]
			continue
		}
		// The new parabola is lower exactly for x > r = (p^2-q^2+c-cq) / (2(p-q)), and
		// r > s >= 0, so integer division is the floor.
		from := (p*p-q*q+c-cq)/(2*(p-q)) + 1
		if from < int64(e.w) {
			e.pos, e.cost, e.start = append(e.pos, p), append(e.cost, c), append(e.start, from)
		}
		return
	}
	e.pos, e.cost, e.start = append(e.pos, p), append(e.cost, c), append(e.start, 0)
}

func resize[E any](s []E, n int) []E {
	if cap(s) < n {
		return make([]E, n)
	}
	return s[:n]
}
