package augment

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// blobs makes a w x h gray sample of smooth random blobs, and its mask: the image
// thresholded at 0.5 (class 1 above, 0 below).
func blobs(seed uint64, w, h int) *Sample {
	r := rand.New(rand.NewPCG(seed, 1))
	s := NewSample(1, h, w)
	type blob struct{ x, y, rad float64 }
	var bs []blob
	for range 12 {
		bs = append(bs, blob{r.Float64() * float64(w), r.Float64() * float64(h), 4 + r.Float64()*float64(w)/8})
	}
	for y := range h {
		for x := range w {
			v := 0.2
			for _, b := range bs {
				d := math.Hypot(float64(x)-b.x, float64(y)-b.y) / b.rad
				v += 0.6 * math.Exp(-d*d)
			}
			s.Image[y*w+x] = float32(min(v, 1))
		}
	}
	threshold(s.Image, s.Mask)
	return s
}

func threshold(img []float32, mask []int32) {
	for i, v := range img {
		mask[i] = 0
		if v > 0.5 {
			mask[i] = 1
		}
	}
}

// disagree counts the pixels where dst's mask differs from its image thresholded.
func disagree(dst *Sample) int {
	want := make([]int32, len(dst.Mask))
	threshold(dst.Image, want)
	n := 0
	for i := range want {
		if want[i] != dst.Mask[i] {
			n++
		}
	}
	return n
}

func TestGeometricKeepsMaskAligned(t *testing.T) {
	steps := []struct {
		name  string
		step  Geometric
		exact bool // pixels land on pixels: even bilinear sampling agrees everywhere
	}{
		{"crop", nil, true},
		{"flip h", FlipH{P: 1}, true},
		{"flip v", FlipV{P: 1}, true},
		{"rot90", Rot90{P: 1}, true},
		{"rotate", Rotate{P: 1, MaxDegrees: 45}, false},
		{"scale", Scale{P: 1, Min: 0.6, Max: 1.6}, false},
		{"elastic", Elastic{P: 1}, false},
		{"elastic, strong", Elastic{P: 1, Sigma: 25, Grid: 5}, false},
	}
	src := blobs(1, 96, 80)
	var fg int
	for _, c := range src.Mask {
		fg += int(c)
	}
	if fg < len(src.Mask)/10 || fg > len(src.Mask)*9/10 {
		t.Fatalf("test image has %d of %d pixels above threshold", fg, len(src.Mask))
	}
	for _, st := range steps {
		for _, interp := range []Interp{Nearest, Bilinear, Bicubic} {
			p := &Pipeline{Interp: interp}
			if st.step != nil {
				p.Geometric = []Geometric{st.step}
			}
			for seed := range uint64(8) {
				r := rand.New(rand.NewPCG(seed, 2))
				dst := NewSample(1, 64, 64)
				p.Apply(r, dst, src)
				n := disagree(dst)
				switch {
				case interp == Nearest || st.exact:
					if n != 0 {
						t.Errorf("%s, interp %d, seed %d: %d pixels disagree", st.name, interp, seed, n)
					}
				case n > len(dst.Mask)/50:
					// Interpolation blends values across an edge, so the thresholded image
					// may move an edge by a pixel; no more.
					t.Errorf("%s, interp %d, seed %d: %d pixels disagree", st.name, interp, seed, n)
				}
			}
		}
	}
	// Every geometric step together, and a crop larger than the source.
	p := Default()
	p.Intensity, p.Interp = nil, Nearest
	for seed := range uint64(20) {
		dst := NewSample(1, 128, 128)
		p.Apply(rand.New(rand.NewPCG(seed, 3)), dst, src)
		if n := disagree(dst); n != 0 {
			t.Errorf("default pipeline, seed %d: %d pixels disagree", seed, n)
		}
	}
}

