package predict

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"slices"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/samplemodel"
	"github.com/segment-dev/segment/unet"
)

// randomModel makes a small model with random weights and batch-norm statistics that are
// not the identity, so that every part of the graph matters.
func randomModel(t testing.TB, in, classes, depth, base int) *unet.Model {
	t.Helper()
	cfg := unet.Config{InChannels: in, Classes: classes, Depth: depth, BaseChannels: base, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
	m, err := unet.New(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(3))
	for _, p := range cfg.Params() {
		d := m.Data(p.Name)
		switch {
		case len(p.Name) > 12 && p.Name[len(p.Name)-12:] == "running_mean":
			for i := range d {
				d[i] = float32(rng.NormFloat64() * 0.1)
			}
		case len(p.Name) > 11 && p.Name[len(p.Name)-11:] == "running_var":
			for i := range d {
				d[i] = float32(0.5 + rng.Float64())
			}
		}
	}
	return m
}

// randomImage makes c planes of h x w with smooth structure and noise, in [0, 1].
func randomImage(c, h, w int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	x := make([]float32, c*h*w)
	for k := 0; k < c; k++ {
		for y := 0; y < h; y++ {
			for i := 0; i < w; i++ {
				v := 0.5 + 0.3*math.Sin(float64(i)/7+float64(k))*math.Cos(float64(y)/5) + 0.2*(rng.Float64()-0.5)
				x[(k*h+y)*w+i] = float32(v)
			}
		}
	}
	return x
}

// predictAll runs p over the planes and gathers every band into one probability array
// [planes, h, w], checking that the bands come in order and cover every row once.
func predictAll(t *testing.T, p *Predictor, x []float32, c, h, w int) []float32 {
	t.Helper()
	var out []float32
	next := 0
	planes := 0
	var bands [][]float32
	err := p.Predict(context.Background(), FromPlanes(x, c, h, w), func(b Band) error {
		if b.Y != next || b.Rows < 1 || b.Width != w {
			t.Fatalf("band at row %d of %d rows, width %d; want row %d, width %d", b.Y, b.Rows, b.Width, next, w)
		}
		next += b.Rows
		planes = b.Planes
		bands = append(bands, slices.Clone(b.Probs))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != h {
		t.Fatalf("bands cover %d rows of %d", next, h)
	}
	out = make([]float32, planes*h*w)
	y := 0
	for _, b := range bands {
		rows := len(b) / (planes * w)
		for k := 0; k < planes; k++ {
			copy(out[(k*h+y)*w:(k*h+y+rows)*w], b[k*rows*w:(k+1)*rows*w])
		}
		y += rows
	}
	return out
}

// whole gives the reference probabilities of an image, computed the long way: the image
// mirrored out to a multiple of 2^depth (split as PadFor says), one pass of an inference
// graph of that size, the logits cropped back and turned into probabilities.
func whole(t *testing.T, m *unet.Model, x []float32, h, w int) []float32 {
	t.Helper()
	cfg := m.Config
	top, bottom := PadFor(h, cfg.Multiple())
	left, right := PadFor(w, cfg.Multiple())
	ph, pw := h+top+bottom, w+left+right
	net, err := unet.NewInferNet(m, 1, ph, pw)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if err := net.Forward(reflectPad(x, cfg.InChannels, h, w, top, bottom, left, right)); err != nil {
		t.Fatal(err)
	}
	l := crop(net.Logits(), cfg.Classes, ph, pw, top, left, h, w)
	probabilities(l, 1, cfg.Classes)
	return l
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestPositionsByHand(t *testing.T) {
	for _, c := range []struct {
		n, t, mul int
		overlap   float64
		want      []int
	}{
		// 100 is padded to 112 (6 before): the last tile starts at 80 - 6.
		{100, 32, 16, 0.5, []int{-6, 10, 26, 42, 58, 74}}, // steps of 16
		{100, 32, 16, 0, []int{-6, 26, 42, 74}},           // 3 steps of 26.67, rounded to 16s: 32, 48, 80
		{64, 32, 16, 0, []int{0, 32}},
		{32, 32, 16, 0.5, []int{0}},
		{20, 32, 16, 0.5, []int{-6}}, // 12 pixels of margin, 6 before
		{21, 32, 16, 0.5, []int{-5}}, // 11: 5 before, 6 after, as PadFor
	} {
		if got := positions(c.n, c.t, c.mul, c.overlap); !slices.Equal(got, c.want) {
			t.Errorf("positions(%d, %d, %d, %g) = %v, want %v", c.n, c.t, c.mul, c.overlap, got, c.want)
		}
	}
}

func TestGaussian(t *testing.T) {
	g := gaussian(32, false)
	for i := range g {
		if g[i] != g[31-i] || g[i] < minWeight || g[i] > 1 {
			t.Fatalf("weight %d is %g (mirror %g)", i, g[i], g[31-i])
		}
	}
	// sigma = 4: 15.5 from the centre is 3.875 sigma, exp(-3.875^2/2).
	if want := math.Exp(-3.875 * 3.875 / 2); math.Abs(float64(g[0])-want) > 1e-7 {
		t.Errorf("edge weight %g, want %g", g[0], want)
	}
	// Every weight of several tile sizes, odd and even, against the formula sigma = t/8
	// written out (blendWeight), to float32 rounding (2^-24 relative).
	for _, n := range []int{16, 32, 48, 65, 256} {
		for i, v := range gaussian(n, false) {
			if want := blendWeight(n, i, false); math.Abs(float64(v)-want) > want*0x1p-23 {
				t.Fatalf("gaussian(%d)[%d] = %g, want %g (sigma %d/8)", n, i, v, want, n)
			}
		}
	}
	if one := gaussian(5, true); !slices.Equal(one, []float32{1, 1, 1, 1, 1}) {
		t.Errorf("single tile weights %v", one)
	}
	// Two tiles of 4 over 6 pixels: weights add where they overlap.
	s := weightSums(6, []int{0, 2}, []float32{1, 2, 3, 4})
	if !slices.Equal(s, []float32{1, 2, 4, 6, 3, 4}) {
		t.Errorf("weight sums %v", s)
	}
}

// TestWholeMatchesUnet: an image that fits the budget is run in one piece, and gives
// exactly the probabilities of the network run once on the padded image, for sizes that need padding and for several
// classes.
func TestWholeMatchesUnet(t *testing.T) {
	for _, c := range []struct{ in, classes, h, w int }{{1, 1, 37, 29}, {2, 3, 16, 40}} {
		m := randomModel(t, c.in, c.classes, 2, 4)
		x := randomImage(c.in, c.h, c.w, 1)
		p, err := New(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if pl := p.Plan(c.w, c.h); !pl.Whole() {
			t.Fatalf("%dx%d: plan %+v, want one tile", c.w, c.h, pl)
		}
		got := predictAll(t, p, x, c.in, c.h, c.w)
		p.Close()
		if d := maxDiff(got, whole(t, m, x, c.h, c.w)); d > 1e-6 {
			t.Errorf("%d classes, %dx%d: whole-image prediction differs from the padded network's by %g", c.classes, c.w, c.h, d)
		}
	}
}

// TestTiledMatchesWhole runs a 100x90 image in tiles and compares the probabilities with
// the whole-image prediction. A U-Net's output near a tile's border depends on the zero
// padding there, so they cannot be equal everywhere; tiledBound says by how much each pixel
// may differ, from the network's reach and the Gaussian weights alone. Everywhere else the
// tiles compute the same sums as the whole image; eps allows for float32 rounding where
// the convolutions of a tile and of the whole image sum in another order (a logit is a sum
// of a few hundred products of size about 1, 2^-24 relative each, and the sigmoid's slope
// is at most 1/4: well under 1e-5).
func TestTiledMatchesWhole(t *testing.T) {
	const h, w = 90, 100
	m := randomModel(t, 1, 1, 2, 4)
	x := randomImage(1, h, w, 2)
	ref := whole(t, m, x, h, w)
	for _, c := range []struct {
		tile    int
		overlap float64
		batch   int
	}{
		{32, 0.5, 1},
		{64, 0.25, 2},
		{64, 0.5, 1},
	} {
		p, err := New(m, Options{Tile: c.tile, Overlap: c.overlap, Batch: c.batch})
		if err != nil {
			t.Fatal(err)
		}
		pl := p.Plan(w, h)
		if pl.Whole() || pl.TileW != c.tile {
			t.Fatalf("plan %+v, want tiles of %d", pl, c.tile)
		}
		got := predictAll(t, p, x, 1, h, w)
		p.Close()
		name := fmt.Sprintf("tiles of %d, overlap %g", c.tile, c.overlap)
		dr := maxDiff(got, tiledReference(t, m, x, h, w, pl))
		if dr > refEps {
			t.Errorf("%s: differs from the plain tiling and blending by %g, more than float32 rounding (%g)", name, dr, refEps)
		}
		flips, mb := checkTiled(t, name, m.Config, pl, got, ref, h, w, 1e-5)
		t.Logf("%s: from the plain tiling %.3g; from the whole image %.4g at most, mean bound %.3g, %d pixels change class", name, dr, maxDiff(got, ref), mb, flips)
	}
}

// TestBatchSameAsOne: batching tiles, including a short last batch, changes nothing.
func TestBatchSameAsOne(t *testing.T) {
	const h, w = 40, 72
	m := randomModel(t, 1, 3, 2, 4)
	x := randomImage(1, h, w, 4)
	var outs [][]float32
	for _, batch := range []int{1, 3} {
		p, err := New(m, Options{Tile: 16, Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, predictAll(t, p, x, 1, h, w))
		p.Close()
	}
	if d := maxDiff(outs[0], outs[1]); d > 1e-5 {
		t.Errorf("batch 3 differs from batch 1 by %g", d)
	}
}

// TestTTA: with TTA the prediction is the mean of the flipped images' predictions, each
// flipped back, computed here the long way with whole: the four of all mirrors, or, for a
// model that learned the left-right mirror alone, the image and that mirror.
func TestTTA(t *testing.T) {
	const h, w = 24, 20
	m := randomModel(t, 1, 2, 2, 4)
	x := randomImage(1, h, w, 5)
	for _, c := range []struct {
		mirrors Mirrors
		flips   []flip
	}{
		{Mirrors{}, []flip{{}, {x: true}, {y: true}, {x: true, y: true}}},
		{Mirrors{LeftRight: true, TopBottom: true}, []flip{{}, {x: true}, {y: true}, {x: true, y: true}}},
		{Mirrors{LeftRight: true}, []flip{{}, {x: true}}},
		{Mirrors{TopBottom: true}, []flip{{}, {y: true}}},
	} {
		want := make([]float32, 2*h*w)
		for _, f := range c.flips {
			fx := make([]float32, len(x))
			flipPlanes(fx, x, 1, h, w, f)
			pr := whole(t, m, fx, h, w)
			back := make([]float32, len(pr))
			flipPlanes(back, pr, 2, h, w, f)
			for i, v := range back {
				want[i] += v / float32(len(c.flips))
			}
		}
		p, err := New(m, Options{TTA: true, Mirrors: c.mirrors})
		if err != nil {
			t.Fatal(err)
		}
		got := predictAll(t, p, x, 1, h, w)
		p.Close()
		if d := maxDiff(got, want); d > 1e-6 {
			t.Errorf("mirrors %+v: TTA differs from the mean of the flipped predictions by %g", c.mirrors, d)
		}
		if d := maxDiff(got, whole(t, m, x, h, w)); d == 0 {
			t.Errorf("mirrors %+v: TTA gave exactly the plain prediction: the flips did nothing", c.mirrors)
		}
	}
}

func TestFlipPlanes(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6} // 2 x 3
	dst := make([]float32, 6)
	for _, c := range []struct {
		f    flip
		want []float32
	}{
		{flip{x: true}, []float32{3, 2, 1, 6, 5, 4}},
		{flip{y: true}, []float32{4, 5, 6, 1, 2, 3}},
		{flip{x: true, y: true}, []float32{6, 5, 4, 3, 2, 1}},
	} {
		flipPlanes(dst, src, 1, 2, 3, c.f)
		if !slices.Equal(dst, c.want) {
			t.Errorf("%+v: %v, want %v", c.f, dst, c.want)
		}
	}
}

func TestDecide(t *testing.T) {
	bin := Band{Rows: 1, Width: 3, Planes: 1, Probs: []float32{0.2, 0.5, 0.7}, Threshold: 0.5}
	got := make([]uint8, 3)
	Decide(bin, got)
	if !slices.Equal(got, []uint8{0, 0, 1}) {
		t.Errorf("binary classes %v, want [0 0 1] (0.5 is not above 0.5)", got)
	}
	bin.Threshold = 0.1
	Decide(bin, got)
	if !slices.Equal(got, []uint8{1, 1, 1}) {
		t.Errorf("threshold 0.1: %v", got)
	}
	// Two pixels, three classes: (0.2, 0.5, 0.3) and (0.4, 0.2, 0.4).
	multi := Band{Rows: 1, Width: 2, Planes: 3, Probs: []float32{0.2, 0.4, 0.5, 0.2, 0.3, 0.4}}
	idx := make([]int32, 2)
	Decide(multi, idx)
	if !slices.Equal(idx, []int32{1, 0}) {
		t.Errorf("multi-class %v, want [1 0] (first on ties)", idx)
	}
}

// TestPlanMemory: the automatic tile follows the memory budget.
func TestPlanMemory(t *testing.T) {
	cfg := unet.Config{InChannels: 1, Classes: 1, Depth: 4, BaseChannels: 32, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
	o, _ := Options{}.withDefaults()
	if p := plan(cfg, o, 512, 512); !p.Whole() {
		t.Errorf("512x512, base 32, default budget: %+v, want whole (the ISBI model)", p)
	}
	if p := plan(cfg, o, 8192, 8192); p.TileW != DefaultTile || p.TileH != DefaultTile || len(p.Xs) != 43 {
		t.Errorf("8192x8192: tiles %dx%d, %d across; want %d, 43 across", p.TileW, p.TileH, len(p.Xs), DefaultTile)
	}
	o.Memory = NetBytes(cfg, 1, 128, 128)
	if p := plan(cfg, o, 512, 512); p.TileW != 128 {
		t.Errorf("budget of a 128 tile: tile %d", p.TileW)
	}
	o.Tile = 50 // rounded up to a multiple of 16
	if p := plan(cfg, o, 512, 100); p.TileW != 64 || p.TileH != 64 {
		t.Errorf("tile 50: %dx%d, want 64x64", p.TileW, p.TileH)
	}
	if _, err := (Options{Overlap: 1}).withDefaults(); err == nil {
		t.Error("overlap 1 accepted")
	}
	if _, err := (Options{Threshold: 1.5}).withDefaults(); err == nil {
		t.Error("threshold 1.5 accepted")
	}
}

// TestTiledMatchesWholeSampleModel compares tiled and whole predictions of the trained
// sample model on a 256x240 mosaic of the sample data's validation images, pixel by pixel
// against tiledBound (see TestTiledMatchesWhole for the bound and eps). Tiles of 64 lie
// within the depth-3 network's reach of a border almost everywhere, so there the bound
// allows nearly anything; from 128 on it holds most pixels to float rounding. Every pixel
// that changes class must be one the bound lets change.
func TestTiledMatchesWholeSampleModel(t *testing.T) {
	m, _, err := samplemodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	const h, w = 240, 256
	x := make([]float32, h*w)
	for k := 0; k < 4; k++ {
		im, err := dataset.ReadImage(filepath.Join("../sample_data/val/images", fmt.Sprintf("%04d.png", k)), 1, 0)
		if err != nil {
			// Committed data: a read error is a decoder regression, so it fails.
			t.Fatalf("committed sample data: %v", err)
		}
		pl := im.Planes()
		oy, ox := (k/2)*112, (k%2)*128
		for y := 0; y < min(128, h-oy); y++ {
			copy(x[(oy+y)*w+ox:(oy+y)*w+ox+128], pl[y*128:(y+1)*128])
		}
	}
	ref := whole(t, m, x, h, w)
	for _, c := range []struct {
		tile    int
		overlap float64
	}{{64, 0.25}, {96, 0.5}, {128, 0.25}, {160, 0.25}} {
		p, err := New(m, Options{Tile: c.tile, Overlap: c.overlap})
		if err != nil {
			t.Fatal(err)
		}
		pl := p.Plan(w, h)
		got := predictAll(t, p, x, 1, h, w)
		p.Close()
		name := fmt.Sprintf("sample model, tiles of %d, overlap %g", c.tile, c.overlap)
		tref := tiledReference(t, m, x, h, w, pl)
		dr := maxDiff(got, tref)
		if dr > refEps {
			t.Errorf("%s: differs from the plain tiling and blending by %g, more than float32 rounding (%g)", name, dr, refEps)
		}
		for i := range got {
			if (got[i] > 0.5) != (tref[i] > 0.5) && math.Abs(float64(tref[i])-0.5) > refEps {
				t.Errorf("%s: pixel (%d, %d) is %g, the plain tiling gives %g: a class change rounding cannot explain", name, i%w, i/w, got[i], tref[i])
			}
		}
		flips, mb := checkTiled(t, name, m.Config, pl, got, ref, h, w, 1e-5)
		t.Logf("%s: from the plain tiling %.3g; from the whole image %.4g at most, mean bound %.3g, %d of %d pixels change class", name, dr, maxDiff(got, ref), mb, flips, len(got))
	}
}

// reach bounds how far, in input pixels, a U-Net of cfg's depth sees from an output pixel:
// along one axis, two 3x3 convolutions at each encoder and decoder level l add 2*2^l each,
// its pooling and its 2x2 up-sampling 2^l each, the two at the bottom 2*2^depth, in all
// 8*2^depth - 6; 8*2^depth rounds that up. A tile's output farther than this from every
// border inside the image sees exactly what the whole image shows it.
func reach(cfg unet.Config) int { return 8 * cfg.Multiple() }

// blendWeight is the tile blending's weight at position i of a side of t, written from its
// definition (a Gaussian of sigma t/8 centred on the side, 1 at the peak, at least 1e-6;
// 1 everywhere when the side has one tile) rather than taken from the code.
func blendWeight(t, i int, single bool) float64 {
	if single {
		return 1
	}
	sigma := float64(t) / 8
	d := (float64(i) - float64(t-1)/2) / sigma
	return max(math.Exp(-d*d/2), 1e-6)
}

// tiledBound gives, for each pixel of an h x w image cut as pl for a model of cfg, the
// largest difference between the tiled and the whole-image probability that the blending
// allows. Each tile's probability there is the whole image's exactly when the pixel lies
// farther than reach from every border of the tile that is inside the padded image (an
// outer border is the whole image's border too), and differs by at most 1 otherwise; the
// blend is a weighted mean, so it differs by at most the share of the weight that such
// near tiles carry. It is an upper bound from the geometry and the formula alone.
func tiledBound(cfg unet.Config, pl Plan, h, w int) []float64 {
	r := reach(cfg)
	mul := cfg.Multiple()
	near := func(x, s, t, n int) bool {
		before, after := PadFor(n, mul)
		return (s > -before && x-s < r) || (s+t < n+after && s+t-1-x < r)
	}
	out := make([]float64, h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var all, bad float64
			for _, ty := range pl.Ys {
				if y < ty || y >= ty+pl.TileH {
					continue
				}
				for _, tx := range pl.Xs {
					if x < tx || x >= tx+pl.TileW {
						continue
					}
					wt := blendWeight(pl.TileH, y-ty, len(pl.Ys) == 1) * blendWeight(pl.TileW, x-tx, len(pl.Xs) == 1)
					all += wt
					if near(y, ty, pl.TileH, h) || near(x, tx, pl.TileW, w) {
						bad += wt
					}
				}
			}
			out[y*w+x] = bad / all
		}
	}
	return out
}

// checkTiled compares tiled probabilities got with the whole image's ref pixel by pixel
// against tiledBound plus eps, and checks that every pixel that changes class (across 0.5)
// is one the bound lets change. It gives the number of such flips and the mean bound.
func checkTiled(t *testing.T, name string, cfg unet.Config, pl Plan, got, ref []float32, h, w int, eps float64) (flips int, meanBound float64) {
	t.Helper()
	bound := tiledBound(cfg, pl, h, w)
	bad := 0
	for i := range got {
		d := math.Abs(float64(got[i] - ref[i]))
		meanBound += bound[i]
		if d > bound[i]+eps {
			if bad++; bad <= 3 {
				t.Errorf("%s: pixel (%d, %d) differs by %g, more than the blending allows (%g + %g)", name, i%w, i/w, d, bound[i], eps)
			}
		}
		if (got[i] > 0.5) != (ref[i] > 0.5) {
			flips++
			if math.Abs(float64(ref[i])-0.5) > bound[i]+eps {
				t.Errorf("%s: pixel (%d, %d) changes class (%g to %g) where the bound %g allows no change", name, i%w, i/w, ref[i], got[i], bound[i])
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d pixels past the bound in all", name, bad)
	}
	return flips, meanBound / float64(len(got))
}

// refEps bounds the difference between the Predictor and tiledReference. Both run the
// network on the same tiles, so only the blend differs: float32 sums of at most four
// weighted terms and a division against float64 ones, about six roundings of 2^-24
// relative on probabilities of at most 1, 3.6e-7; 1e-6 leaves room for a batch's own rounding.
const refEps = 1e-6

// tiledReference computes a tiled prediction the plain way, as the tests' independent
// reference for the Predictor's tiling and blending: the image mirrored out as PadFor
// says, each tile of pl cut from it and run through the network alone, its probabilities
// weighted by blendWeight (the Gaussian written from its definition) and summed in float64,
// each pixel divided by its sum of weights.
func tiledReference(t *testing.T, m *unet.Model, x []float32, h, w int, pl Plan) []float32 {
	t.Helper()
	cfg := m.Config
	top, bottom := PadFor(h, cfg.Multiple())
	left, right := PadFor(w, cfg.Multiple())
	ph, pw := h+top+bottom, w+left+right
	padded := reflectPad(x, cfg.InChannels, h, w, top, bottom, left, right)
	net, err := unet.NewInferNet(m, 1, pl.TileH, pl.TileW)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	k := cfg.Classes
	sum := make([]float64, k*h*w)
	wsum := make([]float64, h*w)
	th, tw := pl.TileH, pl.TileW
	for _, ty := range pl.Ys {
		for _, tx := range pl.Xs {
			if err := net.Forward(crop(padded, cfg.InChannels, ph, pw, ty+top, tx+left, th, tw)); err != nil {
				t.Fatal(err)
			}
			pr := slices.Clone(net.Logits())
			probabilities(pr, 1, k)
			for i := 0; i < th; i++ {
				y := ty + i
				if y < 0 || y >= h {
					continue
				}
				for j := 0; j < tw; j++ {
					xx := tx + j
					if xx < 0 || xx >= w {
						continue
					}
					wt := blendWeight(th, i, len(pl.Ys) == 1) * blendWeight(tw, j, len(pl.Xs) == 1)
					wsum[y*w+xx] += wt
					for c := 0; c < k; c++ {
						sum[(c*h+y)*w+xx] += wt * float64(pr[(c*th+i)*tw+j])
					}
				}
			}
		}
	}
	out := make([]float32, len(sum))
	for i, v := range sum {
		out[i] = float32(v / wsum[i%(h*w)])
	}
	return out
}
