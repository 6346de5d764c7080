package predict

import (
	"fmt"
	"math"

	"github.com/segment-dev/segment/augment"
)

// shrinkSource is src shrunk by the factor f as training shrank its images
// (augment.ShrinkPlanes), read a band at a time like src: a band of n shrunk rows reads
// the n*f rows under it.
func shrinkSource(src Source, f int) Source {
	W, H, C := src.Width, src.Height, src.Channels
	var full []float32 // the rows under a band, kept from one band to the next
	return Source{Width: augment.ShrunkSize(W, f), Height: augment.ShrunkSize(H, f), Channels: C,
		Rows: func(dst []float32, y0, n int) error {
			top, end := y0*f, min((y0+n)*f, H)
			full = resize(full, C*(end-top)*W)
			if err := src.Rows(full, top, end-top); err != nil {
				return err
			}
			augment.ShrinkPlanes(dst, full, C, end-top, W, f)
			return nil
		}}
}

// upsampler scales the bands of a prediction of an image shrunk f times back to the
// image's W x H, bilinearly (PyTorch's interpolate with align_corners false: the centre of
// shrunk pixel i lies at i*f + f/2 - 1/2, and the edges repeat), and hands them on in
// order. Probabilities are scaled, not classes, so that a class boundary falls between
// the shrunk pixels where the two classes' probabilities cross, as it would have had the
// network seen the image at that resolution. It keeps the shrunk rows it still needs: the
// last row of one band serves the first rows of the next.
type upsampler struct {
	W, H, f, ws, hs int
	emit            func(Band) error
	x0, x1          []int     // per image column: the two shrunk columns it reads
	wx              []float32 // and the weight of x1
	planes          int
	low             []float32 // shrunk rows lowTop..lowEnd-1, planes of them
	lowTop, lowEnd  int
	out             []float32
	next            int // the first image row not yet emitted
}

func newUpsampler(W, H, f int, emit func(Band) error) *upsampler {
	u := &upsampler{W: W, H: H, f: f, ws: augment.ShrunkSize(W, f), hs: augment.ShrunkSize(H, f), emit: emit}
	u.x0, u.x1, u.wx = make([]int, W), make([]int, W), make([]float32, W)
	for x := range W {
		u.x0[x], u.x1[x], u.wx[x] = sourceOf(x, f, u.ws)
	}
	return u
}

// sourceOf gives the two shrunk pixels (of n) image pixel x lies between, and the weight
// of the second.
func sourceOf(x, f, n int) (i0, i1 int, w float32) {
	s := max((float64(x)+0.5)/float64(f)-0.5, 0)
	i0 = min(int(math.Floor(s)), n-1)
	i1 = min(i0+1, n-1)
	if i1 == i0 {
		return i0, i1, 0
	}
	return i0, i1, float32(s - float64(i0))
}

// band takes the next band of the shrunk prediction and emits the image rows it completes.
func (u *upsampler) band(b Band) error {
	if b.Y != u.lowEnd || b.Width != u.ws || (u.planes != 0 && b.Planes != u.planes) {
		return fmt.Errorf("predict: shrunk band of rows %d+%d, %d wide, after row %d of %d", b.Y, b.Rows, b.Width, u.lowEnd, u.ws)
	}
	u.planes = b.Planes
	K, ws := b.Planes, u.ws
	// Append the band's rows to those kept.
	kept, rows := u.lowEnd-u.lowTop, b.Rows
	grown := make([]float32, K*(kept+rows)*ws)
	for k := 0; k < K; k++ {
		copy(grown[k*(kept+rows)*ws:], u.low[k*kept*ws:(k+1)*kept*ws])
		copy(grown[(k*(kept+rows)+kept)*ws:], b.Probs[k*rows*ws:(k+1)*rows*ws])
	}
	u.low, u.lowEnd = grown, u.lowEnd+rows
	// The image rows whose two shrunk rows are both here.
	end := u.next
	for end < u.H {
		if _, i1, _ := sourceOf(end, u.f, u.hs); i1 >= u.lowEnd {
			break
		}
		end++
	}
	if end > u.next {
		n := (end - u.next) * u.W
		u.out = resize(u.out, K*n)
		have := u.lowEnd - u.lowTop
		for y := u.next; y < end; y++ {
			i0, i1, wy := sourceOf(y, u.f, u.hs)
			for k := 0; k < K; k++ {
				plane := u.low[k*have*ws : (k+1)*have*ws]
				r0 := plane[(i0-u.lowTop)*ws : (i0-u.lowTop+1)*ws]
				r1 := plane[(i1-u.lowTop)*ws : (i1-u.lowTop+1)*ws]
				dst := u.out[k*n+(y-u.next)*u.W : k*n+(y-u.next+1)*u.W]
				for x := range dst {
					a, c, wx := u.x0[x], u.x1[x], u.wx[x]
					top := r0[a] + wx*(r0[c]-r0[a])
					bot := r1[a] + wx*(r1[c]-r1[a])
					dst[x] = top + wy*(bot-top)
				}
			}
		}
		if err := u.emit(Band{Y: u.next, Rows: end - u.next, Width: u.W, Planes: K, Probs: u.out[:K*n], Threshold: b.Threshold}); err != nil {
			return err
		}
		u.next = end
	}
	// Drop the shrunk rows no image row left needs.
	if u.next < u.H {
		first, _, _ := sourceOf(u.next, u.f, u.hs)
		if drop := first - u.lowTop; drop > 0 {
			have := u.lowEnd - u.lowTop
			left := make([]float32, K*(have-drop)*ws)
			for k := 0; k < K; k++ {
				copy(left[k*(have-drop)*ws:], u.low[(k*have+drop)*ws:(k+1)*have*ws])
			}
			u.low, u.lowTop = left, first
		}
	}
	return nil
}

// finish checks that the whole image was emitted.
func (u *upsampler) finish() error {
	if u.next != u.H {
		return fmt.Errorf("predict: %d of %d rows scaled back from the shrunk prediction", u.next, u.H)
	}
	return nil
}