func TestExactMoves(t *testing.T) {
	src := NewSample(1, 6, 6)
	for i := range src.Image {
		src.Image[i] = float32(i) / 36
	}
	at := func(s *Sample, x, y int) float32 { return s.Image[y*s.W+x] }
	tests := []struct {
		name string
		step Geometric
		from func(x, y int) (int, int) // the source pixel output (x, y) comes from
	}{
		{"flip h", FlipH{P: 1}, func(x, y int) (int, int) { return 5 - x, y }},
		{"flip v", FlipV{P: 1}, func(x, y int) (int, int) { return x, 5 - y }},
		{"none", FlipH{P: 0}, func(x, y int) (int, int) { return x, y }},
	}
	for _, tt := range tests {
		dst := NewSample(1, 6, 6)
		(&Pipeline{Geometric: []Geometric{tt.step}}).ApplyAt(rand.New(rand.NewPCG(1, 1)), dst, src, 0, 0)
		for y := range 6 {
			for x := range 6 {
				sx, sy := tt.from(x, y)
				if at(dst, x, y) != at(src, sx, sy) {
					t.Fatalf("%s: (%d,%d) = %g, want source (%d,%d) = %g", tt.name, x, y, at(dst, x, y), sx, sy, at(src, sx, sy))
				}
			}
		}
	}
	// A 90-degree turn of a square moves every pixel onto a pixel: same values, other places.
	dst := NewSample(1, 6, 6)
	(&Pipeline{Geometric: []Geometric{Rot90{P: 1}}}).ApplyAt(rand.New(rand.NewPCG(1, 1)), dst, src, 0, 0)
	a, b := slices.Clone(src.Image), slices.Clone(dst.Image)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) || slices.Equal(src.Image, dst.Image) {
		t.Errorf("rot90 did not permute the pixels")
	}
}

func TestReflectPadding(t *testing.T) {
	for _, tt := range []struct{ i, n, want int }{
		{0, 4, 0}, {3, 4, 3}, {-1, 4, 0}, {-2, 4, 1}, {4, 4, 3}, {5, 4, 2}, {8, 4, 0}, {-5, 4, 3}, {-9, 4, 0}, {7, 1, 0},
	} {
		if got := reflect(tt.i, tt.n); got != tt.want {
			t.Errorf("reflect(%d, %d) = %d, want %d", tt.i, tt.n, got, tt.want)
		}
	}
	// A 3x2 source cropped at (-2, -1) into 6x4: mirrored, edge pixels repeated.
	src := NewSample(1, 2, 3)
	for i := range src.Image {
		src.Image[i] = float32(i)
		src.Mask[i] = int32(i)
	}
	dst := NewSample(1, 4, 6)
	None().ApplyAt(nil, dst, src, -2, -1)
	want := []int32{
		1, 0, 0, 1, 2, 2,
		1, 0, 0, 1, 2, 2,
		4, 3, 3, 4, 5, 5,
		4, 3, 3, 4, 5, 5,
	}
	if !slices.Equal(dst.Mask, want) {
		t.Errorf("padded mask %v, want %v", dst.Mask, want)
	}
	for i, v := range dst.Image {
		if v != float32(want[i]) {
			t.Fatalf("padded image %v, want %v", dst.Image, want)
		}
	}
	// A random crop larger than the source holds all of it.
	for seed := range uint64(10) {
		dst := NewSample(1, 5, 7)
		None().Apply(rand.New(rand.NewPCG(seed, 0)), dst, src)
		for v := range int32(6) {
			if !slices.Contains(dst.Mask, v) {
				t.Fatalf("seed %d: crop %v lost pixel %d", seed, dst.Mask, v)
			}
		}
	}
}

func TestReproducible(t *testing.T) {
	src := blobs(3, 80, 80)
	run := func(seed uint64) *Sample {
		dst := NewSample(1, 64, 64)
		Default().Apply(rand.New(rand.NewPCG(seed, 0)), dst, src)
		return dst
	}
	a, b, c := run(5), run(5), run(6)
	if !slices.Equal(a.Image, b.Image) || !slices.Equal(a.Mask, b.Mask) {
		t.Error("same seed, different samples")
	}
	if slices.Equal(a.Image, c.Image) {
		t.Error("different seeds, same sample")
	}
}

func TestIntensityLeavesMask(t *testing.T) {
	src := blobs(4, 64, 64)
	steps := []Intensity{
		Brightness{P: 1, Max: 0.5}, Contrast{P: 1, Max: 0.5}, Gamma{P: 1, Max: 2},
		Noise{P: 1, Sigma: 0.2}, Blur{P: 1, MaxSigma: 2},
	}
	for _, st := range steps {
		p := &Pipeline{Intensity: []Intensity{st}}
		dst := NewSample(1, 64, 64)
		p.ApplyAt(rand.New(rand.NewPCG(9, 9)), dst, src, 0, 0)
		if !slices.Equal(dst.Mask, src.Mask) {
			t.Errorf("%T changed the mask", st)
		}
		if slices.Equal(dst.Image, src.Image) {
			t.Errorf("%T left the image as it was", st)
		}
		if slices.Min(dst.Image) < 0 || slices.Max(dst.Image) > 1 {
			t.Errorf("%T: values in [%g, %g]", st, slices.Min(dst.Image), slices.Max(dst.Image))
		}
	}
}

