package augment

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestShrinkPlanesByHand checks the area average on a 5x3 two-channel image shrunk by 2,
// whose right column and bottom row are half blocks, against values worked out by hand.
func TestShrinkPlanesByHand(t *testing.T) {
	// Channel 0 holds 0..14 in raster order; channel 1 holds 100 + the same.
	src := make([]float32, 2*3*5)
	for i := range 15 {
		src[i], src[15+i] = float32(i), float32(100+i)
	}
	dst := make([]float32, 2*2*3)
	ShrinkPlanes(dst, src, 2, 3, 5, 2)
	want := []float32{
		(0 + 1 + 5 + 6) / 4.0, (2 + 3 + 7 + 8) / 4.0, (4 + 9) / 2.0,
		(10 + 11) / 2.0, (12 + 13) / 2.0, 14,
	}
	for i, w := range want {
		if dst[i] != w || dst[6+i] != w+100 {
			t.Fatalf("value %d: got %g and %g, want %g and %g", i, dst[i], dst[6+i], w, w+100)
		}
	}
}

// TestShrinkPlanesMean checks, on random images of odd sizes and every factor, that each
// output value is the float64 mean of the pixels of its block, found here by walking the
// image and asking which block each pixel falls in.
func TestShrinkPlanesMean(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for f := 1; f <= MaxShrink; f++ {
		for _, size := range [][2]int{{1, 1}, {7, 5}, {16, 9}, {23, 31}} {
			w, h, c := size[0], size[1], 3
			src := make([]float32, c*h*w)
			for i := range src {
				src[i] = r.Float32()
			}
			ws, hs := ShrunkSize(w, f), ShrunkSize(h, f)
			dst := make([]float32, c*hs*ws)
			ShrinkPlanes(dst, src, c, h, w, f)
			sum, n := make([]float64, c*hs*ws), make([]float64, c*hs*ws)
			for k := range c {
				for y := range h {
					for x := range w {
						i := (k*hs+y/f)*ws + x/f
						sum[i] += float64(src[(k*h+y)*w+x])
						n[i]++
					}
				}
			}
			for i := range dst {
				if n[i] == 0 || math.Abs(float64(dst[i])-sum[i]/n[i]) > 1e-6 {
					t.Fatalf("f %d, %dx%d: value %d is %g, want the mean %g of %g pixels", f, w, h, i, dst[i], sum[i]/n[i], n[i])
				}
			}
		}
	}
}

// TestShrinkMask checks the majority vote: ties go to the smallest index, an ignored
// pixel (negative) votes like a class, and partial blocks vote with what they hold.
func TestShrinkMask(t *testing.T) {
	src := []int32{
		1, 1, 2, 2, 3,
		0, 1, 2, 0, 3,
		-1, -1, 4, 5, 2,
		-1, 2, 5, 4, 2,
		7, 7, 8, 9, 2,
	}
	dst := make([]int32, 9)
	ShrinkMask(dst, src, 5, 5, 2)
	// Blocks: {1,1,0,1} -> 1; {2,2,2,0} -> 2; {3,3} -> 3; {-1,-1,-1,2} -> -1;
	// {4,5,5,4} -> 4 (a tie); {2,2} -> 2; {7,7} -> 7; {8,9} -> 8 (a tie); {2} -> 2.
	want := []int32{1, 2, 3, -1, 4, 2, 7, 8, 2}
	if !slices.Equal(dst, want) {
		t.Fatalf("got %v, want %v", dst, want)
	}
}

// TestShrinkSample checks that Shrink shrinks image and mask together, keeps a factor of
// 1 as it is, and takes a sample without a mask.
func TestShrinkSample(t *testing.T) {
	s := blobs(5, 30, 20)
	if Shrink(s, 1) != s {
		t.Fatal("a factor of 1 made a new sample")
	}
	got := Shrink(s, 4)
	if got.C != 1 || got.W != 8 || got.H != 5 || len(got.Image) != 40 || len(got.Mask) != 40 {
		t.Fatalf("shrunk to %dx%dx%d with %d values and %d mask values, want 1x8x5 with 40 and 40", got.C, got.W, got.H, len(got.Image), len(got.Mask))
	}
	img, msk := make([]float32, 40), make([]int32, 40)
	ShrinkPlanes(img, s.Image, 1, 20, 30, 4)
	ShrinkMask(msk, s.Mask, 20, 30, 4)
	if !slices.Equal(got.Image, img) || !slices.Equal(got.Mask, msk) {
		t.Fatal("Shrink differs from ShrinkPlanes and ShrinkMask")
	}
	s.Mask = nil
	if got := Shrink(s, 2); got.Mask != nil || len(got.Image) != 15*10 {
		t.Fatalf("without a mask: mask %v, %d values", got.Mask, len(got.Image))
	}
}
