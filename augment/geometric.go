package augment

import (
	"math"
	"math/rand/v2"
)

// Geometric is a step that moves pixels. It is applied to an image and its mask alike,
// by composing itself into the Warp both are sampled through.
type Geometric interface {
	// Warp draws the step's random choices from r (whether it applies, and how) and
	// composes it into w.
	Warp(r *rand.Rand, w *Warp)
}

// applies draws whether a step with probability p runs.
func applies(r *rand.Rand, p float64) bool { return p > 0 && (p >= 1 || r.Float64() < p) }

// FlipH mirrors left and right, with probability P.
type FlipH struct{ P float64 }

// Warp implements Geometric.
func (f FlipH) Warp(r *rand.Rand, w *Warp) {
	if applies(r, f.P) {
		w.Compose([4]float64{-1, 0, 0, 1})
	}
}

// FlipV mirrors top and bottom, with probability P.
type FlipV struct{ P float64 }

// Warp implements Geometric.
func (f FlipV) Warp(r *rand.Rand, w *Warp) {
	if applies(r, f.P) {
		w.Compose([4]float64{1, 0, 0, -1})
	}
}

// Rot90 turns by 90, 180 or 270 degrees (chosen evenly), with probability P. Pixels land
// exactly on pixels: nothing is interpolated when the output is square.
type Rot90 struct{ P float64 }

// Warp implements Geometric.
func (o Rot90) Warp(r *rand.Rand, w *Warp) {
	if !applies(r, o.P) {
		return
	}
	switch r.IntN(3) {
	case 0:
		w.Compose([4]float64{0, 1, -1, 0})
	case 1:
		w.Compose([4]float64{-1, 0, 0, -1})
	case 2:
		w.Compose([4]float64{0, -1, 1, 0})
	}
}

// Rotate turns by an angle drawn evenly from [-MaxDegrees, MaxDegrees] about the
// centre, with probability P.
type Rotate struct {
	P          float64
	MaxDegrees float64
}

// Warp implements Geometric.
func (o Rotate) Warp(r *rand.Rand, w *Warp) {
	if !applies(r, o.P) {
		return
	}
	a := (2*r.Float64() - 1) * o.MaxDegrees * math.Pi / 180
	s, c := math.Sincos(a)
	w.Compose([4]float64{c, -s, s, c})
}

// Scale zooms about the centre by a factor drawn log-evenly from [Min, Max], with
// probability P: a factor above 1 enlarges the content (and shows less of it).
type Scale struct {
	P        float64
	Min, Max float64
}

// Warp implements Geometric.
func (o Scale) Warp(r *rand.Rand, w *Warp) {
	if !applies(r, o.P) || o.Min <= 0 || o.Max <= 0 {
		return
	}
	lo, hi := math.Log(o.Min), math.Log(o.Max)
	s := math.Exp(lo + r.Float64()*(hi-lo))
	w.Compose([4]float64{1 / s, 0, 0, 1 / s})
}

// Elastic is the elastic deformation of the U-Net paper (Ronneberger et al. 2015), with
// probability P: random displacement vectors on a coarse Grid x Grid grid, drawn from a
// Gaussian of standard deviation Sigma pixels, interpolated bicubically into a smooth
// per-pixel displacement. Zero Sigma and Grid mean 10 pixels on a 3x3 grid, as in the
// paper. It acts on the output's pixels, after the other geometric steps.
type Elastic struct {
	P     float64
	Sigma float64
	Grid  int
}

// Warp implements Geometric.
func (o Elastic) Warp(r *rand.Rand, w *Warp) {
	if !applies(r, o.P) {
		return
	}
	sigma, n := o.Sigma, o.Grid
	if sigma == 0 {
		sigma = 10
	}
	if n < 2 {
		n = 3
	}
	f := &Field{N: n, DX: make([]float64, n*n), DY: make([]float64, n*n)}
	for i := range f.DX {
		f.DX[i] = r.NormFloat64() * sigma
		f.DY[i] = r.NormFloat64() * sigma
	}
	w.Elastic = f
}