func TestBlurKeepsMean(t *testing.T) {
	s := blobs(5, 40, 30)
	var before float64
	for _, v := range s.Image {
		before += float64(v)
	}
	GaussianBlur(s, 1.5)
	var after float64
	for _, v := range s.Image {
		after += float64(v)
	}
	if math.Abs(before-after)/before > 0.01 {
		t.Errorf("sum %g before, %g after", before, after)
	}
}

func TestElasticField(t *testing.T) {
	f := &Field{W: 65, H: 33, N: 3, DX: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, DY: make([]float64, 9)}
	dx, dy := make([]float64, 65*33), make([]float64, 65*33)
	f.Displacements(dx, dy)
	// The field passes through its nodes: corners, edge middles and the centre.
	for i, at := range [][2]int{{0, 0}, {32, 0}, {64, 0}, {0, 16}, {32, 16}, {64, 16}, {0, 32}, {32, 32}, {64, 32}} {
		if got := dx[at[1]*65+at[0]]; math.Abs(got-f.DX[i]) > 1e-12 {
			t.Errorf("node %d at %v: %g, want %g", i, at, got, f.DX[i])
		}
	}
	// It is smooth: neighbours differ by little.
	for y := range 33 {
		for x := 1; x < 65; x++ {
			if d := math.Abs(dx[y*65+x] - dx[y*65+x-1]); d > 0.2 {
				t.Fatalf("jump of %g at (%d, %d)", d, x, y)
			}
		}
	}
	// The U-Net paper's draw: standard deviation 10 pixels at the nodes.
	var sum, sum2 float64
	r := rand.New(rand.NewPCG(1, 1))
	n := 0
	for range 500 {
		var w Warp
		Elastic{P: 1}.Warp(r, &w)
		for _, v := range w.Elastic.DX {
			sum += v
			sum2 += v * v
			n++
		}
	}
	if sd := math.Sqrt(sum2/float64(n) - (sum/float64(n))*(sum/float64(n))); math.Abs(sd-10) > 0.5 {
		t.Errorf("node displacement sd %g, want 10", sd)
	}
}

func TestPresets(t *testing.T) {
	for _, name := range Presets {
		if _, err := Preset(name); err != nil {
			t.Error(err)
		}
	}
	if _, err := Preset("wild"); err == nil {
		t.Error("unknown preset accepted")
	}
	if p, _ := Preset("none"); len(p.Geometric)+len(p.Intensity) != 0 {
		t.Error("none augments")
	}
}

func BenchmarkApply(b *testing.B) {
	src := NewSample(1, 512, 512)
	for i := range src.Image {
		src.Image[i] = float32(i%251) / 251
	}
	for _, bc := range []struct {
		name string
		p    *Pipeline
	}{
		{"crop", None()},
		{"default", Default()},
		{"rotate", &Pipeline{Geometric: []Geometric{Rotate{P: 1, MaxDegrees: 30}}}},
		{"rotate-bicubic", &Pipeline{Geometric: []Geometric{Rotate{P: 1, MaxDegrees: 30}}, Interp: Bicubic}},
		{"elastic", &Pipeline{Geometric: []Geometric{Elastic{P: 1}}}},
		{"noise", &Pipeline{Intensity: []Intensity{Noise{P: 1, Sigma: 0.1}}}},
		{"blur", &Pipeline{Intensity: []Intensity{Blur{P: 1, MaxSigma: 1.5}}}},
	} {
		b.Run(bc.name+"/256", func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			dst := NewSample(1, 256, 256)
			for b.Loop() {
				bc.p.Apply(r, dst, src)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// TestMirrors checks which mirror images each preset, and a few pipelines by hand, teach.
func TestMirrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		p      *Pipeline
		lr, tb bool
	}{
		{"default", Default(), true, true},
		{"light", Light(), true, false},
		{"none", None(), false, false},
		{"nil", nil, false, false},
		{"top-bottom alone", &Pipeline{Geometric: []Geometric{FlipV{P: 0.5}}}, false, true},
		{"top-bottom and turns", &Pipeline{Geometric: []Geometric{FlipV{P: 0.5}, Rot90{P: 0.5}}}, true, true},
		{"turns alone", &Pipeline{Geometric: []Geometric{Rot90{P: 0.5}}}, false, false},
		{"never flipped", &Pipeline{Geometric: []Geometric{FlipH{P: 0}, Rot90{P: 0.5}}}, false, false},
	} {
		if lr, tb := c.p.Mirrors(); lr != c.lr || tb != c.tb {
			t.Errorf("%s: mirrors left-right %v, top-bottom %v; want %v, %v", c.name, lr, tb, c.lr, c.tb)
		}
	}
}
