package predict

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/unet"
)

// tentUpsample is the reference the upsampler is checked against, written another way:
// each image pixel is the sum over all shrunk pixels of a tent weight max(0, 1 - |s - i|),
// where s is the pixel's position in shrunk pixels, (x+0.5)/f - 0.5, held inside [0, n-1]
// (PyTorch's interpolate, bilinear, align_corners false; checked against it once by hand
// for f 2, 3 and 4 to 2e-16).
func tentUpsample(low []float32, K, hs, ws, H, W, f int) []float64 {
	pos := func(x, n int) float64 {
		return min(max((float64(x)+0.5)/float64(f)-0.5, 0), float64(n-1))
	}
	out := make([]float64, K*H*W)
	for k := range K {
		for y := range H {
			sy := pos(y, hs)
			for x := range W {
				sx := pos(x, ws)
				v := 0.0
				for i := range hs {
					wy := max(0, 1-math.Abs(sy-float64(i)))
					for j := range ws {
						v += wy * max(0, 1-math.Abs(sx-float64(j))) * float64(low[(k*hs+i)*ws+j])
					}
				}
				out[(k*H+y)*W+x] = v
			}
		}
	}
	return out
}

// upsampleIn feeds low to an upsampler in bands of the given row counts (repeated to the
// end) and gathers what it emits, checking the bands come in order.
func upsampleIn(t *testing.T, low []float32, K, hs, ws, H, W, f int, rows []int) []float32 {
	t.Helper()
	out := make([]float32, K*H*W)
	next := 0
	u := newUpsampler(W, H, f, func(b Band) error {
		if b.Y != next || b.Width != W || b.Planes != K || b.Threshold != 0.25 {
			t.Fatalf("band at row %d, %d wide, %d planes, threshold %g; want row %d, %d wide, %d planes, 0.25", b.Y, b.Width, b.Planes, b.Threshold, next, W, K)
		}
		n := b.Rows * W
		for k := range K {
			copy(out[(k*H+b.Y)*W:(k*H+b.Y+b.Rows)*W], b.Probs[k*n:(k+1)*n])
		}
		next += b.Rows
		return nil
	})
	for y, i := 0, 0; y < hs; i++ {
		n := min(rows[i%len(rows)], hs-y)
		band := make([]float32, K*n*ws)
		for k := range K {
			copy(band[k*n*ws:], low[(k*hs+y)*ws:(k*hs+y+n)*ws])
		}
		if err := u.band(Band{Y: y, Rows: n, Width: ws, Planes: K, Probs: band, Threshold: 0.25}); err != nil {
			t.Fatal(err)
		}
		y += n
	}
	if err := u.finish(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUpsampler checks the scaling back against the tent reference, for every factor, odd
// sizes (a last block that is partial) and bands of one row, of random sizes and whole,
// which must all give the same floats.
func TestUpsampler(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for f := 2; f <= augment.MaxShrink; f++ {
		for _, size := range [][2]int{{1, 1}, {13, 11}, {16, 16}, {5, 29}} {
			W, H, K := size[0], size[1], 3
			ws, hs := augment.ShrunkSize(W, f), augment.ShrunkSize(H, f)
			low := make([]float32, K*hs*ws)
			for i := range low {
				low[i] = r.Float32()
			}
			ref := tentUpsample(low, K, hs, ws, H, W, f)
			whole := upsampleIn(t, low, K, hs, ws, H, W, f, []int{hs})
			for i, v := range whole {
				if math.Abs(float64(v)-ref[i]) > 1e-6 {
					t.Fatalf("f %d, %dx%d: value %d is %g, want %g", f, W, H, i, v, ref[i])
				}
			}
			for _, rows := range [][]int{{1}, {2, 1, 3}, {5}} {
				if got := upsampleIn(t, low, K, hs, ws, H, W, f, rows); !slices.Equal(got, whole) {
					t.Fatalf("f %d, %dx%d: bands of %v rows differ from one band", f, W, H, rows)
				}
			}
		}
	}
}

// TestUpsamplerRefusesGaps checks that a band out of order, or a prediction that stops
// short, is an error rather than a mask with rows missing.
func TestUpsamplerRefusesGaps(t *testing.T) {
	u := newUpsampler(8, 8, 2, func(Band) error { return nil })
	if err := u.band(Band{Y: 1, Rows: 1, Width: 4, Planes: 1, Probs: make([]float32, 4)}); err == nil {
		t.Fatal("a band starting at row 1 was taken first")
	}
	if err := u.band(Band{Y: 0, Rows: 2, Width: 4, Planes: 1, Probs: make([]float32, 8)}); err != nil {
		t.Fatal(err)
	}
	if err := u.finish(); err == nil {
		t.Fatal("finish took half an image")
	}
}

// TestShrinkSource checks that the shrunk source gives, band by band, what shrinking the
// whole image gives.
func TestShrinkSource(t *testing.T) {
	const c, h, w, f = 2, 23, 17, 3
	x := randomImage(c, h, w, 4)
	want := make([]float32, c*augment.ShrunkSize(h, f)*augment.ShrunkSize(w, f))
	augment.ShrinkPlanes(want, x, c, h, w, f)
	s := shrinkSource(FromPlanes(x, c, h, w), f)
	if s.Width != 6 || s.Height != 8 || s.Channels != c {
		t.Fatalf("shrunk source is %dx%dx%d, want 6x8x2", s.Width, s.Height, s.Channels)
	}
	got := make([]float32, len(want))
	for y := 0; y < s.Height; y += 3 {
		n := min(3, s.Height-y)
		band := make([]float32, c*n*s.Width)
		if err := s.Rows(band, y, n); err != nil {
			t.Fatal(err)
		}
		for k := range c {
			copy(got[(k*s.Height+y)*s.Width:], band[k*n*s.Width:(k+1)*n*s.Width])
		}
	}
	if !slices.Equal(got, want) {
		t.Fatal("the shrunk source's bands differ from the shrunk image")
	}
}

// TestPredictDownsample checks a Predictor with Downsample against its parts done by
// hand: the image shrunk, predicted whole at that size, and scaled back by the tent
// reference; for a binary and a multi-class model, whole and in tiles, and for an
// ensemble.
func TestPredictDownsample(t *testing.T) {
	const h, w, f = 45, 70, 2
	for _, classes := range []int{1, 4} {
		m := randomModel(t, 1, classes, 2, 4)
		x := randomImage(1, h, w, 6)
		hs, ws := augment.ShrunkSize(h, f), augment.ShrunkSize(w, f)
		small := make([]float32, hs*ws)
		augment.ShrinkPlanes(small, x, 1, h, w, f)
		K := max(classes, 1)
		ref := tentUpsample(whole(t, m, small, hs, ws), K, hs, ws, h, w, f)
		for _, o := range []Options{{}, {Tile: 16}} {
			// The reference of the shrunk image in tiles is the shrunk image predicted in
			// the same tiles.
			want := ref
			if o.Tile > 0 {
				q, err := New(m, o)
				if err != nil {
					t.Fatal(err)
				}
				want = tentUpsample(predictAll(t, q, small, 1, hs, ws), K, hs, ws, h, w, f)
				q.Close()
			}
			o.Downsample = f
			p, err := New(m, o)
			if err != nil {
				t.Fatal(err)
			}
			got := predictAll(t, p, x, 1, h, w)
			p.Close()
			if len(got) != len(want) {
				t.Fatalf("%d classes, %+v: %d values, want %d", classes, o, len(got), len(want))
			}
			for i, v := range got {
				if math.Abs(float64(v)-want[i]) > 1e-5 {
					t.Fatalf("%d classes, %+v: value %d is %g, want %g", classes, o, i, v, want[i])
				}
			}
		}
		// An ensemble of the model with itself is the model.
		p, err := NewEnsemble([]*unet.Model{m, m}, Options{Downsample: f})
		if err != nil {
			t.Fatal(err)
		}
		got := predictAll(t, p, x, 1, h, w)
		p.Close()
		for i, v := range got {
			if math.Abs(float64(v)-ref[i]) > 1e-5 {
				t.Fatalf("%d classes, ensemble: value %d is %g, want %g", classes, i, v, ref[i])
			}
		}
	}
}

// TestDownsampleOption checks the option's range.
func TestDownsampleOption(t *testing.T) {
	m := randomModel(t, 1, 1, 2, 4)
	for _, f := range []int{-1, augment.MaxShrink + 1} {
		if _, err := New(m, Options{Downsample: f}); err == nil {
			t.Errorf("downsample %d was taken", f)
		}
	}
	p, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Options().Downsample != 1 {
		t.Errorf("the default downsample is %d, want 1", p.Options().Downsample)
	}
	p.Close()
	// Tiles are planned on the shrunk image.
	if p, err = New(m, Options{Downsample: 3, Tile: 16}); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q, err := New(m, Options{Tile: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if got, want := p.Plan(100, 61), q.Plan(34, 21); !reflect.DeepEqual(got, want) {
		t.Errorf("plan of 100x61 shrunk 3 times: %+v, want that of 34x21, %+v", got, want)
	}
}
