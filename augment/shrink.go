package augment

// ShrunkSize is the side of an n-pixel side shrunk by an integer factor f: every block of f
// pixels becomes one, and a last, shorter block still becomes one, so no pixel is lost.
func ShrunkSize(n, f int) int { return (n + f - 1) / f }

// ShrinkPlanes box-averages c planes of h x w values (src) by an integer factor f into c
// planes of ShrunkSize(h, f) x ShrunkSize(w, f) (dst): each output value is the mean of the
// f x f block it covers, or of the part of the block inside the image at the right and
// bottom edges. The box filter is the area average, what a camera of f times coarser
// pixels would record, so a model trained on shrunk images sees what shrinking a new
// image at prediction gives it.
func ShrinkPlanes(dst, src []float32, c, h, w, f int) {
	hs, ws := ShrunkSize(h, f), ShrunkSize(w, f)
	for k := 0; k < c; k++ {
		in := src[k*h*w : (k+1)*h*w]
		out := dst[k*hs*ws : (k+1)*hs*ws]
		for Y := 0; Y < hs; Y++ {
			y0, y1 := Y*f, min(Y*f+f, h)
			row := out[Y*ws : (Y+1)*ws]
			clear(row)
			for y := y0; y < y1; y++ {
				line := in[y*w : (y+1)*w]
				for X := range row {
					var s float32
					for _, v := range line[X*f : min(X*f+f, w)] {
						s += v
					}
					row[X] += s
				}
			}
			for X := range row {
				row[X] /= float32((y1 - y0) * (min(X*f+f, w) - X*f))
			}
		}
	}
}

// ShrinkMask gives the class of each f x f block of an h x w mask: the class most of its
// pixels have (an ignored pixel's negative index counts as a class, so a block mostly void
// stays void), the smallest index on a tie, so the result does not depend on the order
// the block is read in. A majority keeps each class's area, where taking one pixel of
// the block would thin or drop what is narrower than the block.
func ShrinkMask(dst, src []int32, h, w, f int) {
	ws := ShrunkSize(w, f)
	var vals [64]int32 // a block's pixels; f is at most 8
	for Y := 0; Y < ShrunkSize(h, f); Y++ {
		for X := 0; X < ws; X++ {
			n := 0
			for y := Y * f; y < min(Y*f+f, h); y++ {
				n += copy(vals[n:], src[y*w+X*f:y*w+min(X*f+f, w)])
			}
			best, bestN := int32(0), 0
			for i := 0; i < n; i++ {
				v, k := vals[i], 0
				for _, u := range vals[:n] {
					if u == v {
						k++
					}
				}
				if k > bestN || k == bestN && v < best {
					best, bestN = v, k
				}
			}
			dst[Y*ws+X] = best
		}
	}
}

// MaxShrink is the largest factor Shrink takes: beyond 8 a block of 64 pixels holds too
// little of a 3x3 convolution's view to be worth training on.
const MaxShrink = 8

// Shrink gives s shrunk by an integer factor f (1 to MaxShrink): its image box-averaged
// (ShrinkPlanes) and its mask by majority (ShrinkMask). It returns s itself when f is 1.
func Shrink(s *Sample, f int) *Sample {
	if f <= 1 {
		return s
	}
	hs, ws := ShrunkSize(s.H, f), ShrunkSize(s.W, f)
	out := &Sample{C: s.C, H: hs, W: ws, Image: make([]float32, s.C*hs*ws)}
	ShrinkPlanes(out.Image, s.Image, s.C, s.H, s.W, f)
	if s.Mask != nil {
		out.Mask = make([]int32, hs*ws)
		ShrinkMask(out.Mask, s.Mask, s.H, s.W, f)
	}
	return out
}
