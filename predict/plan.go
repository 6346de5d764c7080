package predict

import (
	"math"

	"github.com/segment-dev/segment/unet"
)

// Plan is how an image is cut into tiles: tiles of TileW x TileH whose top-left corners are
// every combination of Xs and Ys. The image is mirrored into a margin up to a multiple of
// 2^depth, split evenly on both sides (PadFor), so the first start is negative when there
// is a margin, and the last tile may end beyond the image.
type Plan struct {
	TileW, TileH int
	Xs, Ys       []int
	// Batch is the number of tiles per pass of the network.
	Batch int
}

// Whole reports whether the image is run in one piece.
func (p Plan) Whole() bool { return len(p.Xs) == 1 && len(p.Ys) == 1 }

// plan cuts a w x h image for a model of cfg, as o asks (o has its defaults).
func plan(cfg unet.Config, o Options, w, h int) Plan {
	mul := cfg.Multiple()
	fullW, fullH := roundUp(w, mul), roundUp(h, mul)
	tile := roundUp(o.Tile, mul)
	if o.Tile == 0 {
		if NetBytes(cfg, 1, fullH, fullW) <= o.Memory { // a whole image is a batch of one
			tile = max(fullW, fullH)
		} else {
			tile = roundUp(DefaultTile, mul)
			for tile > mul && NetBytes(cfg, o.Batch, tile, tile) > o.Memory {
				tile -= mul
			}
		}
	}
	p := Plan{TileW: min(tile, fullW), TileH: min(tile, fullH)}
	p.Xs = positions(w, p.TileW, mul, o.Overlap)
	p.Ys = positions(h, p.TileH, mul, o.Overlap)
	p.Batch = min(o.Batch, len(p.Xs))
	return p
}

// positions gives the starts of the tiles of side t along a side of length n. The image is
// taken mirrored to a multiple of mul with the margin split evenly before and after
// (PadFor), and every start lies on that padded image's grid of mul pixels: a U-Net's
// 2^depth pooling makes its output equivariant to shifts of multiples of 2^depth only, so
// tiles on the grid see what the whole image would show them. The starts are
// evenly spaced from the first pixel of the padded side to the last tile's place, as few as
// keep neighbours overlapping by at least overlap*t (nnU-Net's sliding-window steps), each
// rounded to the grid.
func positions(n, t, mul int, overlap float64) []int {
	before, after := PadFor(n, mul)
	span := n + before + after - t // the last tile's start, from the padded side's start
	if span <= 0 {
		return []int{-before}
	}
	step := max(float64(t)*(1-overlap), 1)
	k := int(math.Ceil(float64(span)/step)) + 1
	out := make([]int, 0, k)
	for i := 0; i < k; i++ {
		s := int(math.Round(float64(i)*float64(span)/float64(k-1)/float64(mul))) * mul
		if len(out) == 0 || s-before > out[len(out)-1] {
			out = append(out, s-before)
		}
	}
	return out
}

// minWeight bounds the Gaussian weight from below, as nnU-Net replaces its zeros, so that
// every pixel of a tile counts for something and no sum of weights is zero.
const minWeight = 1e-6

// gaussian gives the blending weight of each position along a tile side of t: a Gaussian of
// sigma t/8 centred on the tile, 1 at its peak. A side with a single tile position needs no
// blending and gets weight 1 everywhere, so that a whole-image run is exactly the network's
// output.
func gaussian(t int, single bool) []float32 {
	g := make([]float32, t)
	if single {
		for i := range g {
			g[i] = 1
		}
		return g
	}
	sigma := float64(t) / 8
	c := float64(t-1) / 2
	for i := range g {
		d := (float64(i) - c) / sigma
		g[i] = float32(max(math.Exp(-d*d/2), minWeight))
	}
	return g
}

// weightSums gives, for each of the n pixels of a side, the sum of the weights g of the
// tiles starting at starts that cover it.
func weightSums(n int, starts []int, g []float32) []float32 {
	sum := make([]float64, n)
	for _, s := range starts {
		for i, v := range g {
			if p := s + i; p >= 0 && p < n {
				sum[p] += float64(v)
			}
		}
	}
	out := make([]float32, n)
	for i, v := range sum {
		out[i] = float32(v)
	}
	return out
}
